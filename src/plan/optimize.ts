// The seam between collect() and the optimizer (issue 6). Flags are one object, a boolean per
// pass (not a keyword argument each). Until the optimizer registers itself the plan runs as
// lowered; every pass must keep results identical, so "none" is always a correct choice.
import type { PlanDag } from "./types.ts";

export interface OptimizationFlags {
  dedupeCalls: boolean;
  pushdownFilters: boolean;
  groupSharedPrefixes: boolean;
  planBatches: boolean;
  placeWork: boolean;
  startCallsEarly: boolean;
  schedule: boolean;
}

export const PASS_NAMES: readonly (keyof OptimizationFlags)[] = [
  "dedupeCalls",
  "pushdownFilters",
  "groupSharedPrefixes",
  "planBatches",
  "placeWork",
  "startCallsEarly",
  "schedule",
];

function flagsWith(value: boolean): OptimizationFlags {
  return Object.fromEntries(PASS_NAMES.map((n) => [n, value])) as unknown as OptimizationFlags;
}

/** `halo.optimizations`: presets to pass as `collect({ optimizations })`. */
export const optimizations = {
  all: (): OptimizationFlags => flagsWith(true),
  none: (): OptimizationFlags => flagsWith(false),
  defaults: (): OptimizationFlags => flagsWith(true),
};

/** Fills missing flags from the defaults; rejects unknown names. */
export function resolveFlags(flags: Partial<OptimizationFlags> | undefined): OptimizationFlags {
  const out = optimizations.defaults();
  if (flags === undefined) return out;
  if (typeof flags !== "object" || flags === null)
    throw new TypeError("optimizations: expected an object such as halo.optimizations.none()");
  for (const [k, v] of Object.entries(flags)) {
    if (!PASS_NAMES.includes(k as keyof OptimizationFlags))
      throw new TypeError(
        `optimizations: unknown pass '${k}'; passes are ${PASS_NAMES.join(", ")}`,
      );
    if (typeof v !== "boolean") throw new TypeError(`optimizations.${k}: expected true or false`);
    out[k as keyof OptimizationFlags] = v;
  }
  return out;
}

export interface OptimizeResult {
  dag: PlanDag;
  /** Planner time in ms (RunTrace.plannerMs). */
  plannerMs: number;
  /** Notes per pass for explain (empty until the optimizer exists). */
  notes: string[];
}

/** What the plan will run on, beyond the session's defaults. */
export interface PlanTarget {
  /** LLM workers per model the executor runs (collect's `llmWorkers`; default 1). */
  llmWorkers?: number;
}

export type PlanOptimizer = (
  dag: PlanDag,
  flags: OptimizationFlags,
  target?: PlanTarget,
) => OptimizeResult;

const identity: PlanOptimizer = (dag) => ({ dag, plannerMs: 0, notes: [] });
let current: PlanOptimizer = identity;

/** The optimizer module registers its driver here; undefined restores the identity. */
export function setPlanOptimizer(optimizer: PlanOptimizer | undefined): void {
  current = optimizer ?? identity;
}

export function optimizePlan(
  dag: PlanDag,
  flags: OptimizationFlags,
  target?: PlanTarget,
): OptimizeResult {
  return current(dag, flags, target);
}
