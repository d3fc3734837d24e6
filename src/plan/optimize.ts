// Which optimizer passes run: one object, a boolean per pass (not a keyword argument each). Every
// pass must keep results identical, so "none" is always a correct choice.

export interface OptimizationFlags {
  dedupeCalls: boolean;
  pushdownFilters: boolean;
  groupSharedPrefixes: boolean;
  planBatches: boolean;
  placeWork: boolean;
  startCallsEarly: boolean;
}

export const PASS_NAMES: readonly (keyof OptimizationFlags)[] = [
  "dedupeCalls",
  "pushdownFilters",
  "groupSharedPrefixes",
  "planBatches",
  "placeWork",
  "startCallsEarly",
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
