// The optimizer module: the driver and its passes, the context a plan is made in (derived from
// the session's Processor), and the annotations the passes leave for the Processor.
export { optimize, PASSES } from "./driver.ts";
export { analyze, ANALYSES } from "./analysis.ts";
export {
  optimizerContext,
  prepareOptimizer,
  forgetTokenizer,
  approximateTokens,
} from "./context.ts";
export type { OptimizerContext } from "./context.ts";
export type * from "./physical.ts";
