// The realistic model sizes of issue 19: random-weight decoders with SmolLM2-135M's and
// Qwen2.5-0.5B's shapes, which the real-models script (issue 17) writes into
// models/realistic/<shape>/ (git-ignored), one ONNX file per dtype. Their answers are noise, but
// the same noise in every system, and their cost per token is a real model's. Sizes on disk:
// SmolLM2-135M 513 + 238 + 189 MiB (fp32, int8, q4), Qwen2.5-0.5B 1885 (external data) + 993 +
// 814 MiB; `halo bench runtime --realistic` (bench/runtime/) builds and loads them too.
//
// The bench runs one dtype of one shape at a time, and its harness (the floor, the LLM rates,
// profileOfDir) keys a model on its folder (the runtime's model cache and the cost profiles
// would take a dtype). So each (shape, dtype) gets a folder of its own: models/realistic/bench/<shape>-<dtype>/ links the shape's config and tokenizer files, and
// that dtype's graph (with its external data) as onnx/model.onnx.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { externalDataFiles, onnxCandidates, type Dtype } from "../../src/runtime/dtypes.ts";
import { python } from "./build-variants.ts";

/** The shapes the script builds, by its names. */
export const REALISTIC_SHAPES = ["smollm2-135m", "qwen2.5-0.5b"] as const;
export type RealisticShape = (typeof REALISTIC_SHAPES)[number];

/** The dtypes the script writes for each shape. */
export const REALISTIC_DTYPES = ["fp32", "int8", "q4"] as const satisfies readonly Dtype[];
export type RealisticDtype = (typeof REALISTIC_DTYPES)[number];

/** The real-models script, relative to the repository root. */
export const REALISTIC_SCRIPT = "models/build/make-graph-fixtures.py";

const FOLDER_FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "generation_config.json",
];

export interface RealisticOptions {
  /** The repository root (default: this checkout's). */
  root?: string;
  /** The build script (default: REALISTIC_SCRIPT under root). */
  script?: string;
}

const repoRoot = () => fileURLToPath(new URL("../../", import.meta.url));

/**
 * The folder holding `shape` in `dtype`, ready to load: built by the real-models script when the
 * shape's graph for that dtype is missing (buildRealisticModel), then linked into its own folder.
 */
export function realisticModelDir(
  shape: RealisticShape,
  dtype: RealisticDtype,
  options: RealisticOptions = {},
): string {
  const root = options.root ?? repoRoot();
  const built = buildRealisticModel(shape, dtype, options);
  return linkView(built, shape, dtype, onnxCandidates(dtype)[0]!, root);
}

/**
 * models/realistic/<shape>/, holding every dtype built so far: `dtype`'s graph is built by the
 * real-models script when missing (minutes for the larger shapes). `halo bench runtime
 * --realistic` loads this folder with the dtype option; the systems bench links one graph into a
 * folder of its own (realisticModelDir). Throws saying what to run when the script is missing or
 * fails.
 */
export function buildRealisticModel(
  shape: RealisticShape,
  dtype: Dtype,
  options: RealisticOptions = {},
): string {
  const root = options.root ?? repoRoot();
  const script = options.script ?? join(root, REALISTIC_SCRIPT);
  const built = join(root, "models", "realistic", shape);
  const graph = onnxCandidates(dtype)[0]!;
  const command = `/usr/bin/python3 ${relative(root, script)} realistic ${shape} --dtypes ${dtype}`;
  const ready = () =>
    existsSync(join(built, graph)) && FOLDER_FILES.every((f) => existsSync(join(built, f)));
  if (ready()) return built;
  if (!existsSync(script))
    throw new Error(
      `bench: no ${shape} model in ${dtype} at ${built}, and no ${relative(root, script)} to build it ` +
        `(it comes with the real-models work, issue 17): merge it, then run ${command} to build it, or use --models tiny`,
    );
  process.stderr.write(`bench: building ${shape} (${dtype}, random weights): ${command}\n`);
  const started = performance.now();
  const run = spawnSync(python(), [script, "realistic", shape, "--dtypes", dtype], {
    encoding: "utf8",
    env: { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" },
  });
  if (run.status !== 0 || !ready()) {
    const why =
      run.error?.message ??
      ((run.stderr || run.stdout || "").trim().split("\n").pop() || `exit ${run.status}`);
    throw new Error(
      `bench: building ${shape} in ${dtype} failed (${command}: ${why}); run it by hand to see why (it needs numpy and python3-onnx), or use --models tiny`,
    );
  }
  process.stderr.write(
    `bench: built ${shape} (${dtype}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return built;
}

/** models/realistic/bench/<shape>-<dtype>/: the shape's files and one graph, as links. */
function linkView(
  built: string,
  shape: RealisticShape,
  dtype: RealisticDtype,
  graph: string,
  root: string,
): string {
  const view = join(root, "models", "realistic", "bench", `${shape}-${dtype}`);
  // Relinked every time: cheap, and never stale after a rebuild.
  rmSync(view, { recursive: true, force: true });
  mkdirSync(join(view, "onnx"), { recursive: true });
  const link = (target: string, at: string) => symlinkSync(relative(join(at, ".."), target), at);
  for (const f of FOLDER_FILES) link(join(built, f), join(view, f));
  link(join(built, graph), join(view, onnxCandidates("fp32")[0]!));
  // External data keeps the name the graph refers to it by, beside the graph.
  const onnxDir = join(built, "onnx");
  const listing = readdirSync(onnxDir).map((f) => `onnx/${f}`);
  for (const data of externalDataFiles(graph, listing)) link(join(built, data), join(view, data));
  return view;
}
