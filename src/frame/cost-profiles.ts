// collect() plans with the calibrated profile of every model its plan names: the first time a
// model is used in this process its profile is read from the cache on disk
// (`$HALO_CACHE_DIR/profiles`, see src/cost/profile-cache.ts) or, the first time on this machine,
// measured (2-4 s on the shipped model), then added to the optimizer's CostModel under the plan's
// model key. `HALO_CALIBRATE=0` (or `collect({ calibrate: false })`) keeps the prior profile.
import type { CostModel } from "../cost/cost-model.ts";
import { getProfile } from "../cost/profile-cache.ts";
import { priorProfile, type Profile } from "../cost/profile.ts";
import type { PlanDag } from "../plan/types.ts";
import { loadModel, modelSourceOf } from "./models.ts";

/** Profiles by model folder and graph, once per process (a failed calibration is not retried). */
const profiles = new Map<string, Promise<Profile | undefined>>();
/** Profiles of registered model objects without a folder, by the object. */
const remoteProfiles = new WeakMap<object, Promise<Profile | undefined>>();
/**
 * The profile each CostModel holds per model key. A key registered again for another model loads
 * another profile, which replaces the old one (the Processor's cost model may be swapped too).
 */
const applied = new WeakMap<CostModel, Map<string, Profile | undefined>>();

/** Calibration is on unless the option says false or HALO_CALIBRATE is 0/false/off/no. */
export function calibrationEnabled(
  option?: boolean,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (option !== undefined) return option;
  const v = env.HALO_CALIBRATE?.trim().toLowerCase();
  return !(v === "0" || v === "false" || v === "off" || v === "no");
}

/** The calibrated profile of a model key, or undefined (no folder, or calibration failed). */
export function profileFor(modelKey: string): Promise<Profile | undefined> {
  return (async () => {
    const source = await modelSourceOf(modelKey);
    if (source === undefined) return remoteProfile(modelKey);
    const { dir, dtype } = source;
    // the graph the key loads: a q4 and an fp32 of one folder are profiled (and filed) apart,
    // under the `folder:dtype` name `halo calibrate --dtype` files them by
    const key = `${dir}\0${source.onnxFile}`;
    let p = profiles.get(key);
    if (!p) {
      p = getProfile(dir, dtype ? { onnx: { dtype } } : {}).catch((error: unknown) => {
        // Planning still works on the prior; say why the estimates are rough.
        console.error(
          `halo: calibrating model '${modelKey}' (${dir}) failed, planning with the prior profile: ${String(error)}`,
        );
        return undefined;
      });
      profiles.set(key, p);
    }
    return p;
  })();
}

/**
 * A registered model object without a folder (e.g. `halo.openai(...)`) may know its own profile
 * (`loadProfile()`, measured by `halo calibrate --url`); others plan with the prior.
 */
async function remoteProfile(modelKey: string): Promise<Profile | undefined> {
  let model: { loadProfile?: () => Promise<Profile | undefined> };
  try {
    model = (await loadModel(modelKey)) as typeof model;
  } catch {
    return undefined;
  }
  let p = remoteProfiles.get(model);
  if (!p) {
    p = (async () =>
      typeof model.loadProfile === "function" ? await model.loadProfile() : undefined)().catch(
      () => undefined,
    );
    remoteProfiles.set(model, p);
  }
  return p;
}

/**
 * Adds the calibrated profile of each model the plan's LLM nodes name to `cost`, aliased by the
 * model key the nodes carry (CostModel keys profiles by model id, the folder name). One model at a
 * time: calibrations running side by side on 2 cores would measure each other.
 */
export async function prepareCostModel(dag: PlanDag, cost: CostModel): Promise<void> {
  const keys = new Set<string>();
  for (const n of dag.nodes) if (n.kind === "LlmCall") keys.add(n.args.modelKey);
  let done = applied.get(cost);
  if (!done) applied.set(cost, (done = new Map()));
  for (const key of keys) {
    const profile = await profileFor(key);
    if (done.has(key) && done.get(key) === profile) continue;
    // A copy: online updates of one CostModel must not leak into another through the cache. A
    // key that had a profile and now has none (another model, not calibrated) plans with the prior.
    if (profile) cost.addProfile(structuredClone(profile), [key]);
    else if (done.get(key)) cost.addProfile(priorProfile(key), [key]);
    done.set(key, profile);
  }
}
