// Picks how a model's requests are run: the continuous-batching LlmWorker with the prefix cache
// when the model is the runtime's Model (it exposes the batched forward), else a GenerateBatcher
// over `generate` (any model object a user registered).
import type { LlmModel } from "../../executor/types.ts";
import type { BatchSizerOptions } from "./batch-sizer.ts";
import type { KvExchange } from "../kv/kv-exchange.ts";
import { KvTiers, type KvMoveCost } from "../kv/kv-tiers.ts";
import { GenerateBatcher, type LlmSubmitter } from "./llm-submitter.ts";
import { LlmWorker } from "./llm-worker.ts";
import { PrefixCache } from "../kv/prefix-cache.ts";
import { RuntimeEngine, isRuntimeModel, type RuntimeKv } from "./runtime-engine.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";

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
}

/**
 * One prefix cache per loaded model for the whole process, so a later collect (another cell)
 * still finds the prefixes an earlier one computed. Keyed weakly: an unloaded model frees it.
 */
let caches = new WeakMap<object, PrefixCache<RuntimeKv>>();

/**
 * Forgets every model's shared prefix cache: the next run starts cold. For measurements that
 * compare systems in one process (the benchmarks), so no system inherits another's warm KV.
 */
export function resetSharedPrefixCaches(): void {
  caches = new WeakMap();
}

/**
 * The model session a second (third, ...) worker of `model` runs on: replica 0 is the model
 * itself; others are further onnxruntime sessions of its folder (`getModelReplica`), so workers
 * compute independently and keep KV in caches of their own. A model that is not the runtime's
 * (a registered object, a remote engine) has no session to copy: every worker shares it.
 */
export async function modelReplica(model: LlmModel, replica: number): Promise<LlmModel> {
  if (replica === 0 || !isRuntimeModel(model)) return model;
  // Imported here, not at the top: the runtime (onnxruntime) loads only when a model runs.
  const { getModelReplica } = await import("../../runtime/load-model.ts");
  const provider = model.provider as "cpu" | "cuda" | "webgpu";
  return getModelReplica(model.dir, replica, { ...model.loadOptions, provider });
}

function newCache(
  budget: number,
  options: LlmSubmitterOptions & { moveCost?: KvMoveCost },
): PrefixCache<RuntimeKv> {
  const host = options.hostKvBudgetBytes ?? budget;
  if (!(host >= 0))
    throw new RangeError(`hostKvBudgetBytes must be a number >= 0 (got ${String(host)})`);
  const tiers =
    host > 0
      ? new KvTiers<RuntimeKv>({ hostBudgetBytes: host, cost: options.moveCost })
      : undefined;
  return new PrefixCache<RuntimeKv>({ budgetBytes: budget, tiers });
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
    exchange?: KvExchange<RuntimeKv>;
    /** What moving KV costs (the cost model's); default: the measured copy rate. */
    moveCost?: KvMoveCost;
  },
): LlmSubmitter {
  if (options.continuousBatching !== false && isRuntimeModel(model)) {
    const budget = options.kvBudgetBytes ?? 512 * 2 ** 20;
    let cache: PrefixCache<RuntimeKv> | false = false;
    if (options.prefixCache !== false) {
      cache = caches.get(model) ?? newCache(budget, options);
      caches.set(model, cache);
      // The cache outlives this run: its tiers record moves in the run now using it.
      if (cache.tiers) cache.tiers.trace = options.trace;
      options.exchange?.join(options.lane, cache);
    }
    const exchange = cache ? options.exchange : undefined;
    const lane = options.lane;
    const worker = new LlmWorker(new RuntimeEngine(model), {
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
