// The Processor's prefix cache in simulation: the same radix tree and LRU eviction as the
// LlmWorker, over payloads that hold no memory, replaying what the worker does per request:
// match the prompt minus its last token (that one is recomputed for logits), then cache the
// whole prompt. Budget and bytes per token come from the cost model's profile, so the simulated
// cache fills and evicts where the real one would.
import type { CostModel } from "../cost/cost-model.ts";
import { TokenCountPayload } from "../processor/kv-payload.ts";
import { PrefixCache, radixKey } from "../processor/prefix-cache.ts";

export class PrefixSimulator {
  private readonly caches = new Map<string, PrefixCache<TokenCountPayload>>();

  constructor(private readonly cost: CostModel) {}

  /**
   * Cached tokens `tokens` would find now; then they count as cached. `complete` is false for a
   * known prefix of a longer prompt: all of it may hit, and only it is cached afterwards.
   */
  admit(model: string, tokens: readonly number[], complete: boolean): number {
    if (tokens.length === 0) return 0;
    const cache = this.cacheFor(model);
    const key = radixKey(model, tokens);
    const limit = complete ? tokens.length - 1 : tokens.length;
    const hit = cache.matchPrefix(key, { maxTokens: limit }).numTokens;
    cache.insert(
      key,
      new TokenCountPayload(tokens.length, this.cost.profile(model).kvBytesPerToken),
    );
    return hit;
  }

  private cacheFor(model: string): PrefixCache<TokenCountPayload> {
    let c = this.caches.get(model);
    if (!c) {
      c = new PrefixCache<TokenCountPayload>({ budgetBytes: this.cost.kvBudgetBytes(model) });
      this.caches.set(model, c);
    }
    return c;
  }
}
