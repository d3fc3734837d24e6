// Which cached node goes first when the cache is over budget. One method per policy, so a new
// policy is a few lines; the tree only ever compares priorities (lower evicts first).

/** What a policy may look at: the tree keeps these up to date. */
export interface EvictionCandidate {
  /** Logical clock of the last match or insert that touched the node (monotonic, no wall time). */
  readonly lastAccess: number;
  /** Matches that used the node. */
  readonly hitCount: number;
  readonly bytes: number;
}

export interface EvictionPolicy {
  readonly name: string;
  /** Lower evicts first. Ties are broken by the node id (older first), so order is exact. */
  priority(node: EvictionCandidate): number;
}

/** Least recently used: the default, as in SGLang and vLLM. */
export class LruPolicy implements EvictionPolicy {
  readonly name = "lru";
  priority(node: EvictionCandidate): number {
    return node.lastAccess;
  }
}
