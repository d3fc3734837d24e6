// `halo.models`: names for model folders (or model objects), and loading on first use. The
// runtime module is imported only when an LLM node runs, so importing Halo stays cheap.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { LlmModel } from "../executor/types.ts";
import { forgetTokenizer } from "../optimizer/context.ts";

/** The key of the model shipped with Halo (the default of `.agent()`). */
export const SHIPPED = "shipped";

interface RuntimeModule {
  getModel(dir?: string): Promise<LlmModel>;
  shippedModelDir(): string;
}

const registered = new Map<string, string | LlmModel>();
const loaded = new Map<string, Promise<LlmModel>>();

function isModelObject(x: unknown): x is LlmModel {
  const m = x as LlmModel;
  return (
    !!m &&
    typeof m === "object" &&
    typeof m.generate === "function" &&
    typeof m.encodeChat === "function"
  );
}

function isModelDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && existsSync(resolve(dir, "config.json"));
  } catch {
    return false;
  }
}

async function runtime(): Promise<RuntimeModule> {
  // A computed specifier: the runtime lands in parallel (issue 4) and is loaded lazily.
  return (await import(new URL("../runtime/index.ts", import.meta.url).href)) as RuntimeModule;
}

export const models = {
  /** Names a model folder (the runtime's layout) or an object implementing generate/encodeChat. */
  register(name: string, model: string | LlmModel): void {
    if (typeof name !== "string" || name === "" || name === SHIPPED)
      throw new TypeError(
        `halo.models.register(name, dir): name must be a non-empty string other than '${SHIPPED}'`,
      );
    if (typeof model === "string") {
      if (!isModelDir(model))
        throw new Error(
          `halo.models.register('${name}', '${model}'): not a model folder (expected a directory with config.json)`,
        );
      registered.set(name, resolve(model));
    } else if (isModelObject(model)) registered.set(name, model);
    else
      throw new TypeError(
        `halo.models.register('${name}', ...): expected a folder path or a model object`,
      );
    forget(name);
  },
  /** Registered names. */
  list(): string[] {
    return [...registered.keys()];
  },
  unregister(name: string): void {
    registered.delete(name);
    forget(name);
  },
};

/**
 * What was known about the model a name meant: its load, and the optimizer's tokenizer for it
 * (explain() plans synchronously with whatever is loaded). Its cost profile is found again by
 * what the name now loads (cost-profiles.ts), and the Processor's workers belong to the loaded
 * model object, so neither can serve the old model under the name.
 */
function forget(name: string): void {
  loaded.delete(name);
  forgetTokenizer(name);
}

/**
 * The stable key an LLM node stores (part of its signature): "shipped", a registered name, or
 * an absolute folder. Unknown names fail at once, listing what exists.
 */
export function resolveModelKey(model: string | undefined, where: string): string {
  if (model === undefined) return SHIPPED;
  if (typeof model !== "string" || model === "")
    throw new TypeError(`${where}: model must be a folder path or a registered name`);
  if (model === SHIPPED || registered.has(model)) return model;
  if (isModelDir(model)) return resolve(model);
  const names = [SHIPPED, ...registered.keys()].join(", ");
  throw new Error(
    `${where}: model '${model}' is neither a registered name (${names}) nor a model folder with config.json; register it with halo.models.register(name, dir)`,
  );
}

export function loadModel(key: string): Promise<LlmModel> {
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const entry = registered.get(key);
      if (entry && typeof entry !== "string") return entry;
      const rt = await runtime();
      const dir = key === SHIPPED ? rt.shippedModelDir() : (entry ?? key);
      return rt.getModel(dir);
    })();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/**
 * The folder a model key loads from, for calibration (`getProfile`); undefined for a registered
 * model object, which has no files to measure (the cost model keeps its prior profile).
 */
export async function modelDirOf(key: string): Promise<string | undefined> {
  if (key === SHIPPED) return (await runtime()).shippedModelDir();
  const entry = registered.get(key);
  if (entry !== undefined) return typeof entry === "string" ? entry : undefined;
  return isModelDir(key) ? key : undefined;
}
