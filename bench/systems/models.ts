// Which model folder each workload model size runs on. The shapes pin LLM nodes to "small",
// "medium" or "large" (the paper's 14B/20B/32B); here they are registered as halo model names
// `bench-<size>`, so the halo plan and every baseline load the very same folder (the runtime
// caches one Model per folder per process, so they share one Model object too).
//   tiny (default): every size on the shipped model (models/halo-tiny): trained on the prompt
//     templates, fast enough for --quick on 2 cores.
//   variants: small = halo-tiny, medium = models/variants/halo-5m, large = models/variants/halo-20m
//     (seeded random weights built by models/build/make-variants.py, at bench time when missing;
//     git-ignored).
//   realistic: every size on SmolLM2-135M's shapes, random weights, int8 (or --dtype fp32, q4);
//   large: every size on Qwen2.5-0.5B's shapes, q4 (or --dtype). Built by the real-models script
//     when missing (./realistic-models.ts). Answers are noise, the same in every system; the
//     output lengths are what the workloads declare (choices, maxTokens).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Profile } from "../../src/cost/profile.ts";
import { calibrationEnabled, profileFor } from "../../src/frame/cost-profiles.ts";
import { loadModel, models } from "../../src/frame/models.ts";
import { processorApi } from "../../src/frame/processor-api.ts";
import { classifySource } from "../../src/runtime/model-source.ts";
import { buildMissingVariants } from "./build-variants.ts";
import {
  REALISTIC_DTYPES,
  realisticModelDir,
  type RealisticDtype,
  type RealisticShape,
} from "./realistic-models.ts";
import type { ModelSize } from "../workloads/types.ts";

export type ModelSet = "tiny" | "variants" | "realistic" | "large";
export const MODEL_SETS: readonly ModelSet[] = ["tiny", "variants", "realistic", "large"];

/** The shape and default dtype of each set that puts every size on one realistic model. */
const REALISTIC_SETS: Partial<Record<ModelSet, { shape: RealisticShape; dtype: RealisticDtype }>> =
  {
    realistic: { shape: "smollm2-135m", dtype: "int8" },
    large: { shape: "qwen2.5-0.5b", dtype: "q4" },
  };
const SIZES: readonly ModelSize[] = ["small", "medium", "large"];

const repoPath = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const VARIANTS: Record<ModelSize, string> = {
  small: "models/halo-tiny",
  medium: "models/variants/halo-5m",
  large: "models/variants/halo-20m",
};

let configured: Record<ModelSize, string> | undefined;

export function modelKey(size: ModelSize): string {
  if (!configured) configureModels();
  return `bench-${size}`;
}

/** The folder behind each size (after configureModels). */
export function modelDirs(): Record<ModelSize, string> {
  if (!configured) configureModels();
  return { ...configured! };
}

/**
 * Registers `bench-small|medium|large`. `smallDir` overrides the shipped model's folder (a model
 * built elsewhere, or a hub id); `dtype` the realistic sets' default. Throws naming the missing folder and how
 * to build it.
 */
export function configureModels(
  set: ModelSet = "tiny",
  smallDir?: string,
  dtype?: RealisticDtype,
): void {
  if (!MODEL_SETS.includes(set))
    throw new Error(`--models must be one of ${MODEL_SETS.join(", ")}, got '${set}'`);
  if (dtype !== undefined && !REALISTIC_DTYPES.includes(dtype))
    throw new Error(`--dtype must be one of ${REALISTIC_DTYPES.join(", ")}, got '${dtype}'`);
  const realistic = REALISTIC_SETS[set];
  if (dtype !== undefined && !realistic)
    throw new Error(`--dtype applies to --models realistic or large, not ${set}`);
  if (smallDir !== undefined && realistic)
    throw new Error(`--model-dir applies to --models tiny or variants, not ${set}`);
  const small = realistic
    ? realisticModelDir(realistic.shape, dtype ?? realistic.dtype)
    : (smallDir ?? repoPath(VARIANTS.small));
  if (set === "variants")
    buildMissingVariants(
      [repoPath(VARIANTS.medium), repoPath(VARIANTS.large)],
      repoPath(VARIANTS.small),
      repoPath("models/build/make-variants.py"),
    );
  const dirs = {} as Record<ModelSize, string>;
  for (const size of SIZES) {
    const dir = set === "variants" && size !== "small" ? repoPath(VARIANTS[size]) : small;
    // A hub id (`--model-dir org/name`) is fetched into the Hugging Face cache when first loaded.
    if (classifySource(dir)?.kind !== "hub" && !existsSync(`${dir}/config.json`))
      throw new Error(
        set !== "variants" || size === "small"
          ? `bench: no model at ${dir} (config.json missing): the shipped model models/halo-tiny is needed (git merge main), or pass --model-dir DIR (or a hub id org/name)`
          : `bench: --models variants needs ${dir}; build it with /usr/bin/python3 models/build/make-variants.py 5m 20m, or use --models tiny`,
      );
    dirs[size] = dir;
    models.register(`bench-${size}`, dir);
  }
  configured = dirs;
}

/**
 * Loads every size's model and its cost profile (read from the cache, or calibrated), once per
 * process, before any system is timed. Otherwise the first system of the first workload pays for
 * it: the runtime's import, the ONNX session and the profile (up to 1 s at 32 queries, more when
 * the profile must be measured), and the baselines never do, since only halo plans.
 * Sequential: calibrations side by side would measure each other. Then the session Processor's
 * workers start (halo.processor.warm), so halo's first run does not wait for its model thread to
 * load a session of its own (6 s of a 34.7 s run at SmolLM2-135M's shape in fp32), which the
 * baselines, running on the session loaded here, never do. Returns the seconds it took.
 */
export async function warmModels(): Promise<number> {
  const started = performance.now();
  for (const size of SIZES) {
    await loadModel(modelKey(size));
    if (calibrationEnabled()) await profileFor(modelKey(size));
  }
  // Where every size is one folder (realistic, large, tiny), the sizes are one model: one set of
  // workers serves all three names, so warming the first warms the rest.
  for (const size of SIZES) await processorApi.warm(modelKey(size));
  return (performance.now() - started) / 1000;
}

/**
 * The calibrated profile of the model in `dir` (the one warmModels read), or undefined when the
 * folder is none of the sizes' or calibration is off (HALO_CALIBRATE=0).
 */
export async function profileOfDir(dir: string): Promise<Profile | undefined> {
  const size = SIZES.find((s) => resolve(modelDirs()[s]) === resolve(dir));
  if (size === undefined || !calibrationEnabled()) return undefined;
  return profileFor(modelKey(size));
}
