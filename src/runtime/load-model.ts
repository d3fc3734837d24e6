// loadModel: a folder in the Optimum / transformers.js layout -> a ready Model, with errors that
// name the file at fault. getModel caches one Model per folder per process.
import { createHash } from "node:crypto";
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DecoderSession } from "./decoder-session.ts";
import {
  checkModelFolder,
  MODEL_LAYOUT,
  ModelFolderError,
  parseModelConfig,
  readJsonFile,
} from "./model-files.ts";
import { Model } from "./model.ts";
import { createSession } from "./providers.ts";
import { selfTest } from "./self-test.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type { ExecutionOptions, ModelConfig } from "./types.ts";
import type ort from "onnxruntime-node";

export interface LoadOptions extends ExecutionOptions {
  /** Check cached-vs-recomputed logits after loading (default true; a few ms for small models). */
  selfTest?: boolean;
}

/** Absolute path of the model that ships with Halo (models/halo-tiny). */
export function shippedModelDir(): string {
  return fileURLToPath(new URL("../../models/halo-tiny", import.meta.url));
}

/** Stable per folder (and per model file version): namespaces caches keyed on token ids. */
function modelId(dir: string, onnxPath: string): string {
  const st = statSync(onnxPath);
  const hash = createHash("sha256")
    .update(`${realpathSync(dir)}\0${st.size}\0${st.mtimeMs}`)
    .digest("hex");
  return `${basename(dir)}@${hash.slice(0, 10)}`;
}

function checkGraph(
  session: ort.InferenceSession,
  config: ModelConfig,
  path: string,
  tokenizerVocab: number,
): void {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  for (const name of ["input_ids", "attention_mask", "position_ids"]) {
    if (!inputs.has(name))
      throw new ModelFolderError(
        `${path} has no input "${name}": expected inputs input_ids, attention_mask, position_ids and past_key_values.{i}.key/.value (an Optimum "text-generation-with-past" export)`,
      );
  }
  if (!inputs.has("past_key_values.0.key"))
    throw new ModelFolderError(
      `${path} has no past_key_values.* inputs: Halo needs a decoder exported with its KV cache (Optimum task "text-generation-with-past"; files named decoder_model_merged.onnx or model.onnx with past inputs)`,
    );
  if (!outputs.has("logits")) throw new ModelFolderError(`${path} has no "logits" output`);
  const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ["key", "value"]) {
      const inName = `past_key_values.${l}.${kind}`;
      const outName = `present.${l}.${kind}`;
      if (!inputs.has(inName) || !outputs.has(outName))
        throw new ModelFolderError(
          `${path} lacks ${inName} or ${outName}, but config.json says num_hidden_layers=${config.numLayers}: the model file and config.json do not match`,
        );
      const m = meta.get(inName);
      if (m?.isTensor) {
        if (m.type !== "float32")
          throw new ModelFolderError(
            `${path}: ${inName} is ${m.type}; this runtime handles float32 KV only (export the model in fp32)`,
          );
        const [, heads, , dim] = m.shape;
        if (
          (typeof heads === "number" && heads !== config.numKvHeads) ||
          (typeof dim === "number" && dim !== config.headDim)
        )
          throw new ModelFolderError(
            `${path}: ${inName} has shape [${m.shape.join(", ")}] but config.json implies ${config.numKvHeads} KV heads of dimension ${config.headDim}`,
          );
      }
    }
  }
  const logits = session.outputMetadata.find((m) => m.name === "logits");
  const logitsVocab = logits?.isTensor ? logits.shape[2] : undefined;
  if (typeof logitsVocab === "number" && logitsVocab !== config.vocabSize)
    throw new ModelFolderError(
      `vocabulary mismatch: ${path} produces ${logitsVocab} logits per token but config.json says vocab_size ${config.vocabSize}`,
    );
  if (tokenizerVocab > config.vocabSize)
    throw new ModelFolderError(
      `vocabulary mismatch: tokenizer.json has token ids up to ${tokenizerVocab - 1} but config.json says vocab_size ${config.vocabSize}: the tokenizer belongs to another model`,
    );
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<Model> {
  const folder = resolve(dir);
  checkModelFolder(folder);
  const rawConfig = readJsonFile(
    folder,
    "config.json",
    true,
    "it gives the layer, head and vocabulary numbers",
  )!;
  const generation = readJsonFile(folder, "generation_config.json", false, "it gives eos/pad ids");
  const config = parseModelConfig(folder, rawConfig, generation);
  const tokenizer = new TextTokenizer(folder);
  const onnxPath = join(folder, "onnx", "model.onnx");
  if (!existsSync(onnxPath))
    throw new ModelFolderError(`missing onnx/model.onnx in ${folder}: expected ${MODEL_LAYOUT}`);
  const { session, provider } = await createSession(onnxPath, options);
  try {
    checkGraph(session, config, onnxPath, tokenizer.vocabSize);
  } catch (error) {
    await session.release();
    throw error;
  }
  const shape = {
    numLayers: config.numLayers,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
  };
  const decoder = new DecoderSession(session, shape, config.vocabSize, config.padTokenId, provider);
  const model = new Model(modelId(folder, onnxPath), folder, config, tokenizer, decoder);
  if (options.selfTest !== false) {
    const result = await selfTest(model);
    model.selfTestResult = result;
    if (!result.ok)
      process.stderr.write(
        `halo: model ${model.id} fails the KV self-test (max |diff| ${result.maxAbsDiff.toExponential(2)}): padded continuation is not exact for this graph\n`,
      );
  }
  return model;
}

const cache = new Map<string, Promise<Model>>();

/** One Model per folder per process (the shipped model when no folder is given). */
export function getModel(dir: string = shippedModelDir(), options?: LoadOptions): Promise<Model> {
  const key = resolve(dir);
  let entry = cache.get(key);
  if (!entry) {
    entry = loadModel(key, options);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

const replicas = new Map<string, Promise<Model>>();

/**
 * Another session of the model in `dir` (replica 0 is `getModel(dir)` itself), cached per folder
 * and index. For a second LLM worker of one model: its own InferenceSession, so two workers run
 * their forward calls independently, with the same model id (their caches share a namespace and
 * KV can move between them). About 120-170 ms for the shipped model against 420 ms for the first
 * load; no self-test, the first session of the same graph ran it.
 */
export function getModelReplica(
  dir: string,
  replica: number,
  options: LoadOptions = {},
): Promise<Model> {
  if (!(Number.isInteger(replica) && replica >= 0))
    throw new RangeError(`replica must be an integer >= 0 (got ${replica})`);
  if (replica === 0) return getModel(dir, options);
  const key = `${resolve(dir)}\0${replica}`;
  let entry = replicas.get(key);
  if (!entry) {
    entry = loadModel(dir, { ...options, selfTest: false });
    replicas.set(key, entry);
    entry.catch(() => replicas.delete(key));
  }
  return entry;
}
