// The prefix cache in simulation, for the optimizer (issue 6): predicts how many prompt tokens
// each request will find cached if requests run in a given order, using the same radix tree and
// eviction as the LlmWorker, with payloads that hold no memory. It replays what the worker does
// per request: match the prompt minus its last token (that one is always recomputed for logits),
// then cache the whole prompt once prefilled.
import { TokenCountPayload } from "./kv-payload.ts";
import { PrefixCache, radixKey } from "./prefix-cache.ts";

export interface CacheSimulatorOptions {
  /** The worker's KV budget for the cache, in bytes (default: unbounded). */
  budgetBytes?: number;
  /** The model's KV bytes per token (2 x layers x kvHeads x headDim x 4 for fp32). */
  bytesPerToken: number;
  /** The model id (cache namespace). */
  modelId: string;
}

export class CacheSimulator {
  readonly cache: PrefixCache<TokenCountPayload>;
  private readonly bytesPerToken: number;
  private readonly modelId: string;

  constructor(options: CacheSimulatorOptions) {
    if (!(options.bytesPerToken > 0)) {
      throw new RangeError(`bytesPerToken must be > 0 (got ${options.bytesPerToken})`);
    }
    this.cache = new PrefixCache<TokenCountPayload>({
      budgetBytes: options.budgetBytes ?? Number.MAX_SAFE_INTEGER,
    });
    this.bytesPerToken = options.bytesPerToken;
    this.modelId = options.modelId;
  }

  /** Cached tokens the request would get now; then its prompt counts as cached. */
  admit(promptTokens: readonly number[]): number {
    const key = radixKey(this.modelId, promptTokens);
    const hit = this.cache.matchPrefix(key, { maxTokens: promptTokens.length - 1 }).numTokens;
    this.cache.insert(key, new TokenCountPayload(promptTokens.length, this.bytesPerToken));
    return hit;
  }

  /** Cached tokens for each request, run in this order. */
  predict(prompts: readonly (readonly number[])[]): number[] {
    return prompts.map((p) => this.admit(p));
  }
}
