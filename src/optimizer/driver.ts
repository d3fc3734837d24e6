// The optimizer driver: runs the passes in order, each only when its flag is on and its guard
// holds, times each one, and validates the plan after each rewrite (a pass that breaks an
// invariant fails here, naming itself). collect() and explain() call it directly.
import type { OptimizationFlags } from "../plan/optimize.ts";
import { PlanValidationError, validateDag } from "../plan/validate.ts";
import type { PlanDag } from "../plan/types.ts";
import { copyDag } from "../plan/dag.ts";
import type { OptimizerContext } from "./context.ts";
import { dedupeCalls } from "./dedupe-calls.ts";
import { annotateEstimates, estimateCalls } from "./estimate.ts";
import { groupSharedPrefixes } from "./group-shared-prefixes.ts";
import type { Pass } from "./pass.ts";
import { annotate } from "./pass.ts";
import type { PassReport, PlanReport } from "./physical.ts";
import { placeWork, defaultWorkers } from "./place-work.ts";
import { planBatches } from "./plan-batches.ts";
import { pushdownFilters } from "./pushdown-filters.ts";
import { startCallsEarly } from "./start-calls-early.ts";

export const PASSES: readonly Pass[] = [
  // Filters first: rows a filter drops never reach a call, so every later pass plans less work;
  // and a filter pushed down in one frame can make its subtree equal to another frame's.
  pushdownFilters,
  // Dedupe after pushdown, to merge the subtrees pushdown made equal; and before prefixes, so a
  // fanned-out instance (it runs once) counts once in the trie and in the cache prediction.
  dedupeCalls,
  // After every pass that moves, merges or removes nodes (pushdown, dedupe): the chain it looks
  // along is final. Before prefixes and placement: which LLM nodes reach the worker together
  // (the cache simulation) and when a node can start (placement) depend on what starts early.
  startCallsEarly,
  // Prefixes before batches: a batch must fit the KV budget beside the prefix its group keeps
  // cached, and cached tokens change what each batch costs.
  groupSharedPrefixes,
  // Gathering before placement: a gathered node starts only once its inputs have finished,
  // which decides where it can run soonest.
  planBatches,
  // Placement last: it weighs everything the passes before it shaped (fan-out, early starts,
  // cached prefixes, gathering). The schedule and batch sizes are analyses (analysis.ts).
  placeWork,
];

export interface OptimizeResult {
  dag: PlanDag;
  /** Planner time in ms (RunTrace.plannerMs). */
  plannerMs: number;
}

export function optimize(
  input: PlanDag,
  flags: OptimizationFlags,
  sessionCtx: OptimizerContext,
): OptimizeResult {
  const started = performance.now();
  // A context of this optimization's own: per-plan memos (tokenized prompts, render.ts) hang off
  // it and go with it, so a model re-registered under the same name is never read stale.
  const ctx: OptimizerContext = { ...sessionCtx };
  const reports: PassReport[] = [];
  const before = estimateCalls(input, ctx, false);
  let dag = input;
  for (const pass of PASSES) {
    const t0 = performance.now();
    if (!flags[pass.flag] || !pass.guard(dag, ctx)) {
      reports.push({ name: pass.name, applied: false, ms: performance.now() - t0, effect: "" });
      continue;
    }
    const { dag: next, effect } = pass.rewrite(dag, ctx);
    try {
      validateDag(next);
    } catch (err) {
      if (err instanceof PlanValidationError)
        err.message = `optimizer pass ${pass.name} produced an ${err.message}`;
      throw err;
    }
    dag = next;
    reports.push({ name: pass.name, applied: true, ms: performance.now() - t0, effect });
  }
  if (dag === input) dag = copyDag(input);
  const after = estimateCalls(dag, ctx, true);
  let beforeMs = 0;
  for (const e of before.values()) beforeMs += e.ms;
  const totals = annotateEstimates(dag, before, after, ctx);
  const plannerMs = performance.now() - started;
  const root = dag.nodes[dag.root]!;
  const report: PlanReport = {
    workers: ctx.workers?.length ? ctx.workers : defaultWorkers(dag, ctx.modelOf),
    ...root.physical?.report,
    passes: reports,
    beforeMs,
    afterMs: totals.ms,
    totals,
    plannerMs,
  };
  annotate(root, "report", report);
  return { dag, plannerMs };
}
