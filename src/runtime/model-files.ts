// Reading a model folder (the Optimum / transformers.js layout, or an onnxruntime-genai build)
// with errors that name the file and what was expected, so a user pointing Halo at the wrong
// folder knows what to fix.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ModelConfig } from "./types.ts";

export const MODEL_LAYOUT =
  "config.json, tokenizer.json, tokenizer_config.json, generation_config.json and onnx/model.onnx (or onnx/model_<dtype>.onnx; an onnxruntime-genai build names its file in genai_config.json)";

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelFolderError";
  }
}

export function checkModelFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFolderError(
      `model folder not found: ${dir} (expected a folder holding ${MODEL_LAYOUT})`,
    );
  }
}

type Json = Record<string, unknown>;

/** Parses a JSON file of the folder; `required: false` returns undefined when it is absent. */
export function readJsonFile(
  dir: string,
  name: string,
  required: boolean,
  purpose: string,
): Json | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new ModelFolderError(`missing ${name} in ${dir}: it is required (${purpose})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelFolderError(
      `malformed ${path}: not valid JSON (${(error as Error).message}); ${purpose}`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ModelFolderError(`malformed ${path}: expected a JSON object; ${purpose}`);
  }
  return value as Json;
}

function pickNumber(config: Json, names: string[], path: string, fallback?: number): number {
  for (const name of names) {
    const v = config[name];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  if (fallback !== undefined) return fallback;
  throw new ModelFolderError(
    `malformed ${path}: missing numeric field ${names.join(" or ")} (needed to shape the KV cache)`,
  );
}

function idList(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === "number");
  return [];
}

function object(value: unknown): Json | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

/**
 * Architecture numbers from config.json, eos/pad ids from generation_config.json when present.
 * A multimodal config keeps the language model's numbers in a nested `text_config` (Gemma 3,
 * Qwen2-VL style): those win over the outer ones.
 */
export function parseModelConfig(
  dir: string,
  outer: Json,
  generation: Json | undefined,
  fileName = "config.json",
): ModelConfig {
  const path = join(dir, fileName);
  const text = object(outer.text_config);
  const config: Json = text ? { ...outer, ...text } : outer;
  const numHeads = pickNumber(config, ["num_attention_heads", "n_head"], path);
  const hiddenSize = pickNumber(config, ["hidden_size", "n_embd"], path);
  const eosTokenIds = [
    ...new Set([
      ...idList(generation?.eos_token_id),
      ...idList(config.eos_token_id),
      ...idList(outer.eos_token_id),
    ]),
  ];
  if (eosTokenIds.length === 0) {
    throw new ModelFolderError(
      `malformed ${path}: no eos_token_id here or in generation_config.json (generation needs to know when to stop)`,
    );
  }
  const pad = generation?.pad_token_id ?? config.pad_token_id;
  const bos = generation?.bos_token_id ?? config.bos_token_id;
  return {
    modelType: typeof config.model_type === "string" ? config.model_type : "unknown",
    numLayers: pickNumber(config, ["num_hidden_layers", "n_layer", "num_layers"], path),
    numHeads,
    numKvHeads: pickNumber(config, ["num_key_value_heads"], path, numHeads),
    headDim: pickNumber(config, ["head_dim"], path, hiddenSize / numHeads),
    hiddenSize,
    vocabSize: pickNumber(config, ["vocab_size"], path),
    maxPositions: pickNumber(
      config,
      ["max_position_embeddings", "n_positions", "context_length"],
      path,
      2048,
    ),
    eosTokenIds,
    padTokenId: typeof pad === "number" ? pad : eosTokenIds[0]!,
    ...(typeof bos === "number" ? { bosTokenId: bos } : {}),
  };
}

/** What an onnxruntime-genai build's genai_config.json says about its decoder. */
export interface GenaiDecoder {
  /** The ONNX file, relative to the folder. */
  filename: string;
  /** Input and output names; `%d` in the KV names stands for the layer. */
  names: Record<string, string>;
}

export interface ModelFolder {
  config: ModelConfig;
  genai?: GenaiDecoder;
}

/**
 * config.json (or, in an onnxruntime-genai build without one, genai_config.json's `model`
 * section), generation_config.json, and the transformers.js / genai blocks.
 */
export function readModelFolder(dir: string): ModelFolder {
  const genaiJson = readJsonFile(dir, "genai_config.json", false, "it names the ONNX file");
  const hasConfig = existsSync(join(dir, "config.json"));
  const raw = readJsonFile(
    dir,
    "config.json",
    !genaiJson,
    "it gives the layer, head and vocabulary numbers",
  );
  const generation = readJsonFile(dir, "generation_config.json", false, "it gives eos/pad ids");
  const genaiModel = object(genaiJson?.model);
  const genaiDecoder = object(genaiModel?.decoder);
  let config: ModelConfig;
  if (hasConfig) config = parseModelConfig(dir, raw!, generation);
  else {
    if (!genaiModel || !genaiDecoder)
      throw new ModelFolderError(
        `malformed ${join(dir, "genai_config.json")}: no model.decoder section (and no config.json beside it)`,
      );
    // genai's own field names, mapped onto config.json's
    config = parseModelConfig(
      dir,
      {
        model_type: genaiModel.type,
        num_hidden_layers: genaiDecoder.num_hidden_layers,
        num_attention_heads: genaiDecoder.num_attention_heads,
        num_key_value_heads: genaiDecoder.num_key_value_heads,
        head_dim: genaiDecoder.head_size,
        hidden_size: genaiDecoder.hidden_size,
        vocab_size: genaiModel.vocab_size,
        context_length: genaiModel.context_length,
        eos_token_id: genaiModel.eos_token_id,
        pad_token_id: genaiModel.pad_token_id,
        bos_token_id: genaiModel.bos_token_id,
      },
      generation,
      "genai_config.json",
    );
  }
  let genai: GenaiDecoder | undefined;
  if (genaiDecoder && typeof genaiDecoder.filename === "string") {
    const names: Record<string, string> = {};
    for (const section of [genaiDecoder.inputs, genaiDecoder.outputs])
      for (const [k, v] of Object.entries(object(section) ?? {}))
        if (typeof v === "string") names[k] = v;
    genai = { filename: genaiDecoder.filename, names };
  }
  return { config, ...(genai ? { genai } : {}) };
}
