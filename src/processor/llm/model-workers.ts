// One model's LLM workers for as long as the Processor keeps them: a worker per replica (its own
// model session, prefix cache and host tier), and the KvExchange between their caches. Every run
// of the session submits to the same workers, so a later collect finds the prefixes an earlier one
// computed, and overlapping runs (`halo serve`'s mini-batches) join one continuous batch. Nothing
// here belongs to a run: each request carries its run's sink (trace, lanes, migration counts), and
// what a forward call measured goes to the session's CostModel as it happens.
import type { CostModel } from "../../cost/cost-model.ts";
import type { LlmModel } from "../../executor/types.ts";
import type { ProcessorConfig } from "../config.ts";
import { KvExchange } from "../kv/kv-exchange.ts";
import { KvTiers, type KvMoveCost } from "../kv/kv-tiers.ts";
import { PrefixCache } from "../kv/prefix-cache.ts";
import {
  createEngine,
  engineStopped,
  kvAdopter,
  modelReplica,
  type LocalKv,
} from "./engine-factory.ts";
import { isRuntimeModel } from "./runtime-engine.ts";
import { GenerateBatcher, type LlmSubmitter } from "./llm-submitter.ts";
import { LlmWorker } from "./llm-worker.ts";

export class ModelWorkers {
  readonly exchange: KvExchange<LocalKv>;
  private readonly workers = new Map<number, Promise<LlmSubmitter>>();
  /** The continuous-batching workers made so far, by replica (their batch limits, their caches). */
  readonly batching = new Map<number, LlmWorker<LocalKv>>();

  constructor(
    private readonly model: LlmModel,
    /** The key plan nodes name the model by: the CostModel's alias for its profile. */
    private readonly modelKey: string,
    private readonly config: ProcessorConfig,
    /** The session's cost model now (whoever calibrates may replace it). */
    private readonly cost: () => CostModel,
  ) {
    this.exchange = new KvExchange<LocalKv>(model.id, this.moveCost());
  }

  /**
   * The worker of replica `replica` (0 = the model's own session), made on first use, and made
   * again when its model thread stopped (`closeModelThreads`, a crash): the thread's KV is gone,
   * so the new worker starts with a new engine and a cold cache.
   */
  worker(replica: number): Promise<LlmSubmitter> {
    let w = this.workers.get(replica);
    const engine = this.batching.get(replica)?.engine;
    if (engine && engineStopped(engine)) w = undefined;
    if (!w) {
      w = this.create(replica);
      // A failed start (a replica that cannot load) is retried by the next request.
      w.catch(() => this.workers.delete(replica));
      this.workers.set(replica, w);
    }
    return w;
  }

  /**
   * Makes the workers of the first `replicas` replicas and resolves once each can run a forward
   * (its model thread has loaded the session). A load that fails rejects here and again at the
   * first request, which retries it.
   */
  async warm(replicas: number): Promise<void> {
    const indexes = Array.from({ length: replicas }, (_, r) => r);
    await Promise.all(indexes.map((r) => this.worker(r)));
    await Promise.all(indexes.map((r) => this.batching.get(r)?.engine.ready));
  }

  private async create(replica: number): Promise<LlmSubmitter> {
    const { kv, batch, llm } = this.config;
    this.batching.delete(replica);
    const engine = llm.continuousBatching
      ? await createEngine(this.model, replica, { modelThreads: llm.modelThreads })
      : undefined;
    if (!engine) return new GenerateBatcher(await modelReplica(this.model, replica));
    // The cache holds this engine's KV (with threads, handles into its thread): one per engine.
    const cache = kv.prefixCache ? this.newCache() : false;
    if (cache) this.exchange.join(replica, cache, kvAdopter(engine));
    const worker = new LlmWorker<LocalKv>(engine, {
      kvBudgetBytes: kv.budgetBytes,
      cache,
      prefetch: kv.prefetch,
      prefillTokenBudget: batch.prefillTokenBudget,
      deferSharedTokens: batch.deferSharedTokens,
      batch: { initial: batch.initial, min: batch.min, max: batch.max, maxStepMs: batch.maxStepMs },
      ...(cache && {
        importPrefix: (tokens, sink) => void this.exchange.pull(replica, tokens, sink),
      }),
      onStep: (step, ms) => this.cost().observe({ ...step, model: this.modelKey }, ms),
      // a padded batch runs every row at its longest row's width: split calls by length
      ...(isRuntimeModel(this.model) &&
        this.model.layout === "padded" && {
          stepCost: (batch: number, width: number) =>
            this.cost().decodeStepMs(batch, width, this.modelKey),
          prefillCost: (batch: number, width: number) =>
            this.cost().prefillMs(
              Array.from({ length: batch }, () => ({ newTokens: width, cachedTokens: 0 })),
              this.modelKey,
            ),
        }),
    });
    this.batching.set(replica, worker);
    return worker;
  }

  private newCache(): PrefixCache<LocalKv> {
    const { budgetBytes, hostBudgetBytes } = this.config.kv;
    const tiers =
      hostBudgetBytes > 0
        ? new KvTiers<LocalKv>({ hostBudgetBytes, cost: this.moveCost() })
        : undefined;
    return new PrefixCache<LocalKv>({ budgetBytes, tiers });
  }

  /** Move costs priced by whatever cost model the session holds at the time of the move. */
  private moveCost(): KvMoveCost {
    return {
      moveMs: (bytes, direction) => this.cost().kvMoveCost(this.modelKey).moveMs(bytes, direction),
      recomputeMs: (n, context) => this.cost().kvMoveCost(this.modelKey).recomputeMs(n, context),
    };
  }
}
