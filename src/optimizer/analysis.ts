// Analyses: readings of an optimized plan that explain() shows and nothing executes. A pass
// decides something the Processor carries out; an analysis only informs, so it is no pass: it
// is not in PASSES, has no flag, and collect() does not spend planner time on it. explain()
// (`lf.explain({ optimized: true })`) runs them and prints their findings beside the passes'.
//
// Two were passes that decided what the Processor did not carry out, and measurement showed that
// carrying it out does not pay (docs/optimizer.md, "Decisions executed or explained"): the batch
// size the cost model finds cheapest per LLM node (the worker sizes its batches from measured
// steps and its KV budget), and the schedule's epochs (the Processor is a dataflow: each call
// starts when its inputs exist).
import { copyDag } from "../plan/dag.ts";
import type { PlanDag } from "../plan/types.ts";
import { batchSizes } from "./batch-sizes.ts";
import type { OptimizerContext } from "./context.ts";
import { annotate } from "./pass.ts";
import type { PassReport, PlanReport } from "./physical.ts";
import { schedule } from "./schedule.ts";

export interface Analysis {
  name: string;
  guard(dag: PlanDag, ctx: OptimizerContext): boolean;
  /** What it found, for the plan's report, and one line for explain. */
  run(dag: PlanDag, ctx: OptimizerContext): { report: Partial<PlanReport>; effect: string };
}

// Batch sizes before the schedule: the schedule's epochs last as long as their nodes' batches.
export const ANALYSES: readonly Analysis[] = [batchSizes, schedule];

/** A copy of an optimized plan whose report holds every analysis's findings. */
export function analyze(input: PlanDag, ctx: OptimizerContext): PlanDag {
  const dag = copyDag(input);
  const root = dag.nodes[dag.root]!;
  const base = root.physical?.report;
  if (!base) return dag; // not optimized: nothing to read
  let report: PlanReport = { ...base, analyses: [] };
  for (const a of ANALYSES) {
    const t0 = performance.now();
    const entry: PassReport = { name: a.name, applied: false, ms: 0, effect: "" };
    if (a.guard(dag, ctx)) {
      annotate(root, "report", report);
      const found = a.run(dag, ctx);
      report = { ...report, ...found.report };
      entry.applied = true;
      entry.effect = found.effect;
    }
    entry.ms = performance.now() - t0;
    report.analyses!.push(entry);
  }
  annotate(root, "report", report);
  return dag;
}
