// The optimizer module. Importing it registers the driver with the plan's seam (collect() and
// explain() then optimize) and the optimizer's report with explain().
import { setExplainReport } from "../plan/explain.ts";
import { setPlanOptimizer } from "../plan/optimize.ts";
import { optimizerSession } from "./context.ts";
import { optimize } from "./driver.ts";
import { explainReport } from "./explain-report.ts";
import { workersPerModel } from "./place-work.ts";

setPlanOptimizer((dag, flags, target) => {
  const n = target?.llmWorkers ?? 1;
  // Several workers per model: place-work spreads LLM nodes over them; one keeps the session's.
  const ctx = n > 1 ? { ...optimizerSession, workers: workersPerModel(dag, n) } : optimizerSession;
  return optimize(dag, flags, ctx);
});
setExplainReport(explainReport);

export { optimize, PASSES } from "./driver.ts";
export { optimizerSession, prepareOptimizer, approximateTokens } from "./context.ts";
export type { OptimizerContext } from "./context.ts";
export type * from "./physical.ts";
