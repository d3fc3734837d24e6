// Picks how a model's requests are run: the continuous-batching LlmWorker with the prefix cache
// when the model is the runtime's Model (it exposes the batched forward), else a GenerateBatcher
// over `generate` (any model object a user registered). The worker's engine runs the model in a
// worker thread (default) or in-process on the JS thread (`modelThreads: false`).
import type { LlmModel } from "../../executor/types.ts";
import type { BatchSizerOptions } from "./batch-sizer.ts";
import type { KvExchange } from "../kv/kv-exchange.ts";
import { KvTiers, type KvMoveCost } from "../kv/kv-tiers.ts";
import { GenerateBatcher, type LlmSubmitter } from "./llm-submitter.ts";
import type { LlmEngine } from "./llm-engine.ts";
import { LlmWorker } from "./llm-worker.ts";
import { PrefixCache } from "../kv/prefix-cache.ts";
import { RuntimeEngine, isRuntimeModel, type RuntimeKv } from "./runtime-engine.ts";
import { ThreadedEngine } from "./thread/threaded-engine.ts";
import type { ThreadKv } from "./thread/thread-kv.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";
import { Model } from "../../runtime/index.ts";

/** KV of a local model's worker: in-process payloads, or handles on KV in its model thread. */
export type LocalKv = RuntimeKv | ThreadKv;

export interface LlmSubmitterOptions {
  /** KV memory per model worker (running sequences + prefix cache). Default 512 MiB. */
  kvBudgetBytes?: number;
  /** Reuse KV of shared prompt prefixes (default true). */
  prefixCache?: boolean;
  /**
   * A host tier for prefixes the cache evicts when the KV budget is exceeded: they move there
   * (and back, prefetched ahead of their request where there is room) when the cost model says
   * the round trip beats recomputing them. Default: as much as `kvBudgetBytes`; 0 turns it off.
   * On a CPU both tiers are main memory (the identity codec: a move is bookkeeping), so this is
   * extra cache room; on a GPU the host tier would be host memory.
   */
  hostKvBudgetBytes?: number;
  /** Use the continuous-batching worker when the model allows it (default true). */
  continuousBatching?: boolean;
  /** Decode batch sizing (initial, min, max, ...). */
  batch?: BatchSizerOptions;
  /**
   * Run each worker's model session in a worker thread of its own (default true), so forwards
   * never block the JS thread that runs tools, the kernel and the server. false: in-process.
   */
  modelThreads?: boolean;
}

/**
 * One prefix cache per worker engine for the whole process, so a later collect (another cell)
 * still finds the prefixes an earlier one computed. Keyed by the engine, whose KV the cache holds
 * (weakly: an unloaded model frees it; a stopped thread's engine is replaced, and its cache too).
 */
let caches = new WeakMap<object, PrefixCache<LocalKv>>();

/** Per model session (replica), its engine of each kind, for the whole process. */
const engines = new WeakMap<Model, { thread?: ThreadedEngine; inProcess?: RuntimeEngine }>();

/** The engine a worker of `model` runs on: its thread (started once, again if it stopped). */
function engineFor(model: Model, options: LlmSubmitterOptions): LlmEngine<LocalKv> {
  const slot = engines.get(model) ?? {};
  engines.set(model, slot);
  if (options.modelThreads === false) return (slot.inProcess ??= new RuntimeEngine(model));
  if (!slot.thread?.alive) slot.thread = new ThreadedEngine(model);
  return slot.thread;
}

/**
 * Forgets every model's shared prefix cache: the next run starts cold. For measurements that
 * compare systems in one process (the benchmarks), so no system inherits another's warm KV.
 */
export function resetSharedPrefixCaches(): void {
  caches = new WeakMap();
}

/**
 * The model session a second (third, ...) worker of `model` runs on: replica 0 is the model
 * itself; others are further onnxruntime sessions of its folder, so workers compute independently
 * and keep KV in caches of their own. With model threads each replica's session is its thread's
 * (`threadReplica`); in-process it is `getModelReplica`'s. A model that is not the runtime's (a
 * registered object, a remote engine) has no session to copy: every worker shares it.
 */
export async function modelReplica(
  model: LlmModel,
  replica: number,
  options: LlmSubmitterOptions = {},
): Promise<LlmModel> {
  if (replica === 0 || !isRuntimeModel(model)) return model;
  if (options.modelThreads !== false && options.continuousBatching !== false)
    return threadReplica(model, replica);
  // Imported here, not at the top: the runtime (onnxruntime) loads only when a model runs.
  const { getModelReplica } = await import("../../runtime/load-model.ts");
  const provider = model.provider as "cpu" | "cuda" | "webgpu";
  return getModelReplica(model.dir, replica, { ...model.loadOptions, provider });
}

const threadReplicas = new WeakMap<Model, Map<number, Model>>();

/**
 * Replica `replica` of `model` when workers run in threads: its session is its thread's, so this
 * thread needs none of its own. The same model (tokenizer, config, this thread's session, which
 * it never runs) under another identity, which keys its own thread and prefix cache.
 */
function threadReplica(model: Model, replica: number): Model {
  const byIndex = threadReplicas.get(model) ?? new Map<number, Model>();
  threadReplicas.set(model, byIndex);
  let view = byIndex.get(replica);
  if (!view) {
    // the same graph and load options: its thread loads the same variant in the same layout
    view = new Model(
      model.id,
      model.dir,
      model.config,
      model.tokenizer,
      model.session,
      model.graph,
      model.loadOptions,
    );
    view.selfTestResult = model.selfTestResult;
    byIndex.set(replica, view);
  }
  return view;
}

function newCache(
  budget: number,
  options: LlmSubmitterOptions & { moveCost?: KvMoveCost },
): PrefixCache<LocalKv> {
  const host = options.hostKvBudgetBytes ?? budget;
  if (!(host >= 0))
    throw new RangeError(`hostKvBudgetBytes must be a number >= 0 (got ${String(host)})`);
  const tiers =
    host > 0 ? new KvTiers<LocalKv>({ hostBudgetBytes: host, cost: options.moveCost }) : undefined;
  return new PrefixCache<LocalKv>({ budgetBytes: budget, tiers });
}

export function createSubmitter(
  model: LlmModel,
  // No trace and no signal for a submitter shared by several runs (the server's): each request
  // then brings its own signal, and no run's trace collects another run's batches.
  options: LlmSubmitterOptions & {
    trace?: TraceRecorder;
    lane: string;
    signal?: AbortSignal;
    /** The model's other workers' caches: prefixes they hold move in when that is cheaper. */
    exchange?: KvExchange<LocalKv>;
    /** What moving KV costs (the cost model's); default: the measured copy rate. */
    moveCost?: KvMoveCost;
  },
): LlmSubmitter {
  if (options.continuousBatching !== false && isRuntimeModel(model)) {
    const budget = options.kvBudgetBytes ?? 512 * 2 ** 20;
    const engine = engineFor(model, options);
    let cache: PrefixCache<LocalKv> | false = false;
    if (options.prefixCache !== false) {
      cache = caches.get(engine) ?? newCache(budget, options);
      caches.set(engine, cache);
      // The cache outlives this run: its tiers record moves in the run now using it.
      if (cache.tiers) cache.tiers.trace = options.trace;
      // KV another worker's thread holds moves into this one's thread to be used here.
      const adopt =
        engine instanceof ThreadedEngine
          ? (kv: LocalKv) => engine.adopt(kv as ThreadKv)
          : undefined;
      options.exchange?.join(options.lane, cache, adopt);
    }
    const exchange = cache ? options.exchange : undefined;
    const lane = options.lane;
    const worker = new LlmWorker(engine, {
      kvBudgetBytes: budget,
      cache,
      trace: options.trace,
      lane: options.lane,
      batch: options.batch,
      ...(exchange && { importPrefix: (tokens) => exchange.pull(lane, tokens) }),
    });
    return {
      submit: (request, submitOptions = {}) =>
        worker.submit(request, { signal: options.signal, ...submitOptions }),
    };
  }
  return new GenerateBatcher(model, {
    trace: options.trace,
    lane: options.lane,
    signal: options.signal,
  });
}
