// `halo bench estimate [--queries 16] [--workloads a,b]`: `lf.estimate()` against the run, on the
// six bench workloads and the shipped model (issue 20's accuracy aims: prompt tokens within 5%,
// generated tokens within 25% on nodes with choices or a schema, seconds within 35% median).
// Per workload: the plan is estimated, then collected (no reuse, so nothing is answered from
// kept results) with the same options, in one process after the models are loaded and profiled;
// the estimate's figures are compared with `halo.lastRun`'s. docs/cost-model.md reads them.
import { loadavg } from "node:os";
import { halo } from "../../src/index.ts";
import type { PlanEstimate } from "../../src/frame/plan-estimate.ts";
import { generateDataset, type DatasetName } from "../data/index.ts";
import { openLoadedDb } from "../data/load.ts";
import { spawnToolServer } from "../http-tools/spawn.ts";
import { configureModels, warmModels } from "../systems/models.ts";
import { buildFrame } from "../systems/plan.ts";
import { getWorkload } from "../workloads/index.ts";
import { generateInputs } from "../workloads/inputs.ts";

export interface EstimateAccuracyOptions {
  workloads: string[];
  queries: number;
  seed: number;
}

export interface WorkloadAccuracy {
  workload: string;
  prompt: { estimated: number; actual: number; error: number };
  /** Over the LLM nodes with choices or a schema; undefined when the workload has none. */
  constrainedDecode?: { estimated: number; actual: number; error: number };
  /** Over every LLM node (maxTokens bounds the free-text ones before a first run). */
  decode: { estimated: number; actual: number; error: number };
  seconds: { estimated: number; actual: number; error: number };
}

const relError = (est: number, actual: number) =>
  actual === 0 ? (est === 0 ? 0 : Infinity) : Math.abs(est - actual) / actual;
const pair = (estimated: number, actual: number) => ({
  estimated,
  actual,
  error: relError(estimated, actual),
});

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Compares one estimate with the run just made (`halo.lastRun`). */
function compare(
  workload: string,
  estimate: PlanEstimate,
  constrained: Set<string>,
): WorkloadAccuracy {
  const run = halo.lastRun!;
  let prompt = 0;
  let decode = 0;
  let estDecode = 0;
  let cDecode = 0;
  let cEst = 0;
  for (const n of estimate.nodes) {
    if (n.kind !== "LlmCall") continue;
    const actual = run.nodes.find((s) => s.nodeId === n.id);
    if (!actual || actual.label !== n.label)
      throw new Error(`${workload}: node #${n.id} ${n.label} of the estimate is not in the run`);
    prompt += actual.prefillTokens + actual.cachedTokens;
    decode += actual.decodeTokens;
    estDecode += n.decodeTokens;
    if (constrained.has(n.label)) {
      cDecode += actual.decodeTokens;
      cEst += n.decodeTokens;
    }
  }
  return {
    workload,
    prompt: pair(estimate.promptTokens, prompt),
    ...(constrained.size > 0 && { constrainedDecode: pair(cEst, cDecode) }),
    decode: pair(estDecode, decode),
    seconds: pair(estimate.seconds, run.wallMs / 1000),
  };
}

export async function runPlanEstimateAccuracy(
  options: EstimateAccuracyOptions,
): Promise<{ lines: string[]; results: WorkloadAccuracy[][] }> {
  const shapes = options.workloads.map(getWorkload);
  configureModels("tiny");
  const datasets = [...new Set(shapes.map((s) => s.dataset))] as DatasetName[];
  const db = await openLoadedDb(
    datasets.map((d) => generateDataset(d, { seed: options.seed, scale: d === "tpch" ? 0.01 : 1 })),
  );
  const server = await spawnToolServer({
    seed: options.seed,
    datasets,
    fastMeanMs: 30,
    slowMeanMs: 60,
    tpchScale: 0.01,
  });
  const lines: string[] = [];
  // Pass 1: each plan's first estimate in the process (nothing of it has run). Pass 2: the same
  // plans again, after each ran once: the cost model has learned their prompt and answer lengths.
  const passes: WorkloadAccuracy[][] = [[], []];
  try {
    lines.push(`models loaded and profiled: ${(await warmModels()).toFixed(2)} s`);
    for (const [pass, results] of passes.entries()) {
      lines.push(pass === 0 ? "first estimate of each plan:" : "after each plan ran once:");
      for (const shape of shapes) {
        const inputs = generateInputs(shape, { queries: options.queries, seed: options.seed });
        const env = { instance: db.instance, toolServerUrl: server.url };
        const { frame } = buildFrame(shape, inputs.rows, env);
        const opts = { reuse: false, progress: false } as const;
        const estimate = await frame.estimate(opts);
        await frame.collectRows(opts);
        const constrained = new Set(
          shape.nodes.filter((n) => n.type === "llm" && n.choices).map((n) => n.id),
        );
        const r = compare(shape.name, estimate, constrained);
        results.push(r);
        lines.push(`  ${formatAccuracy(r)}; load ${loadavg()[0]!.toFixed(1)}`);
      }
      lines.push(`  ${formatMedians(results)}`);
    }
    lines.push(...(await schemaNodes(options.queries)));
  } finally {
    await server.close();
    db.connection.closeSync();
    db.instance.closeSync();
  }
  return { lines, results: passes };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function formatAccuracy(r: WorkloadAccuracy): string {
  const c = r.constrainedDecode;
  return (
    `${r.workload}: prompt ${r.prompt.estimated.toFixed(0)} est / ${r.prompt.actual} actual (${pct(r.prompt.error)}); ` +
    `decode with choices ${c ? `${c.estimated.toFixed(0)} / ${c.actual} (${pct(c.error)})` : "none"}; ` +
    `all decode ${r.decode.estimated.toFixed(0)} / ${r.decode.actual} (${pct(r.decode.error)}); ` +
    `seconds ${r.seconds.estimated.toFixed(2)} / ${r.seconds.actual.toFixed(2)} (${pct(r.seconds.error)})`
  );
}

function formatMedians(results: WorkloadAccuracy[]): string {
  const med = (pick: (r: WorkloadAccuracy) => number | undefined) => {
    const xs = results.map(pick).filter((x): x is number => x !== undefined);
    return xs.length ? pct(median(xs)) : "n/a";
  };
  return `median error: prompt ${med((r) => r.prompt.error)} (aim 5%), decode with choices ${med((r) => r.constrainedDecode?.error)} (aim 25%), seconds ${med((r) => r.seconds.error)} (aim 35%); all decode ${med((r) => r.decode.error)}`;
}

/**
 * The six workloads have no schema node: three schemas (an object of a boolean and a bounded
 * integer, a bounded string, an enum) over review-like rows, first estimate against the run.
 */
async function schemaNodes(queries: number): Promise<string[]> {
  const rows = Array.from({ length: queries }, (_, i) => ({
    id: i,
    text: `Order ${i} arrived ${i % 3 === 0 ? "late" : "on time"} and the box was ${i % 2 ? "damaged" : "fine"}.`,
  }));
  const schemas: [string, Record<string, unknown>][] = [
    [
      "object",
      {
        type: "object",
        properties: {
          ok: { type: "boolean" },
          score: { type: "integer", minimum: 0, maximum: 10 },
        },
        required: ["ok", "score"],
      },
    ],
    [
      "string",
      {
        type: "object",
        properties: { reason: { type: "string", maxLength: 40 } },
        required: ["reason"],
      },
    ],
    ["enum", { type: "string", enum: ["low", "medium", "high"] }],
  ];
  const out = ["schema nodes (first estimate):"];
  const errors: number[] = [];
  for (const [name, schema] of schemas) {
    const lf = halo
      .lazy(rows)
      .agent({ prompt: `Judge (${name}): {{text}}`, output: "judged", schema, maxTokens: 64 });
    const opts = { reuse: false, progress: false } as const;
    const estimate = await lf.estimate(opts);
    await lf.collectRows(opts);
    const actual = halo.lastRun!.nodes.find((n) => n.kind === "LlmCall")!.decodeTokens;
    const error = relError(estimate.decodeTokens, actual);
    errors.push(error);
    out.push(
      `  ${name}: decode ${estimate.decodeTokens.toFixed(0)} est / ${actual} actual (${pct(error)})`,
    );
  }
  out.push(`  median error ${pct(median(errors))} (aim 25%)`);
  return out;
}
