// Which weights and tokenizer answered an LLM call, for the disk result store's keys: a hash of
// the model folder's ONNX files (src/cost/model-hash.ts, as cost profiles use), config, tokenizer
// and chat template, plus the execution provider (greedy ties may break differently on another
// one). A re-exported model or an edited template gives new keys, so nothing stale is read. A
// model without a folder (a registered object, `halo.openai`) has no identity: its results stay
// in the session store.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hashModelFiles } from "../cost/model-hash.ts";
import type { LlmModel } from "./types.ts";

const MODEL_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "chat_template.jinja",
];
const identities = new WeakMap<LlmModel, string | undefined>();

export function modelIdentity(model: LlmModel): string | undefined {
  if (identities.has(model)) return identities.get(model);
  const { dir, provider } = model as { dir?: unknown; provider?: unknown };
  let identity: string | undefined;
  if (typeof dir === "string") {
    const files = modelFiles(dir);
    if (files.length > 0)
      identity = `${hashModelFiles(files)}:${typeof provider === "string" ? provider : ""}`;
  }
  identities.set(model, identity);
  return identity;
}

/** The ONNX graph with its external-data files (`model.onnx_data*`), then the text files. */
function modelFiles(dir: string): string[] {
  let onnx: string[];
  try {
    onnx = readdirSync(join(dir, "onnx"))
      .filter((name) => name.startsWith("model.onnx"))
      .sort()
      .map((name) => join(dir, "onnx", name));
  } catch {
    return [];
  }
  if (onnx.length === 0) return [];
  return [...onnx, ...MODEL_FILES.map((f) => join(dir, f)).filter((f) => existsSync(f))];
}
