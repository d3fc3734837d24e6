// The optimizer module. Importing it registers the driver with the plan's seam (collect() and
// explain() then optimize) and the optimizer's report with explain().
import { setExplainReport } from "../plan/explain.ts";
import { setPlanOptimizer } from "../plan/optimize.ts";
import { optimizerSession } from "./context.ts";
import { optimize } from "./driver.ts";
import { explainReport } from "./explain-report.ts";

setPlanOptimizer((dag, flags) => optimize(dag, flags, optimizerSession));
setExplainReport(explainReport);

export { optimize, PASSES } from "./driver.ts";
export { optimizerSession, prepareOptimizer, approximateTokens } from "./context.ts";
export type { OptimizerContext } from "./context.ts";
export type * from "./physical.ts";
