// Moving cached KV between two workers' caches (two model sessions in one process), when the plan
// places a request on another worker than the one holding its prefix. The move happens only when
// the cost model says copying beats recomputing the prefill there, and is traced as a `kv-move`.
// In-process both sessions read the same payload; with model threads `adopt` turns the source
// thread's handle into the target's, the KV moving thread to thread by transfer.
import type { KvPayload } from "./kv-payload.ts";
import type { KvMoveCost } from "./kv-tiers.ts";
import { radixKey, type PrefixCache } from "./prefix-cache.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";

export interface MigrationResult {
  /** Tokens of prefix KV copied to the target (0 when nothing was worth moving). */
  movedTokens: number;
  /** Why: "moved", "already cached", "nothing cached", or "recompute is cheaper". */
  reason: "moved" | "already cached" | "nothing cached" | "recompute is cheaper";
}

/**
 * Copies the part of `tokens`' cached prefix that `source` has and `target` lacks into `target`.
 * Both caches must hold KV of the same model (one namespace): KV of two models never mixes.
 */
export function migratePrefix<
  P extends KvPayload<P>,
  S extends KvPayload<S>,
  T extends KvPayload<T>,
>(
  source: PrefixCache<P, S>,
  target: PrefixCache<P, T>,
  namespace: string,
  tokens: readonly number[],
  options: {
    cost: KvMoveCost;
    trace?: TraceRecorder;
    lane?: string;
    /** Makes a source payload usable by the target's engine (default: as it is). */
    adopt?: (payload: P) => P;
  },
): MigrationResult {
  // The last token is recomputed anyway (logits), as in the worker.
  const key = radixKey(namespace, tokens);
  const limit = { maxTokens: tokens.length - 1 };
  const have = target.peekPrefix(key, limit);
  const available = source.peekPrefix(key, limit);
  if (available === 0) return { movedTokens: 0, reason: "nothing cached" };
  if (available <= have) return { movedTokens: 0, reason: "already cached" };
  const match = source.matchPrefix(key, limit);
  source.lock(match.node);
  let payload: P | undefined;
  try {
    payload = source.loadPrefix(match)!;
    const newTokens = match.numTokens - have;
    const bytes = (payload.bytes * newTokens) / payload.numTokens;
    const moveMs = options.cost.moveMs(bytes, "out") + options.cost.moveMs(bytes, "in");
    if (!(moveMs < options.cost.recomputeMs(newTokens, have))) {
      return { movedTokens: 0, reason: "recompute is cheaper" };
    }
    const task = options.trace?.begin(options.lane ?? "kv:migrate", "kv-move");
    const moved = options.adopt ? options.adopt(payload) : payload;
    // The target slices what it keeps; both payloads here were ours for the move only.
    target.insert(radixKey(namespace, tokens.slice(0, match.numTokens)), moved);
    if (moved !== payload) moved.release?.();
    task?.end({ bytes, detail: "migrate" });
    return { movedTokens: newTokens, reason: "moved" };
  } finally {
    payload?.release?.();
    source.unlock(match.node);
  }
}
