// `halo.models`: names for models (a local folder, a hub id `org/name` with a dtype and a
// revision, or a model object), and loading on first use. The runtime module is imported only
// when an LLM node runs, so importing Halo stays cheap.
//
// A model key (what an LLM node stores) is "shipped", a registered name, an absolute folder, or a
// hub id. Before a plan is lowered, collect() resolves every key it names once per process
// (`prepareModelSources`: a hub id is downloaded into the huggingface_hub cache or found there),
// and the weights' identity (`hf:org/name@<commit>:<dtype>`, `<folder>:<dtype>`) joins the node's
// signature, so results of two models, two commits or two dtypes never stand in for each other.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LlmModel } from "../executor/types.ts";
import { forgetTokenizer } from "../optimizer/context.ts";
import type { LogicalNode } from "../plan/logical.ts";
import { showValue } from "../plan/show-value.ts";
import { isDtype, DTYPES, type Dtype } from "../runtime/dtypes.ts";
import {
  classifySource,
  resolveModelSourceShown,
  type ModelSourceSpec,
  type ResolvedModelSource,
} from "../runtime/model-source.ts";

/** The key of the model shipped with Halo (the default of `.agent()`). */
export const SHIPPED = "shipped";

interface RuntimeModule {
  loadSourceModel(source: ResolvedModelSource): Promise<LlmModel>;
  shippedModelDir(): string;
}

export interface RegisterOptions {
  /** Which graph: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4 (default: the model's own default). */
  dtype?: Dtype;
  /** Hub ids only: branch, tag or commit (default "main"). */
  revision?: string;
}

/** Names and hub ids used as keys -> where the model comes from (folders are keyed by path). */
const sources = new Map<string, ModelSourceSpec>();
const objects = new Map<string, LlmModel>();
/** Hub ids used directly as keys (in `sources` too, with defaults), not registered names. */
const implicit = new Set<string>();
const resolving = new Map<string, Promise<ResolvedModelSource>>();
const resolved = new Map<string, ResolvedModelSource>();
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

async function runtime(): Promise<RuntimeModule> {
  // A computed specifier: the runtime is loaded lazily.
  return (await import(new URL("../runtime/index.ts", import.meta.url).href)) as RuntimeModule;
}

/**
 * Forgets what was known about the model a key meant: its source, its load, and the optimizer's
 * tokenizer for it (explain() plans synchronously with whatever is loaded). Its cost profile is
 * found again by what the key now loads (cost-profiles.ts), and the Processor's workers belong to
 * the loaded model object, so neither can serve the old model under the key.
 */
function forget(key: string): void {
  implicit.delete(key);
  resolving.delete(key);
  resolved.delete(key);
  loaded.delete(key);
  forgetTokenizer(key);
}

/** The source of a key (a registered spec, or the key itself as a folder or a hub id). */
function specOf(key: string): ModelSourceSpec {
  return sources.get(key) ?? { source: key };
}

function checkModelDir(where: string, dir: string): string {
  if (!existsSync(join(dir, "config.json")))
    throw new Error(`${where}: not a model folder (expected a directory with config.json)`);
  return dir;
}

function checkOptions(where: string, options: RegisterOptions): void {
  const known = ["dtype", "revision"];
  for (const k of Object.keys(options))
    if (!known.includes(k))
      throw new TypeError(`${where}: unknown option '${k}' (known: ${known.join(", ")})`);
  if (options.dtype !== undefined && !isDtype(options.dtype))
    throw new TypeError(
      `${where}: dtype must be one of ${DTYPES.join(", ")}, got ${showValue(options.dtype)}`,
    );
  if (
    options.revision !== undefined &&
    (typeof options.revision !== "string" || options.revision === "")
  )
    throw new TypeError(
      `${where}: revision must be a branch, tag or commit name, got ${showValue(options.revision)}`,
    );
}

export const models = {
  /**
   * Names a model: a local folder, a hub id (`org/name`, fetched into the huggingface_hub cache
   * on first use; an existing folder of that relative path wins), or an object implementing
   * generate/encodeChat (e.g. `halo.openai(...)`).
   * @example halo.models.register("qwen", "onnx-community/Qwen2.5-0.5B-Instruct", { dtype: "q4" })
   */
  register(name: string, model: string | LlmModel, options: RegisterOptions = {}): void {
    const where = `halo.models.register('${name}', ${typeof model === "string" ? `'${model}'` : "..."})`;
    if (typeof name !== "string" || name === "" || name === SHIPPED)
      throw new TypeError(
        `halo.models.register(name, source): name must be a non-empty string other than '${SHIPPED}', got ${showValue(name)}`,
      );
    checkOptions(where, options);
    if (typeof model === "string") {
      const kind = classifySource(model);
      if (!kind)
        throw new Error(
          `${where}: not a model folder (expected a directory with config.json) nor a hub id (org/name)`,
        );
      if (kind.kind === "folder" && options.revision !== undefined)
        throw new TypeError(
          `${where}: '${model}' is a local folder; revision applies to hub ids only`,
        );
      if (kind.kind === "folder") checkModelDir(where, kind.dir);
      forget(name);
      objects.delete(name);
      sources.set(name, {
        source: kind.kind === "folder" ? kind.dir : kind.repo,
        ...options,
      });
    } else if (isModelObject(model)) {
      if (Object.keys(options).length > 0)
        throw new TypeError(
          `${where}: dtype and revision apply to folders and hub ids, not model objects`,
        );
      forget(name);
      sources.delete(name);
      objects.set(name, model);
    } else
      throw new TypeError(
        `${where}: expected a folder path, a hub id or a model object (with generate), got ${showValue(model)}`,
      );
  },
  /** Registered names. */
  list(): string[] {
    return [...sources.keys(), ...objects.keys()].filter((k) => !implicit.has(k));
  },
  unregister(name: string): void {
    sources.delete(name);
    objects.delete(name);
    forget(name);
  },
};

/**
 * The stable key an LLM node stores (part of its signature): "shipped", a registered name, an
 * absolute folder, or a hub id. Unknown names fail at once, listing what exists.
 */
export function resolveModelKey(model: string | undefined, where: string): string {
  if (model === undefined) return SHIPPED;
  if (typeof model !== "string" || model === "")
    throw new TypeError(
      `${where}: model must be a folder path, a hub id or a registered name, got ${showValue(model)}`,
    );
  if (model === SHIPPED || objects.has(model) || (sources.has(model) && !implicit.has(model)))
    return model;
  const kind = classifySource(model);
  if (kind?.kind === "folder") return checkModelDir(where, kind.dir);
  if (kind?.kind === "hub") {
    // Pinned to the hub now: a folder of that name created later does not change the key.
    implicit.add(model);
    sources.set(model, { source: kind.repo });
    return model;
  }
  const names = [SHIPPED, ...models.list()].join(", ");
  throw new Error(
    `${where}: model '${model}' is neither a registered name (${names}) nor a model folder with config.json nor a hub id (org/name); register it with halo.models.register(name, source)`,
  );
}

/** The source behind a key, resolved (and, for a hub id, downloaded) once per process. */
function resolveKey(key: string, signal?: AbortSignal): Promise<ResolvedModelSource> {
  let p = resolving.get(key);
  if (!p) {
    p = (async () => {
      const spec = key === SHIPPED ? { source: (await runtime()).shippedModelDir() } : specOf(key);
      const r = await resolveModelSourceShown(spec, signal);
      resolved.set(key, r);
      return r;
    })();
    p.catch(() => resolving.delete(key));
    resolving.set(key, p);
  }
  return p;
}

/** Every model key the plans' LLM nodes name. */
export function modelKeysOf(nodes: LogicalNode[]): string[] {
  const keys = new Set<string>();
  const seen = new Set<LogicalNode>();
  const stack = [...nodes];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.kind === "LlmCall") keys.add(n.args.modelKey);
    stack.push(...n.inputs);
  }
  return [...keys];
}

/**
 * Resolves (downloads) the sources of these keys, one at a time; model objects need nothing.
 * `signal` stops a download (an interrupted cell): its partial file is kept, and the next collect
 * resumes it.
 */
export async function prepareModelSources(keys: string[], signal?: AbortSignal): Promise<void> {
  for (const key of keys) if (!objects.has(key)) await resolveKey(key, signal);
}

/**
 * What identifies a key's weights, for LLM node signatures: set once `prepareModelSources` ran
 * (a plan only explained, never run, gets `unresolved:<key>`); undefined for the shipped model
 * and for model objects, whose key says it all.
 */
export function modelIdentity(key: string): string | undefined {
  if (key === SHIPPED || objects.has(key)) return undefined;
  return resolved.get(key)?.identity ?? `unresolved:${key}`;
}

export function loadModel(key: string): Promise<LlmModel> {
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const object = objects.get(key);
      if (object) return object;
      const [rt, source] = await Promise.all([runtime(), resolveKey(key)]);
      return rt.loadSourceModel(source);
    })();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/**
 * A key's resolved source (its folder, graph file and dtype), for loading and calibration
 * (`getProfile`); undefined for a registered model object, which has no files to measure.
 */
export async function modelSourceOf(key: string): Promise<ResolvedModelSource | undefined> {
  if (objects.has(key)) return undefined;
  return resolveKey(key);
}
