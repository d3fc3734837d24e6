// Which weights and tokenizer answered an LLM call, for the disk result store's keys: a hash of
// the graph file the model's source resolved to (its dtype's, with its external-data files;
// src/cost/model-hash.ts, as cost profiles use), the config, tokenizer and chat template, plus
// the execution provider (greedy ties may break differently on another one). A re-exported
// model, another dtype or an edited template gives new keys, so nothing stale is read. A model
// without files (a registered object, `halo.openai`) has no identity: its results stay in the
// session store.
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { hashModelFiles } from "../cost/model-hash.ts";
import { externalDataFiles } from "../runtime/dtypes.ts";
import type { LlmModel } from "./types.ts";

const TEXT_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "chat_template.jinja",
];
const identities = new Map<string, string | undefined>();

/**
 * The identity of `model`'s weights when it is the runtime's model of that source (its `dir`
 * is the source's folder; a stand-in registered for the same key is not), else undefined.
 */
export function weightsIdentity(
  model: LlmModel,
  source: { dir: string; onnxFile: string } | undefined,
): string | undefined {
  const { dir, provider } = model as { dir?: unknown; provider?: unknown };
  if (!source || typeof dir !== "string" || resolve(dir) !== resolve(source.dir)) return undefined;
  const key = `${source.dir}\0${source.onnxFile}\0${String(provider)}`;
  if (!identities.has(key)) {
    const files = modelFiles(source.dir, source.onnxFile);
    identities.set(
      key,
      files && `${hashModelFiles(files)}:${typeof provider === "string" ? provider : ""}`,
    );
  }
  return identities.get(key);
}

/** The graph, its external-data files (`model.onnx_data*`), then the text files there are. */
function modelFiles(dir: string, onnxFile: string): string[] | undefined {
  const graph = join(dir, onnxFile);
  if (!existsSync(graph)) return undefined;
  let siblings: string[];
  try {
    siblings = readdirSync(dirname(graph));
  } catch {
    return undefined;
  }
  const data = externalDataFiles(basename(graph), siblings).map((f) => join(dirname(graph), f));
  const text = TEXT_FILES.map((f) => join(dir, f)).filter((f) => existsSync(f));
  return [graph, ...data, ...text];
}
