// loadModel: a model folder (the Optimum / transformers.js layout, or an onnxruntime-genai build)
// -> a ready Model, with errors that name the file at fault. The graph is picked by dtype
// (choose-decoder.ts, as the hub client downloads it), read before it is fed (graph-signature.ts), made batch-invariant when it
// quantizes activations per tensor (per-token-quantization.ts), and given the batch layout the KV
// self-test proves exact (self-test.ts). getModel caches one Model per folder and options.
import { createHash } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BATCH_LAYOUTS, isBatchLayout, type BatchLayout } from "./batch-layout.ts";
import { chooseFolderDecoder, folderFiles, type DecoderChoice } from "./choose-decoder.ts";
import { DecoderSession } from "./decoder-session.ts";
import { dtypesIn, type Dtype } from "./dtypes.ts";
import { readSignature, type GraphSignature } from "./graph-signature.ts";
import { checkModelFolder, ModelFolderError, readModelFolder } from "./model-files.ts";
import { Model, type GraphInfo } from "./model.ts";
import { FileSource, modelOperators } from "./onnx-proto.ts";
import { keepLastPositionLogits } from "./last-position-logits.ts";
import { outputNewKvOnly } from "./new-kv-outputs.ts";
import { quantizePerToken } from "./per-token-quantization.ts";
import { checkProviderName, createSession, unreadableModelError } from "./providers.ts";
import { selfTest, selfTestTolerance } from "./self-test.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type { ExecutionOptions } from "./types.ts";

export interface LoadOptions extends ExecutionOptions {
  /** Which variant of a folder holding several (transformers.js names and file suffixes). */
  dtype?: Dtype;
  /** An ONNX file to open instead of choosing by dtype (relative to the folder, or absolute). */
  onnxFile?: string;
  /**
   * Check which batch layout runs the graph exactly (default true; a few ms for small models).
   * Off: the layout is inferred from the graph's inputs and operators without a check.
   */
  selfTest?: boolean;
  /** Use this batch layout (the self-test must confirm it, else loading fails). */
  layout?: BatchLayout;
  /**
   * Dynamically quantized graphs (q8, int8, uint8) scale activations per tensor, so a row's answer
   * depends on its batch-mates. Default true: quantize per token instead (exact batching, same
   * batch speed; per-token-quantization.ts). false keeps the graph as exported and batches it
   * anyway: answers may then change with batching (docs/models.md measures how often).
   */
  batchInvariant?: boolean;
  /**
   * Keep the graph's logits for every prompt position (`prefill({ allLogits: true })` needs them).
   * Default false: a graph exported with every position's logits is rewritten to compute the last
   * position's only (last-position-logits.ts), which is all a decoder reads. Whole workloads at
   * SmolLM2-135M's shape in fp32 ran 7-26% faster with it (prefill 5.6 against 8.5 s on
   * tpch-trident) and peak RSS fell by a quarter (docs/benchmarks.md). Isolated decode steps in
   * `bench/runtime/forward-shapes.ts` ran slower on the rewritten graph (its weights load as
   * external data, memory-mapped), a loss the workloads' traces show only as 0-15% per step.
   */
  allPositionLogits?: boolean;
  /**
   * Keep the graph's present KV outputs as exported (past and new positions). Default false: a
   * graph whose presents are a Concat of the past and the new positions is rewritten to output
   * the new positions only (new-kv-outputs.ts), and decode steps append them to the past's buffer
   * in place. onnxruntime-node copies every output into fresh memory after each run, so an
   * exported present cost a copy of the batch's whole KV a step.
   */
  fullKvOutputs?: boolean;
}

/** Absolute path of the model that ships with Halo (models/halo-tiny). */
export function shippedModelDir(): string {
  return fileURLToPath(new URL("../../models/halo-tiny", import.meta.url));
}

/** The chosen decoder and where it lies. */
type GraphFile = DecoderChoice & { path: string };

/** Stable per folder, graph file (version) and numerics: namespaces caches keyed on token ids. */
function modelId(dir: string, file: GraphFile, rewritten: boolean): string {
  const st = statSync(file.path);
  const hash = createHash("sha256")
    .update(`${realpathSync(dir)}\0${file.onnxFile}\0${st.size}\0${st.mtimeMs}\0${rewritten}`)
    .digest("hex");
  const variant = file.dtype && file.dtype !== "fp32" ? `:${file.dtype}` : "";
  return `${basename(dir)}${variant}@${hash.slice(0, 10)}`;
}

/** How a graph quantizes activations at run time, as loaded. */
type RuntimeQuantization = "none" | "per token" | "per tensor" | "per tensor, accepted";

/**
 * The layouts to consider, best first: the self-test takes the first exact one; without a
 * self-test the first is used. Graphs quantized per token run without padding (grouped): padding
 * shifts float rounding upstream of a quantization by about 1e-7, and now and then that crosses a
 * rounding boundary (per-token-quantization.ts; docs/models.md has the measured counts).
 */
function candidateLayouts(
  signature: GraphSignature,
  ops: ReadonlySet<string>,
  quantization: RuntimeQuantization,
): BatchLayout[] {
  if (quantization === "per tensor") return ["serial"];
  if (quantization === "per token") return ["grouped", "serial"];
  if (ops.has("GroupQueryAttention")) return ["contiguous", "grouped", "serial"];
  if (!signature.positionIds) return ["padded", "contiguous", "grouped", "serial"];
  return [...BATCH_LAYOUTS];
}

function readOperators(path: string): { ops: Set<string>; opset: number } {
  const src = new FileSource(path);
  try {
    return modelOperators(src);
  } catch (error) {
    throw unreadableModelError(path, (error as Error).message);
  } finally {
    src.close();
  }
}

/**
 * Whether a graph rewritten to last-position logits runs and returns one position's logits: a
 * head the rewrite misread (a flattened input, say) fails here on shapes, not in a user's run.
 */
async function returnsLastPosition(decoder: DecoderSession, vocab: number): Promise<boolean> {
  try {
    const r = await decoder.run([[1, 2, 3]], decoder.emptyPast(1));
    return r.logitsWidth === 1 && r.logits.length === vocab;
  } catch {
    return false;
  }
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<Model> {
  const folder = resolve(dir);
  checkModelFolder(folder);
  checkProviderName(options.provider);
  if (options.layout !== undefined && !isBatchLayout(options.layout))
    throw new Error(
      `unknown batch layout ${JSON.stringify(options.layout)}: use padded, contiguous, grouped or serial`,
    );
  const files = readModelFolder(folder);
  const config = files.config;
  const tokenizer = new TextTokenizer(folder);
  const choice = chooseFolderDecoder(folder, options);
  const file: GraphFile = { ...choice, path: resolve(folder, choice.onnxFile) };
  const { ops } = readOperators(file.path);

  // Per-tensor dynamic quantization -> per token, unless the user accepts batch-dependent answers.
  const dynamic = ops.has("DynamicQuantizeLinear") || ops.has("DynamicQuantizeMatMul");
  let source: string | Uint8Array = file.path;
  let rewrite: GraphInfo["perTokenQuantization"];
  let lastPositionBefore: string | undefined;
  let newKvOnly = false;
  // The rewritten graph's weights are read from the graph file as external data, and onnxruntime
  // refuses external data whose resolved path leaves the folder it is given: a graph that is a
  // symlink (huggingface_hub's snapshots link into blobs/) must be named by where it really is.
  const perToken = ops.has("DynamicQuantizeLinear") && options.batchInvariant !== false;
  const dataPath =
    perToken || !options.allPositionLogits || !options.fullKvOutputs
      ? realpathSync(file.path)
      : file.path;
  // only nodes and headers are read; the weights stay in the file and load from there
  const src = new FileSource(file.path);
  try {
    // Last position first: it slices in front of an int8 head's DynamicQuantizeLinear, which the
    // per-token rewrite then replaces like every other (reading bytes whose weights are references).
    if (!options.allPositionLogits) {
      const result = keepLastPositionLogits(src, {
        dataFile: basename(dataPath),
        ...(files.genai?.names?.logits ? { logits: files.genai.names.logits } : {}),
      });
      if (result.bytes) {
        source = result.bytes;
        lastPositionBefore = result.slicedBefore;
      }
    }
    if (perToken) {
      const result =
        typeof source === "string"
          ? quantizePerToken(src, { dataFile: basename(dataPath) })
          : quantizePerToken(source);
      rewrite = { rewritten: result.rewritten, kept: result.kept };
      if (result.bytes) source = result.bytes;
    }
    if (!options.fullKvOutputs) {
      const logits = files.genai?.names?.logits ? { logits: files.genai.names.logits } : {};
      const result =
        typeof source === "string"
          ? outputNewKvOnly(src, { dataFile: basename(dataPath), ...logits })
          : outputNewKvOnly(source, logits);
      if (result.bytes) {
        source = result.bytes;
        newKvOnly = true;
      }
    }
  } finally {
    src.close();
  }
  const quantization: RuntimeQuantization = !dynamic
    ? "none"
    : options.batchInvariant === false
      ? "per tensor, accepted"
      : rewrite && rewrite.kept === 0 && !ops.has("DynamicQuantizeMatMul")
        ? "per token"
        : "per tensor";

  let created;
  try {
    created = await createSession(source, options, {
      externalDataFolder: typeof source === "string" ? undefined : dirname(dataPath),
    });
  } catch (error) {
    const why = (error as Error).message.split("\n")[0]!;
    if (why.startsWith("execution provider")) throw error;
    // an operator this build lacks (e.g. MatMulBnb4 on a provider without it): say which
    const op =
      /implementation for (\w+)/.exec(why)?.[1] ??
      /:(\w+)\(-?\d+\) is not a registered function\/op/.exec(why)?.[1];
    const others = [...dtypesIn(folderFiles(folder)).keys()].filter((d) => d !== file.dtype);
    throw new ModelFolderError(
      `onnxruntime could not load ${file.path}${file.dtype ? ` (dtype ${file.dtype})` : ""}: ${why}${
        op
          ? `; this onnxruntime build cannot run ${op}: pick another dtype${others.length ? ` (the folder has ${others.join(", ")})` : ""}`
          : ""
      }`,
    );
  }
  const { session, provider } = created;
  let signature: GraphSignature;
  try {
    signature = readSignature(session, config, file.path, files.genai?.names);
    // A graph that computed only the last position already was sliced where it had one row:
    // nothing changed. Otherwise the declared output still says "every position", and the rewrite
    // made it one.
    if (signature.lastLogitsOnly) lastPositionBefore = undefined;
    if (lastPositionBefore) signature.lastLogitsOnly = true;
    tokenizer.checkVocabulary(config.vocabSize);
  } catch (error) {
    await session.release();
    throw error;
  }
  const shape = {
    numLayers: config.numLayers,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    kvType: signature.kvType,
  };
  const decoder = new DecoderSession(
    session,
    shape,
    config.vocabSize,
    config.padTokenId,
    provider,
    signature,
    ops.has("GroupQueryAttention"),
    newKvOnly,
  );
  const candidates = candidateLayouts(signature, ops, quantization);
  decoder.layout = options.layout ?? candidates[0]!;
  if (lastPositionBefore && !(await returnsLastPosition(decoder, config.vocabSize))) {
    await session.release();
    process.stderr.write(
      `halo: ${file.path}: its logits could not be limited to the last position (the head is not of a form the rewrite knows); loading it as exported\n`,
    );
    return loadModel(dir, { ...options, allPositionLogits: true });
  }
  const halfPrecision =
    signature.kvType === "float16" ||
    signature.logitsType === "float16" ||
    file.dtype === "fp16" ||
    file.dtype === "q4f16";
  const graph: GraphInfo = {
    file: file.onnxFile,
    dtype: file.dtype,
    reason: file.reason,
    kvType: signature.kvType,
    logitsType: signature.logitsType,
    halfPrecision,
    dynamicQuantization:
      quantization === "none"
        ? undefined
        : quantization === "per token"
          ? "per token (rewritten)"
          : "per tensor (batch-dependent)",
    perTokenQuantization: rewrite,
    logits: lastPositionBefore
      ? { lastPositionBefore }
      : signature.lastLogitsOnly || signature.logitsToKeep
        ? "last position"
        : "every position",
    kvOutputs: newKvOnly ? "new positions" : "past and new positions",
  };
  const loadOptions: LoadOptions = {
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.onnxFile ? { onnxFile: options.onnxFile } : {}),
    ...(options.batchInvariant === false ? { batchInvariant: false } : {}),
    ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    ...(options.allPositionLogits ? { allPositionLogits: true } : {}),
    ...(options.fullKvOutputs ? { fullKvOutputs: true } : {}),
  };
  const model = new Model(
    modelId(folder, file, rewrite !== undefined && rewrite.rewritten > 0),
    folder,
    config,
    tokenizer,
    decoder,
    graph,
    loadOptions,
  );
  // batch-dependent on purpose (the user's choice): nothing to prove, batch it as inferred
  const skipTest = options.selfTest === false || quantization === "per tensor, accepted";
  if (!skipTest) {
    const result = await selfTest(model, {
      layouts: options.layout ? [options.layout] : candidates,
      relativeTolerance: selfTestTolerance(
        dynamic ? "dynamic8" : halfPrecision ? "float16" : "float32",
      ),
    });
    model.selfTestResult = result;
    if (options.layout && !result.ok) {
      await model.dispose();
      throw new Error(
        `batch layout "${options.layout}" is not exact for ${file.path} (max |diff| ${result.maxAbsDiff.toExponential(2)} over tolerance ${result.tolerance.toExponential(2)}): leave layout unset to let the self-test choose`,
      );
    }
    decoder.layout = result.layout;
    if (!result.ok)
      process.stderr.write(
        `halo: model ${model.id} fails the KV self-test in every layout (max |diff| ${result.maxAbsDiff.toExponential(2)}): a continuation from cached KV differs from the whole prompt; running one row at a time\n`,
      );
  }
  return model;
}

/**
 * Keyed by the graph file the options pick, not the options as written: `{}` and
 * `{ dtype: "fp32" }` share a model where both open onnx/model.onnx, and two dtypes of one folder
 * never do. A folder the chooser rejects keys by its options; loading it then reports the error.
 */
function cacheKey(dir: string, options: LoadOptions | undefined): string {
  const o = options ?? {};
  let graph: string | undefined;
  try {
    graph = chooseFolderDecoder(resolve(dir), o).onnxFile;
  } catch {
    graph = JSON.stringify([o.dtype, o.onnxFile]);
  }
  return JSON.stringify([
    resolve(dir),
    graph,
    o.batchInvariant,
    o.layout,
    o.allPositionLogits === true,
    o.fullKvOutputs === true,
  ]);
}

const cache = new Map<string, Promise<Model>>();

/** One Model per folder and variant per process (the shipped model when no folder is given). */
export function getModel(dir: string = shippedModelDir(), options?: LoadOptions): Promise<Model> {
  const key = cacheKey(dir, options);
  let entry = cache.get(key);
  if (!entry) {
    entry = loadModel(resolve(dir), options);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

const replicas = new Map<string, Promise<Model>>();

/**
 * Another session of the model in `dir` (replica 0 is `getModel(dir)` itself), cached per folder,
 * variant and index. For a second LLM worker of one model: its own InferenceSession, so two
 * workers run their forward calls independently, with the same model id (their caches share a
 * namespace and KV can move between them). About 120-170 ms for the shipped model against 420 ms
 * for the first load. The layout is the first session's (its self-test ran on the same graph).
 */
export function getModelReplica(
  dir: string,
  replica: number,
  options: LoadOptions = {},
): Promise<Model> {
  if (!(Number.isInteger(replica) && replica >= 0))
    throw new RangeError(`replica must be an integer >= 0 (got ${replica})`);
  if (replica === 0) return getModel(dir, options);
  const key = `${cacheKey(dir, options)}\0${replica}`;
  let entry = replicas.get(key);
  if (!entry) {
    entry = (async () => {
      const first = await getModel(dir, options);
      return loadModel(dir, { ...options, selfTest: false, layout: first.layout });
    })();
    replicas.set(key, entry);
    entry.catch(() => replicas.delete(key));
  }
  return entry;
}
