// After a run: each node's estimate (the optimizer's `physical.estimate.afterMs`) goes beside its
// measured time in `halo.lastRun.nodes[i]`, the pair is recorded in the CostModel, and what the
// LLM worker measured feeds the model online (`observe`), so the next plan in this session uses
// this machine's current speed (docs/cost-model.md, "Online learning").
import type { CostModel } from "../cost/cost-model.ts";
import type { PlanDag } from "../plan/types.ts";
import type { NodeStats, RunTrace, TaskRecord } from "../processor/trace/trace.ts";

const CALL_KINDS = new Set(["LlmCall", "SqlCall", "HttpCall", "FnCall"]);

/**
 * Fills `estimatedMs` on the trace's nodes, records estimate vs measurement for call nodes that
 * ran (not reused, measured above zero), learns output tokens and LLM step times. Returns the
 * median relative error over the recorded nodes (undefined when none was recorded).
 */
export function recordRunCosts(
  dag: PlanDag,
  trace: RunTrace,
  cost: CostModel,
  reused: readonly number[] = [],
): number | undefined {
  cost.clearRecords();
  const byId = new Map<number, NodeStats>(trace.nodes.map((n) => [n.nodeId, n]));
  for (const stats of trace.nodes) {
    const node = dag.nodes[stats.nodeId];
    const estimate = node?.physical?.estimate?.afterMs;
    if (!node || estimate === undefined) continue;
    stats.estimatedMs ??= estimate;
    const predictedHits = node.physical?.prefix?.predictedCachedTokens;
    if (predictedHits !== undefined) stats.predictedCacheHits ??= predictedHits;
    if (!CALL_KINDS.has(node.kind) || reused.includes(stats.nodeId)) continue;
    // Some rows came from kept results: the measured span covers only the rest of the estimate.
    if (stats.storedCalls) continue;
    if (!((stats.llmMs ?? stats.measuredMs) > 0) || stats.calls === 0) continue;
    cost.record({
      nodeId: stats.nodeId,
      label: stats.label,
      kind: stats.kind,
      estimatedMs: stats.estimatedMs,
      // An LLM node's own share of the worker's time, like its estimate; its span would also
      // hold the batches of every node it overlapped (node-shares.ts).
      measuredMs: stats.llmMs ?? stats.measuredMs,
    });
    if (node.kind === "LlmCall" && stats.decodeTokens > 0)
      cost.observeOutputTokens(node.signature, stats.decodeTokens / stats.calls);
  }
  for (const task of trace.tasks) observeTask(task, dag, byId, cost);
  // After the tasks, which teach the warm-up constant from what really grew the session's memory:
  // then every node that ran counts as warm up to the footprint its estimate was charged for.
  for (const stats of trace.nodes) {
    const node = dag.nodes[stats.nodeId];
    const footprint = node?.physical?.estimate?.footprintBytes;
    if (node?.kind === "LlmCall" && footprint !== undefined && stats.calls > 0)
      cost.noteRan(footprint, node.args.modelKey);
  }
  const records = cost.estimatedVsMeasured();
  return records.records.length > 0 ? records.medianRelError : undefined;
}

/**
 * One LLM worker task as an observation. Prefill: the batch's totals split evenly over its rows
 * (the trace keeps totals per task, not per sequence). Decode step: context per row taken as the
 * node's average prompt plus half its average output (the kv term is linear in context, so the
 * mean context over a node's steps is what the sum of its steps sees). A "decode" task carrying
 * prefill tokens is a whole generate() call (prefill and every step in one span): it cannot be
 * split, so it is not observed. Tool tasks update their key's moving average.
 */
function observeTask(
  task: TaskRecord,
  dag: PlanDag,
  stats: Map<number, NodeStats>,
  cost: CostModel,
): void {
  if (task.error !== undefined) return;
  const ms = task.endMs - task.startMs;
  if (task.lane.startsWith("tool:")) {
    // A call answered from the run's cache cost nothing and says nothing about the tool.
    const node = dag.nodes[task.nodeIds[0] ?? -1];
    const key = node && !task.cacheHit ? cost.toolKeyOf(node) : undefined;
    if (key) cost.observe({ kind: "tool", key }, ms);
    return;
  }
  if (!task.lane.startsWith("llm")) return;
  const b = Math.max(1, task.batchSize);
  const first = dag.nodes[task.nodeIds[0] ?? -1];
  const model = first?.kind === "LlmCall" ? first.args.modelKey : undefined;
  if (task.kind === "prefill" && task.prefillTokens !== undefined) {
    const row = {
      newTokens: task.prefillTokens / b,
      cachedTokens: (task.cachedTokens ?? 0) / b,
    };
    cost.observe({ kind: "prefill", model, rows: Array.from({ length: b }, () => row) }, ms);
  } else if (task.kind === "decode" && task.prefillTokens === undefined) {
    let context = 0;
    let n = 0;
    for (const id of task.nodeIds) {
      const s = stats.get(id);
      if (!s || s.calls === 0) continue;
      context += (s.prefillTokens + s.cachedTokens + s.decodeTokens / 2) / s.calls;
      n++;
    }
    if (n === 0) return;
    cost.observe({ kind: "decode", model, batch: b, context: context / n, steps: 1 }, ms);
  }
}
