// place-work: which LLM worker runs each LLM node. Walks LLM nodes inputs-first and puts each on
// the worker where it finishes soonest by the cost model: the worker's queued work, plus a model
// load when another model is resident there (so a switch is paid only when waiting for the
// resident worker would cost more), plus the node's own prefill and decode, plus the prompt
// tokens that would have been cached there but must be recomputed or moved elsewhere (cache
// affinity: a row's later turn reuses its earlier turn's KV only on the worker that holds it;
// moving it is chosen over recomputing only when the cost model says it is cheaper).
// A node cannot start before its inputs are there (list scheduling): a gathered node (plan-batches'
// `gather`) waits for all its input rows, so it starts no earlier than its upstream LLM nodes
// finish; a streamed one starts once they start, and cannot finish before they do. So a gathered
// chain's child stays on its parent's worker, which is free again by the time the child can start,
// instead of moving to an idle worker and paying to move or recompute the parent's KV. Tool and
// relational nodes pass their inputs' times through untimed: they run on CPU lanes beside the LLM
// workers.
// Without configured workers there is one per model (the Processor's one submitter per model):
// each node goes to its model's worker and the pass only records it.
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import type { PlanDag, PlanNode } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { llmShape, llmState, rowsAt } from "./llm-shape.ts";
import { annotate, costNode, type Pass, type PassResult } from "./pass.ts";
import type { WorkerSpec } from "./physical.ts";
import { encoderFor, llmColumns, renderPrompt } from "./render.ts";

/** Rows sampled per node to measure prefix overlap between nodes (planner time stays flat). */
const AFFINITY_SAMPLE = 64;

export function defaultWorkers(dag: PlanDag, modelOf?: (modelKey: string) => string): WorkerSpec[] {
  return workersPerModel(dag, 1, modelOf);
}

/**
 * `perModel` workers for each model the plan uses, each with its model resident, in order of
 * first use: lanes llm:0 .. llm:(perModel-1) for the first model, and so on (the config's
 * `llm.workersPerModel`; the Processor runs one model session and prefix cache per lane).
 * Keys of one model (`modelOf`) are one model: its workers serve all of them.
 */
export function workersPerModel(
  dag: PlanDag,
  perModel: number,
  modelOf: (modelKey: string) => string = (k) => k,
): WorkerSpec[] {
  const models: string[] = [];
  for (const id of topologicalOrder(dag)) {
    const n = dag.nodes[id]!;
    if (n.kind !== "LlmCall") continue;
    const model = modelOf(n.args.modelKey);
    if (!models.includes(model)) models.push(model);
  }
  return models.flatMap((m, i) =>
    Array.from({ length: perModel }, (_, k) => ({ lane: `llm:${i * perModel + k}`, resident: m })),
  );
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const cost = ctx.cost;
  const configured = ctx.workers !== undefined && ctx.workers.length > 0;
  const workers = configured ? ctx.workers! : defaultWorkers(out, ctx.modelOf);
  const views = instanceViews(out);
  const busyMs = workers.map(() => 0);
  const resident = workers.map((w) => w.resident);
  // Sampled prompts per placed node: rows by position, to compare turns of the same row.
  const sampled = new Map<number, { worker: number; prompts: number[][]; rows: number }>();
  let switches = 0;
  let affinityTotal = 0;
  // When each node's LLM work starts and ends, by the plan's clock (ms from the start).
  const startMs = new Map<number, number>();
  const finishMs = new Map<number, number>();
  // A node started early (start-calls-early) waits for its base row and the calls it reads, not
  // the chain above it.
  const latest = (n: PlanNode, times: Map<number, number>) =>
    Math.max(
      0,
      ...(n.physical?.early ? [n.physical.early.base, ...n.physical.early.deps] : n.inputs).map(
        (i) => times.get(i) ?? 0,
      ),
    );
  for (const id of topologicalOrder(out)) {
    const node = out.nodes[id]!;
    const inputsDone = latest(node, finishMs);
    if (node.kind !== "LlmCall") {
      startMs.set(id, latest(node, startMs));
      finishMs.set(id, inputsDone);
      continue;
    }
    const ready = node.physical?.gather ? inputsDone : latest(node, startMs);
    const model = node.args.modelKey;
    // what a worker holds: keys of one model share it (no switch between them)
    const weights = ctx.modelOf?.(model) ?? model;
    const view = views.get(node.inputs[0]!);
    const shape = llmShape(node, rowsAt(view), ctx.cost);
    const prompts: number[][] = [];
    if (view) {
      const { encode } = encoderFor(ctx, model);
      const cols = llmColumns(node);
      const step = Math.max(1, Math.floor(view.rows.length / AFFINITY_SAMPLE));
      for (let r = 0; r < view.rows.length; r += step)
        prompts.push(renderPrompt(node.args, cols, view.rows[r]!, encode).tokens);
    }
    // Per-row tokens this node shares with an earlier LLM node's prompt, by that node's worker.
    const affinity = workers.map(() => 0);
    for (const [, prev] of sampled) {
      if (prev.rows !== (view?.rows.length ?? -1) || prev.prompts.length !== prompts.length)
        continue;
      let shared = 0;
      prompts.forEach((p, i) => (shared += commonPrefix(p, prev.prompts[i]!)));
      const perRow = shared / Math.max(1, prompts.length);
      affinity[prev.worker] = Math.max(affinity[prev.worker]!, perRow);
    }
    const base = cost.estimate(costNode(node), llmState(node, shape, ctx));
    let best: { w: number; start: number; finish: number; switchMs: number } | undefined;
    workers.forEach((w, i) => {
      if (!configured && w.resident !== weights) return;
      const switchMs = cost.modelSwitchMs(weights, resident[i]);
      // Tokens cached on another worker: recompute them here, or move them if that is cheaper.
      const lost = Math.max(0, Math.max(...affinity) - affinity[i]!);
      const perCall = Math.min(
        cost.recomputeMs(lost, 0, model),
        2 * cost.kvMoveMs(cost.kvBytes(lost, model), model),
      );
      const start = Math.max(busyMs[i]!, ready);
      const finish = Math.max(start + switchMs + base.ms + perCall * shape.calls, inputsDone);
      if (!best || finish < best.finish) best = { w: i, start, finish, switchMs };
    });
    const chosen = best!;
    busyMs[chosen.w] = chosen.finish;
    startMs.set(id, chosen.start);
    finishMs.set(id, chosen.finish);
    if (chosen.switchMs > 0) switches++;
    resident[chosen.w] = weights;
    annotate(node, "placement", {
      worker: chosen.w,
      lane: workers[chosen.w]!.lane,
      model,
      switchMs: chosen.switchMs,
      affinityTokens: Math.round(affinity[chosen.w]! * shape.calls),
    });
    affinityTotal += Math.round(affinity[chosen.w]! * shape.calls);
    sampled.set(id, { worker: chosen.w, prompts, rows: view?.rows.length ?? -1 });
  }
  return {
    dag: out,
    effect: `${workers.length} worker(s) [${workers.map((w) => `${w.lane}=${w.resident ?? "none"}`).join(", ")}]; ${switches} model switch(es); ${affinityTotal} prompt tokens kept on their worker`,
  };
}

export const placeWork: Pass = {
  flag: "placeWork",
  name: "place-work",
  guard: (dag: PlanDag) => dag.nodes.some((n: PlanNode) => n.kind === "LlmCall"),
  rewrite,
};
