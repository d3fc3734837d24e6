// The online mode (`halo bench --online`): the same queries arrive one by one as a Poisson stream
// instead of all at once, at rising rates, and each system answers them as they come. Measured
// per system and rate: the throughput it sustains (queries / time from the first arrival to the
// last answer; once the offered rate is above a system's capacity this is its saturation
// throughput) and each query's latency from arrival to answer (p50, p99).
//
// Systems:
//   halo         a real `halo serve` (src/serve/server.ts) on 127.0.0.1 in this process, the
//                workload registered as YAML; each query is its own HTTP request. The server cuts
//                arrivals into mini-batches, each optimized and run on one shared Processor. The
//                HTTP round trip is counted against halo.
//   per-request  each query's workflow run node by node as it arrives, all LLM calls meeting in
//                one continuous-batching LlmWorker with a prefix cache (a vLLM-style server)
// Every run starts with a cold prefix cache; outputs must be identical to the batch run's.
import type { Row } from "../../src/plan/types.ts";
import { startServer } from "../../src/serve/server.ts";
import { Rng } from "../data/prng.ts";
import { workflowOptions, workflowYaml } from "../systems/plan.ts";
import { resultRows, StepSet, withColumn } from "../systems/steps.ts";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";
import { hashRows } from "./hash.ts";
import type { RunContext } from "./types.ts";

export interface OnlineMeasurement {
  name: string;
  offeredQps: number;
  /** Queries answered per second, first arrival to last answer. */
  throughputQps: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  outputHash: string;
  /** Mini-batches halo cut the stream into (undefined for per-request). */
  batches?: number;
  error?: string;
}

export interface OnlineResult {
  name: string;
  queries: number;
  /** Offered rates, rising (q/s). */
  rates: number[];
  /** Every system at every rate. */
  systems: OnlineMeasurement[];
  identicalOutputs: boolean | null;
  /** halo's saturation throughput (best over the rates) / the best baseline's. */
  throughputVsBest: number | null;
  /**
   * queries / the workload's floor (floor.ts), when known: the most queries per second any
   * system could sustain, since answering them all takes at least the floor's work.
   */
  floorQps: number | null;
}

/** A system's best throughput over the rates (its saturation throughput) and the latencies then. */
export function saturation(r: OnlineResult, name: string): OnlineMeasurement | undefined {
  return r.systems
    .filter((s) => s.name === name && !s.error)
    .sort((a, b) => b.throughputQps - a.throughputQps)[0];
}

/** Arrival offsets (ms from the start) of a Poisson stream: exponential gaps, mean 1000/qps. */
export function poissonArrivals(n: number, qps: number, seed: number): number[] {
  const rng = new Rng(seed).fork("online-arrivals");
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += rng.exponential(1000 / qps);
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

type Answer = (input: InputRow) => Promise<Row>;

/** Feeds the arrivals to `answer` and measures. */
async function drive(
  name: string,
  shape: WorkflowShape,
  inputs: readonly InputRow[],
  arrivals: number[],
  offeredQps: number,
  answer: Answer,
): Promise<OnlineMeasurement> {
  const start = performance.now();
  const latencies: number[] = [];
  const rows = await Promise.all(
    inputs.map(async (input, i) => {
      const wait = arrivals[i]! - (performance.now() - start);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const arrived = performance.now();
      const row = await answer(input);
      latencies.push(performance.now() - arrived);
      return row;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const final = resultRows(shape, rows);
  return {
    name,
    offeredQps,
    throughputQps: inputs.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    seconds,
    outputHash: hashRows(final, ["qid", shape.nodes.find((n) => n.id === shape.final)!.output]),
  };
}

export async function runOnline(
  shape: WorkflowShape,
  inputs: readonly InputRow[],
  ctx: RunContext,
  rates: readonly number[],
  floorSeconds?: number,
): Promise<OnlineResult> {
  const systems: OnlineMeasurement[] = [];
  const attempt = async (name: string, rate: number, run: () => Promise<OnlineMeasurement>) => {
    // Each system starts cold: every `halo serve` has a Processor (and prefix caches) of its own.
    try {
      systems.push(await run());
    } catch (err) {
      systems.push({
        name,
        offeredQps: rate,
        throughputQps: 0,
        p50Ms: 0,
        p99Ms: 0,
        seconds: 0,
        outputHash: "",
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };

  for (const rate of rates) {
    const arrivals = poissonArrivals(inputs.length, rate, ctx.seed);
    await attempt("halo", rate, async () => {
      // A fresh server per rate: a cold tool cache and shared worker, like the baseline's.
      const server = await startServer({
        port: 0,
        log: () => {},
        maxQueue: inputs.length,
        timeoutMs: 3_600_000,
        ...workflowOptions(ctx),
      });
      try {
        server.register(workflowYaml(shape, ctx.toolServerUrl), "bench");
        const url = `${server.url}/v1/workflows/bench/queries`;
        const m = await drive("halo", shape, inputs, arrivals, rate, async (input) => {
          const res = await fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ query: input }),
          });
          const body = (await res.json()) as {
            results?: { outcome: string; row?: Row; error?: string }[];
            error?: { message: string };
          };
          const a = body.results?.[0];
          if (!res.ok || !a || a.outcome !== "ok")
            throw new Error(`query ${input.qid}: ${a?.error ?? body.error?.message ?? res.status}`);
          return a.row!;
        });
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const batches = Number(/halo_batches_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
        return { ...m, batches };
      } finally {
        await server.close(1_000);
      }
    });

    await attempt("per-request", rate, async () => {
      const set = new StepSet(shape, inputs, ctx);
      return drive("per-request", shape, inputs, arrivals, rate, async (input) => {
        let row: Row = { ...input };
        for (const step of set.steps)
          row = withColumn(row, step.output, await step.run(row, ctx.signal));
        return row;
      });
    });
  }

  const ok = systems.filter((s) => !s.error);
  const identicalOutputs =
    ok.length >= 2 ? ok.every((s) => s.outputHash === ok[0]!.outputHash) : null;
  const partial: OnlineResult = {
    name: shape.name,
    queries: inputs.length,
    rates: [...rates],
    systems,
    identicalOutputs,
    throughputVsBest: null,
    floorQps: floorSeconds ? inputs.length / floorSeconds : null,
  };
  const halo = saturation(partial, "halo");
  const best = saturation(partial, "per-request");
  partial.throughputVsBest = halo && best ? halo.throughputQps / best.throughputQps : null;
  return partial;
}

export function formatOnlineTable(r: OnlineResult): string {
  const lines = [
    `${r.name} online: ${r.queries} queries, Poisson arrivals at ${r.rates.map((x) => x.toFixed(2)).join(", ")} q/s offered`,
    `  ${"system".padEnd(12)} ${"offered".padStart(8)} ${"q/s".padStart(7)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)} ${"batches".padStart(8)}`,
  ];
  for (const s of r.systems)
    lines.push(
      s.error
        ? `  ${s.name.padEnd(12)} ${s.offeredQps.toFixed(2).padStart(8)} failed: ${s.error}`
        : `  ${s.name.padEnd(12)} ${s.offeredQps.toFixed(2).padStart(8)} ${s.throughputQps.toFixed(2).padStart(7)} ${s.p50Ms.toFixed(0).padStart(9)} ${s.p99Ms.toFixed(0).padStart(9)} ${String(s.batches ?? "-").padStart(8)}`,
    );
  lines.push(
    `  outputs identical: ${r.identicalOutputs === null ? "not checked" : r.identicalOutputs ? "yes" : "NO"}; halo saturation throughput vs best baseline: ${r.throughputVsBest === null ? "n/a" : `${r.throughputVsBest.toFixed(2)}x`}`,
  );
  if (r.floorQps !== null) {
    const sat = [...new Set(r.systems.map((s) => s.name))].flatMap((name) => {
      const top = saturation(r, name);
      return top ? [`${name} ${((top.throughputQps / r.floorQps!) * 100).toFixed(0)}%`] : [];
    });
    lines.push(
      `  floor: at most ${r.floorQps.toFixed(2)} q/s (queries / the batch floor); saturation reached: ${sat.join(", ")}`,
    );
  }
  return lines.join("\n");
}
