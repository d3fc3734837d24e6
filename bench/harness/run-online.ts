// The online mode (`halo bench --online`): the same queries arrive one by one as a Poisson stream
// instead of all at once, and each system answers them as they come. Measured per system: the
// throughput it sustains (queries / time from the first arrival to the last answer; with the
// offered rate above a system's capacity this is its saturation throughput) and the latency of
// each query from its arrival to its answer (p50, p99).
//
// Systems:
//   halo         halo serve's streaming session in process (src/serve/workflow-session.ts):
//                arrivals cut into mini-batches, each optimized and run on one shared Processor
//   per-request  each query's workflow run node by node as it arrives, all LLM calls meeting in
//                one continuous-batching LlmWorker with a prefix cache (a vLLM-style server)
// Both start with a cold prefix cache; outputs must be identical to the batch run's.
import { resetSharedPrefixCaches } from "../../src/processor/llm-submitters.ts";
import { PipelineExecutor } from "../../src/processor/pipeline-executor.ts";
import { ServerMetrics } from "../../src/serve/metrics.ts";
import { BoundedToolCache } from "../../src/serve/tool-result-cache.ts";
import { WorkflowSession } from "../../src/serve/workflow-session.ts";
import type { Row } from "../../src/plan/types.ts";
import { Rng } from "../data/prng.ts";
import { buildWorkflow } from "../systems/plan.ts";
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
  offeredQps: number;
  systems: OnlineMeasurement[];
  identicalOutputs: boolean | null;
  /** halo's throughput / the best baseline's. */
  throughputVsBest: number | null;
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
  offeredQps: number,
): Promise<OnlineResult> {
  const arrivals = poissonArrivals(inputs.length, offeredQps, ctx.seed);
  const systems: OnlineMeasurement[] = [];
  const attempt = async (name: string, run: () => Promise<OnlineMeasurement>) => {
    resetSharedPrefixCaches();
    try {
      systems.push(await run());
    } catch (err) {
      systems.push({
        name,
        offeredQps,
        throughputQps: 0,
        p50Ms: 0,
        p99Ms: 0,
        seconds: 0,
        outputHash: "",
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };

  await attempt("halo", async () => {
    const { wf } = buildWorkflow(shape, ctx);
    const metrics = new ServerMetrics();
    const session = new WorkflowSession(shape.name, wf, {
      executor: new PipelineExecutor({
        tools: { cache: new BoundedToolCache() },
        shareLlmAcrossRuns: true,
      }),
      metrics,
      maxQueue: inputs.length,
      timeoutMs: 3_600_000,
    });
    let batches = 0;
    const m = await drive("halo", shape, inputs, arrivals, offeredQps, async (input) => {
      const [answer] = session.submit([{ ...input }]);
      const a = await answer!;
      if (a.outcome !== "ok") throw new Error(`query ${input.qid}: ${a.outcome}: ${a.error}`);
      return a.row!;
    });
    const text = metrics.prometheus(new Map());
    batches = Number(/halo_batches_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    return { ...m, batches };
  });

  await attempt("per-request", async () => {
    const set = new StepSet(shape, inputs, ctx);
    return drive("per-request", shape, inputs, arrivals, offeredQps, async (input) => {
      let row: Row = { ...input };
      for (const step of set.steps)
        row = withColumn(row, step.output, await step.run(row, ctx.signal));
      return row;
    });
  });

  const ok = systems.filter((s) => !s.error);
  const identicalOutputs =
    ok.length >= 2 ? ok.every((s) => s.outputHash === ok[0]!.outputHash) : null;
  const halo = ok.find((s) => s.name === "halo");
  const best = ok
    .filter((s) => s.name !== "halo")
    .sort((a, b) => b.throughputQps - a.throughputQps)[0];
  return {
    name: shape.name,
    queries: inputs.length,
    offeredQps,
    systems,
    identicalOutputs,
    throughputVsBest: halo && best ? halo.throughputQps / best.throughputQps : null,
  };
}

export function formatOnlineTable(r: OnlineResult): string {
  const lines = [
    `${r.name} online: ${r.queries} queries, Poisson arrivals at ${r.offeredQps.toFixed(2)} q/s offered`,
    `  ${"system".padEnd(12)} ${"q/s".padStart(7)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)} ${"batches".padStart(8)}`,
  ];
  for (const s of r.systems)
    lines.push(
      s.error
        ? `  ${s.name.padEnd(12)} failed: ${s.error}`
        : `  ${s.name.padEnd(12)} ${s.throughputQps.toFixed(2).padStart(7)} ${s.p50Ms.toFixed(0).padStart(9)} ${s.p99Ms.toFixed(0).padStart(9)} ${String(s.batches ?? "-").padStart(8)}`,
    );
  lines.push(
    `  outputs identical: ${r.identicalOutputs === null ? "not checked" : r.identicalOutputs ? "yes" : "NO"}; halo throughput vs best baseline: ${r.throughputVsBest === null ? "n/a" : `${r.throughputVsBest.toFixed(2)}x`}`,
  );
  return lines.join("\n");
}
