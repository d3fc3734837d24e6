// One node of the prefix cache's radix tree: an edge labelled with a span of token ids and the KV
// for exactly that span, in one of two tiers. Internal to the cache; callers hold nodes only as
// opaque handles (`CacheNode`) to lock and unlock.
import type { EvictionCandidate } from "./eviction-policy.ts";
import type { KvPayload } from "./kv-payload.ts";

/** What callers may read of a node: enough to log and test, nothing to mutate. */
export interface CacheNode {
  readonly id: number;
  /** Tokens from the root to the end of this node. */
  readonly depth: number;
  readonly lockRef: number;
}

export class RadixNode<P extends KvPayload<P>, H extends KvPayload<H>>
  implements EvictionCandidate, CacheNode
{
  /** The edge's span. Invariant: children's first tokens are distinct (the map key). */
  tokens: number[];
  /** Tokens from the root to the start of this node (the context a recompute would attend to). */
  startPos: number;
  /** KV in the fast tier. At most one of `fast` / `host` is set (neither only for a root). */
  fast: P | undefined;
  /** KV in the host tier. Invariant: every descendant of a host node is a host node. */
  host: H | undefined;
  parent: RadixNode<P, H> | undefined;
  readonly children = new Map<number, RadixNode<P, H>>();
  /** Requests using this node or a descendant; locked nodes are never evicted or moved out. */
  lockRef = 0;
  lastAccess = 0;
  hitCount = 0;

  constructor(
    readonly id: number,
    tokens: number[],
    startPos: number,
  ) {
    this.tokens = tokens;
    this.startPos = startPos;
  }

  get numTokens(): number {
    return this.tokens.length;
  }

  get depth(): number {
    return this.startPos + this.tokens.length;
  }

  get bytes(): number {
    return this.fast?.bytes ?? this.host?.bytes ?? 0;
  }

  get isRoot(): boolean {
    return this.parent === undefined && this.tokens.length === 0;
  }

  hasFastChild(): boolean {
    for (const child of this.children.values()) if (child.fast !== undefined) return true;
    return false;
  }
}

/** Length of the common run of `span` and `tokens[from, limit)`. */
export function commonLength(
  span: readonly number[],
  tokens: readonly number[],
  from: number,
  limit: number,
): number {
  const n = Math.min(span.length, limit - from);
  let i = 0;
  while (i < n && span[i] === tokens[from + i]) i++;
  return i;
}
