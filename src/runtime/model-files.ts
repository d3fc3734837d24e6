// Reading a model folder (the Optimum / transformers.js layout) with errors that name the file
// and what was expected, so a user pointing Halo at the wrong folder knows what to fix.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ModelConfig } from "./types.ts";

export const MODEL_LAYOUT =
  "config.json, tokenizer.json, tokenizer_config.json, generation_config.json and onnx/model.onnx";

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

/** Parses a JSON file of the folder; `required: false` returns undefined when it is absent. */
export function readJsonFile(
  dir: string,
  name: string,
  required: boolean,
  purpose: string,
): Record<string, unknown> | undefined {
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
  return value as Record<string, unknown>;
}

function pickNumber(
  config: Record<string, unknown>,
  names: string[],
  path: string,
  fallback?: number,
): number {
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

/** Architecture numbers from config.json, eos/pad ids from generation_config.json when present. */
export function parseModelConfig(
  dir: string,
  config: Record<string, unknown>,
  generation: Record<string, unknown> | undefined,
): ModelConfig {
  const path = join(dir, "config.json");
  const numHeads = pickNumber(config, ["num_attention_heads", "n_head"], path);
  const hiddenSize = pickNumber(config, ["hidden_size", "n_embd"], path);
  const eosTokenIds = [
    ...new Set([...idList(generation?.eos_token_id), ...idList(config.eos_token_id)]),
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
    maxPositions: pickNumber(config, ["max_position_embeddings", "n_positions"], path, 2048),
    eosTokenIds,
    padTokenId: typeof pad === "number" ? pad : eosTokenIds[0]!,
    ...(typeof bos === "number" ? { bosTokenId: bos } : {}),
  };
}
