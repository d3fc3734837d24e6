// Realistically shaped random-weight models for benchmarks: SmolLM2-135M's and Qwen2.5-0.5B's
// architecture numbers, random (seeded) weights, in fp32, int8 and q4 (more dtypes on request),
// written by models/build/make-graph-fixtures.py into models/realistic/<name>/ (git-ignored) the
// first time they are asked for. Sizes on disk: SmolLM2-135M 513 + 238 + 189 MiB, Qwen2.5-0.5B
// 1885 (external data) + 993 + 814 MiB; building both takes a few minutes (numpy and
// python3-onnx only).
//
//   import { ensureRealisticModel } from "../runtime/realistic-models.ts";
//   const dir = ensureRealisticModel("qwen2.5-0.5b", ["fp32", "q4"]); // builds what is missing
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onnxCandidates, type Dtype } from "../../src/runtime/dtypes.ts";

export const REALISTIC_MODELS = ["smollm2-135m", "qwen2.5-0.5b"] as const;
export type RealisticModel = (typeof REALISTIC_MODELS)[number];

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(ROOT, "models", "build", "make-graph-fixtures.py");

export function realisticModelDir(name: RealisticModel): string {
  return join(ROOT, "models", "realistic", name);
}

/** The dtypes of `name` not built yet. */
export function missingDtypes(name: RealisticModel, dtypes: readonly Dtype[]): Dtype[] {
  const dir = realisticModelDir(name);
  return dtypes.filter((d) => !existsSync(join(dir, onnxCandidates(d)[0]!)));
}

/**
 * The folder of `name`, building the dtypes it lacks first (progress on stderr). Throws with the
 * command to run when Python or python3-onnx is missing.
 */
export function ensureRealisticModel(
  name: RealisticModel,
  dtypes: readonly Dtype[] = ["fp32", "int8", "q4"],
  python = process.env.HALO_PYTHON ?? "/usr/bin/python3",
): string {
  if (!(REALISTIC_MODELS as readonly string[]).includes(name))
    throw new Error(`unknown realistic model ${name}: choose from ${REALISTIC_MODELS.join(", ")}`);
  const missing = missingDtypes(name, dtypes);
  if (missing.length > 0) {
    process.stderr.write(`building ${name} (${missing.join(", ")}) with ${SCRIPT}\n`);
    const run = spawnSync(python, [SCRIPT, "realistic", name, "--dtypes", missing.join(",")], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (run.status !== 0)
      throw new Error(
        `could not build ${name}: ${python} ${SCRIPT} realistic ${name} --dtypes ${missing.join(",")} exited with ${run.status ?? run.error?.message} (it needs numpy and python3-onnx: apt-get install python3-onnx)`,
      );
  }
  return realisticModelDir(name);
}
