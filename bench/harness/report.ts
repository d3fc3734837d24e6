// The per-workload table and the `--json` document (issue 9's format).
import { availableParallelism, cpus, platform, release, totalmem } from "node:os";
import type { BenchJson, MeasuredFloor, SystemMeasurement, WorkloadResult } from "./types.ts";
import { floorViolations } from "./floor.ts";
import { formatGap } from "./gap-profile.ts";
import { saturation, type OnlineResult } from "./run-online.ts";

export function machineInfo(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()}`,
    node: process.version,
    accelerator: null,
  };
}

function hitRate(m: SystemMeasurement): number | undefined {
  const c = m.counters;
  if (c.cacheHitRate !== undefined) return c.cacheHitRate;
  if (
    c.cachedTokens !== undefined &&
    c.prefillTokens !== undefined &&
    c.cachedTokens + c.prefillTokens > 0
  )
    return c.cachedTokens / (c.cachedTokens + c.prefillTokens);
  return undefined;
}

const dash = "-";
const fixed = (x: number | undefined, d: number) => (x === undefined ? dash : x.toFixed(d));
const int = (x: number | undefined) => (x === undefined ? dash : String(Math.round(x)));
const pct = (x: number | undefined) => (x === undefined ? dash : `${(x * 100).toFixed(0)}%`);

function renderGrid(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The table for one workload, as printed by `halo bench`. */
export function formatWorkloadTable(r: WorkloadResult): string {
  const halo = r.systems.find((m) => m.role === "halo" && !m.error);
  const header = [
    "system",
    "seconds",
    "x floor",
    "halo speedup",
    "prefill tok",
    "decode tok",
    "hit rate",
    "tools exec/req",
    "planner ms",
    "cpu busy",
    "gpu busy",
    "peak RSS MB",
    "output",
  ];
  const rows = r.systems.map((m) => [
    m.name,
    m.error ? "failed" : fixed(m.seconds, 2),
    r.floor && !m.error ? `${(m.seconds / r.floor.seconds).toFixed(2)}x` : dash,
    halo && m.role !== "halo" && !m.error ? `${(m.seconds / halo.seconds).toFixed(2)}x` : dash,
    int(m.counters.prefillTokens),
    int(m.counters.decodeTokens),
    pct(hitRate(m)),
    `${m.toolCallsExecuted}/${r.toolCallsRequested}`,
    fixed(m.counters.plannerMs, 0),
    pct(m.cpuBusy),
    pct(m.counters.gpuBusy),
    fixed(m.peakRssMb, 0),
    m.outputHash ? m.outputHash.slice(0, 10) : dash,
  ]);
  const lines = [
    `${r.name}: ${r.queries} queries, tool-call repeat rate ${(r.repeatRate * 100).toFixed(0)}%, ${r.counts.llm} LLM / ${r.counts.tools} tool nodes`,
    renderGrid(header, rows),
  ];
  if (r.floor) lines.push(formatFloor(r.floor));
  for (const m of r.systems) if (m.gap && !m.error) lines.push(formatGap(m.name, m.gap));
  if (r.speedupVsBest !== null)
    lines.push(
      `speedup of halo over the best baseline (${r.bestBaseline}): ${r.speedupVsBest.toFixed(2)}x`,
    );
  lines.push(
    r.identicalOutputs === null
      ? "outputs identical: not checked (fewer than two systems completed)"
      : r.identicalOutputs
        ? `outputs identical: yes, all ${r.systems.length} systems (sha256 ${r.systems[0]!.outputHash.slice(0, 16)})`
        : `outputs identical: NO (${r.systems.map((m) => `${m.name} ${m.outputHash.slice(0, 10) || "failed"}`).join(", ")})`,
  );
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

const thousands = (n: number) => Math.round(n).toLocaleString("en-US");
const perSecond = (msPerToken: number) =>
  msPerToken > 0 ? `${thousands(1000 / msPerToken)} tok/s` : "no rate";

/** The floor's line under a workload's table: its two terms and what each is made of. */
export function formatFloor(f: MeasuredFloor): string {
  const models = f.models.map(
    (m) =>
      `prefill ${thousands(m.prefillTokens)} tok at ${perSecond(m.rates.prefill.msPerToken)} (${m.rates.prefill.from}) + ` +
      `decode ${thousands(m.decodeTokens)} tok at ${perSecond(m.rates.decode.msPerToken)} (${m.rates.decode.from})`,
  );
  const path = f.criticalPath.steps.map((s) => `${s.node} ${s.ms.toFixed(0)} ms`).join(" > ");
  const c = f.counts;
  return [
    `floor: ${f.seconds.toFixed(3)} s, set by ${f.bound === "llm" ? "the LLM work" : "the tool path"}: LLM ${f.llmSeconds.toFixed(3)} s, tools ${f.toolSeconds.toFixed(3)} s`,
    ...models.map((m) => `  LLM: ${m}`),
    `  tools: longest path (query ${String(f.criticalPath.qid)}): ${path || "none"}`,
    `  distinct calls: LLM ${c.distinctLlm}/${c.llm}, tools ${c.distinctTools}/${c.tools}; reference pass ${f.referencePassSeconds.toFixed(2)} s (untimed)`,
  ].join("\n");
}

/** The floor in the JSON: its terms and what they are made of. */
function floorJson(f: MeasuredFloor): NonNullable<BenchJson["workloads"][number]["floor"]> {
  return {
    llmSeconds: f.llmSeconds,
    toolSeconds: f.toolSeconds,
    bound: f.bound,
    prefillTokens: f.models.reduce((n, m) => n + m.prefillTokens, 0),
    decodeTokens: f.models.reduce((n, m) => n + m.decodeTokens, 0),
    models: f.models.map((m) => ({
      modelDir: m.modelDir,
      prefillTokens: m.prefillTokens,
      decodeTokens: m.decodeTokens,
      prefillTokensPerSecond:
        m.rates.prefill.msPerToken > 0 ? 1000 / m.rates.prefill.msPerToken : null,
      prefillRateFrom: m.rates.prefill.from,
      decodeTokensPerSecond:
        m.rates.decode.msPerToken > 0 ? 1000 / m.rates.decode.msPerToken : null,
      decodeRateFrom: m.rates.decode.from,
      seconds: m.seconds,
    })),
    criticalPath: f.criticalPath.steps,
    calls: { ...f.counts },
    referencePassSeconds: f.referencePassSeconds,
  };
}

export function toBenchJson(
  results: readonly WorkloadResult[],
  notes: readonly string[] = [],
  machine = machineInfo(),
  online: readonly OnlineResult[] = [],
): BenchJson {
  return {
    machine,
    workloads: results.map((r) => ({
      name: r.name,
      queries: r.queries,
      identicalOutputs: r.identicalOutputs,
      systems: Object.fromEntries(
        r.systems
          .filter((m) => !m.error)
          .map((m) => [
            m.name,
            {
              seconds: m.seconds,
              prefillTokens: m.counters.prefillTokens ?? null,
              decodeTokens: m.counters.decodeTokens ?? null,
              toolCalls: m.toolCallsExecuted,
              peakRssMb: Math.round(m.peakRssMb * 10) / 10,
              vsFloor: r.floor ? m.seconds / r.floor.seconds : null,
              gap: m.gap ?? null,
            },
          ]),
      ),
      speedupVsBest: r.speedupVsBest,
      floorSeconds: r.floor?.seconds ?? null,
      floor: r.floor ? floorJson(r.floor) : null,
    })),
    online: online.map((o) => ({
      name: o.name,
      queries: o.queries,
      offeredQps: o.rates,
      identicalOutputs: o.identicalOutputs,
      // Per system: its saturation throughput (best over the rates) and the latencies at that
      // rate, plus every rate's figures.
      systems: Object.fromEntries(
        [...new Set(o.systems.map((m) => m.name))].flatMap((name) => {
          const top = saturation(o, name);
          if (!top) return [];
          return [
            [
              name,
              {
                saturationQps: top.throughputQps,
                p50Ms: top.p50Ms,
                p99Ms: top.p99Ms,
                batches: top.batches ?? null,
                byRate: o.systems
                  .filter((m) => m.name === name && !m.error)
                  .map((m) => ({
                    offeredQps: m.offeredQps,
                    qps: m.throughputQps,
                    p50Ms: m.p50Ms,
                    p99Ms: m.p99Ms,
                  })),
              },
            ],
          ];
        }),
      ),
      throughputVsBest: o.throughputVsBest,
      floorQps: o.floorQps,
    })),
    notes: [...notes, ...results.flatMap((r) => r.notes.map((n) => `${r.name}: ${n}`))],
  };
}

/**
 * Why a run fails (`halo bench` exits 1), one line each: outputs that differ between systems, a
 * system that failed, a system below its workload's floor. Empty when the run passes.
 */
export function runFailures(results: readonly WorkloadResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.identicalOutputs === false) out.push(`${r.name}: outputs differ between systems`);
    if (r.floorError) out.push(`${r.name}: no floor, its reference pass failed: ${r.floorError}`);
    for (const m of r.systems) if (m.error) out.push(`${m.name} failed on ${r.name}: ${m.error}`);
  }
  return [...out, ...floorViolations(results)];
}
