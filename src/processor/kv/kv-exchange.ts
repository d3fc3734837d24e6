// The prefix caches of one model's LLM workers, seen together: when place-work puts a request on
// another worker than the one holding its prompt's prefix (a row's second agent call on worker B,
// its first call's KV on worker A), the worker about to prefill it pulls that prefix across with
// `migratePrefix`, which moves it only when the cost model says copying beats recomputing.
//
// With model threads each member's cache holds handles into its own thread; a member joins with
// an `adopt` that turns another member's handle into its own (the KV moves thread to thread).
//
// Invariant: a pull runs synchronously right before the target worker matches and locks its own
// prefix (LlmWorker's `importPrefix` hook), so no eviction can run between the move and the lock;
// the source locks what it copies for the copy's duration (migratePrefix).
import type { KvPayload } from "./kv-payload.ts";
import { migratePrefix } from "./kv-migration.ts";
import type { KvMoveCost } from "./kv-tiers.ts";
import { radixKey, type PrefixCache } from "./prefix-cache.ts";
import type { KvMigrationStats } from "../trace/trace.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";

export function emptyMigrationStats(): KvMigrationStats {
  return { moves: 0, movedTokens: 0, declined: 0, declinedTokens: 0 };
}

export class KvExchange<K extends KvPayload<K>> {
  readonly stats: KvMigrationStats = emptyMigrationStats();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly caches = new Map<string, PrefixCache<K, any>>();
  private readonly adopters = new Map<string, (payload: K) => K>();

  constructor(
    /** The cache namespace of the model (its id): every member holds KV of this model only. */
    private readonly namespace: string,
    private readonly cost: KvMoveCost,
    private readonly trace?: TraceRecorder,
  ) {}

  /**
   * Adds a worker's cache under its lane; a lane joins once (a later call replaces it). `adopt`
   * makes another member's payload usable by this lane's engine (default: as it is).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  join(lane: string, cache: PrefixCache<K, any>, adopt?: (payload: K) => K): void {
    this.caches.set(lane, cache);
    if (adopt) this.adopters.set(lane, adopt);
    else this.adopters.delete(lane);
  }

  /**
   * Copies into `lane`'s cache the longest prefix of `tokens` another member holds beyond what
   * `lane` already has, when moving it is cheaper than recomputing it. Returns tokens moved.
   */
  pull(lane: string, tokens: readonly number[]): number {
    const target = this.caches.get(lane);
    if (!target || this.caches.size < 2) return 0;
    const key = radixKey(this.namespace, tokens);
    // The last token is recomputed anyway (its logits are needed), as in the worker.
    const limit = { maxTokens: tokens.length - 1 };
    const have = target.peekPrefix(key, limit);
    let best: { lane: string; tokens: number } | undefined;
    for (const [other, cache] of this.caches) {
      if (other === lane) continue;
      const n = cache.peekPrefix(key, limit);
      if (n > have && (!best || n > best.tokens)) best = { lane: other, tokens: n };
    }
    if (!best) return 0;
    const result = migratePrefix(this.caches.get(best.lane)!, target, this.namespace, tokens, {
      cost: this.cost,
      trace: this.trace,
      lane: `kv:${best.lane}>${lane}`,
      adopt: this.adopters.get(lane),
    });
    if (result.reason === "moved") {
      this.stats.moves++;
      this.stats.movedTokens += result.movedTokens;
    } else if (result.reason === "recompute is cheaper") {
      this.stats.declined++;
      this.stats.declinedTokens += best.tokens - have;
    }
    return result.movedTokens;
  }
}
