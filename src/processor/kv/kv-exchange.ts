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
// The exchange lives as long as the Processor's workers (every run of the session): each pull
// records its move in the trace of the run whose request asked for it (its RunSink).
import type { KvPayload } from "./kv-payload.ts";
import { migratePrefix } from "./kv-migration.ts";
import type { KvMoveCost } from "./kv-tiers.ts";
import { radixKey, type PrefixCache } from "./prefix-cache.ts";
import type { KvMigrationStats } from "../trace/trace.ts";
import type { RunSink } from "../trace/run-sink.ts";

export function emptyMigrationStats(): KvMigrationStats {
  return { moves: 0, movedTokens: 0, declined: 0, declinedTokens: 0 };
}

export class KvExchange<K extends KvPayload<K>> {
  readonly stats: KvMigrationStats = emptyMigrationStats();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly caches = new Map<number, PrefixCache<K, any>>();
  private readonly adopters = new Map<number, (payload: K) => K>();

  constructor(
    /** The cache namespace of the model (its id): every member holds KV of this model only. */
    private readonly namespace: string,
    private readonly cost: KvMoveCost,
  ) {}

  /**
   * Adds worker `member`'s cache (its replica number); a later call replaces it. `adopt` makes
   * another member's payload usable by this member's engine (default: as it is).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  join(member: number, cache: PrefixCache<K, any>, adopt?: (payload: K) => K): void {
    this.caches.set(member, cache);
    if (adopt) this.adopters.set(member, adopt);
    else this.adopters.delete(member);
  }

  /**
   * Copies into `member`'s cache the longest prefix of `tokens` another member holds beyond what
   * `member` already has, when moving it is cheaper than recomputing it. Returns tokens moved.
   * The move is a task in `sink`'s trace, on lane `kv:<from>><to>` by the run's lane names.
   */
  pull(member: number, tokens: readonly number[], sink?: RunSink): number {
    const target = this.caches.get(member);
    if (!target || this.caches.size < 2) return 0;
    const key = radixKey(this.namespace, tokens);
    // The last token is recomputed anyway (its logits are needed), as in the worker.
    const limit = { maxTokens: tokens.length - 1 };
    const have = target.peekPrefix(key, limit);
    let best: { member: number; tokens: number } | undefined;
    for (const [other, cache] of this.caches) {
      if (other === member) continue;
      const n = cache.peekPrefix(key, limit);
      if (n > have && (!best || n > best.tokens)) best = { member: other, tokens: n };
    }
    if (!best) return 0;
    const from = sink?.laneOf?.(best.member) ?? `llm:${best.member}`;
    const result = migratePrefix(this.caches.get(best.member)!, target, this.namespace, tokens, {
      cost: this.cost,
      trace: sink?.trace,
      lane: `kv:${from}>${sink?.lane ?? `llm:${member}`}`,
      adopt: this.adopters.get(member),
    });
    for (const stats of sink?.migration ? [this.stats, sink.migration] : [this.stats]) {
      if (result.reason === "moved") {
        stats.moves++;
        stats.movedTokens += result.movedTokens;
      } else if (result.reason === "recompute is cheaper") {
        stats.declined++;
        stats.declinedTokens += best.tokens - have;
      }
    }
    return result.movedTokens;
  }
}
