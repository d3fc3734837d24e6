// After a run: each node's estimate (the optimizer's `physical.estimate.afterMs`) goes beside its
// measured time in `halo.lastRun.nodes[i]`, the pair is recorded in the CostModel, and tool calls
// feed their averages online (`observe`; the LLM workers feed theirs as each forward call ends),
// so the next plan in this session uses this machine's current speed (docs/cost-model.md).
import type { CostModel } from "../cost/cost-model.ts";
import type { PlanDag } from "../plan/types.ts";
import { costNode } from "../optimizer/pass.ts";
import type { RunTrace, TaskRecord } from "../processor/trace/trace.ts";

const CALL_KINDS = new Set(["LlmCall", "SqlCall", "HttpCall", "FnCall"]);

/**
 * Fills `estimatedMs` on the trace's nodes, records estimate vs measurement for call nodes that
 * ran (not reused, measured above zero), learns output tokens and tool times. Returns the
 * median relative error over the recorded nodes (undefined when none was recorded).
 */
export function recordRunCosts(
  dag: PlanDag,
  trace: RunTrace,
  cost: CostModel,
  reused: readonly number[] = [],
): number | undefined {
  cost.clearRecords();
  for (const stats of trace.nodes) {
    const node = dag.nodes[stats.nodeId];
    const estimate = node?.physical?.estimate;
    if (!node || estimate === undefined) continue;
    stats.estimatedMs ??= estimate.afterMs;
    stats.estimated ??= {
      calls: estimate.calls,
      promptTokens: estimate.promptTokens,
      cachedTokens: estimate.cachedTokens,
      decodeTokens: estimate.decodeTokens,
    };
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
      estimatedMs: estimate.afterMs,
      // An LLM node's own share of the worker's time, like its estimate; its span would also
      // hold the batches of every node it overlapped (node-shares.ts).
      measuredMs: stats.llmMs ?? stats.measuredMs,
    });
    const fan = node.physical?.fanOut;
    if (fan && fan.distinct === null && stats.rows > 0)
      cost.observeCallShare(node.signature, stats.calls / stats.rows);
    if (node.kind === "LlmCall" && stats.decodeTokens > 0)
      cost.observeOutputTokens(node.signature, stats.decodeTokens / stats.calls, costNode(node));
    if (node.kind === "LlmCall" && stats.prefillTokens + stats.cachedTokens > 0)
      cost.observePromptTokens(
        node.signature,
        (stats.prefillTokens + stats.cachedTokens) / stats.calls,
      );
  }
  for (const task of trace.tasks) observeTask(task, dag, cost);
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
 * A tool task updates its key's moving average. LLM forward calls are not observed here: the
 * Processor's workers give the cost model each call's exact shape as it happens (in every run
 * and in `halo serve` alike), which a task's totals could only approximate.
 */
function observeTask(task: TaskRecord, dag: PlanDag, cost: CostModel): void {
  if (task.error !== undefined || !task.lane.startsWith("tool:")) return;
  // A call answered from the run's cache cost nothing and says nothing about the tool.
  const node = dag.nodes[task.nodeIds[0] ?? -1];
  const key = node && !task.cacheHit ? cost.toolKeyOf(node) : undefined;
  if (key) cost.observe({ kind: "tool", key }, task.endMs - task.startMs);
}
