// The shared prefix KV cache: a radix tree keyed by token ids, one tree per namespace (model id),
// whose nodes hold the KV of their span. A request's prefill computes only the tokens after its
// longest cached prefix. The same class, over `TokenCountPayload`, is the optimizer's simulator.
//
// Invariants:
// - Keys are token ids, never text: BPE merges across a text boundary, so enc(a) + enc(b) can
//   differ from enc(a + b) (runtime notes, pitfall 1).
// - When every prompt token hits, the last one is still recomputed to get the logits for the first
//   output token: the scheduler matches with `maxTokens: prompt.length - 1`.
// - Fast-tier nodes form a subtree closed under parents: a node leaves the fast tier only when no
//   child is in it, and comes back only with its whole path. So a match is a run of fast nodes
//   followed by a run of host nodes.
// - Locked nodes (and their ancestors, which `lock` also counts) are never evicted or moved out.
//   With everything locked the cache stays over budget rather than fail: callers degrade.
// - The cache owns the payloads its nodes hold: it releases each one it drops or replaces
//   (KvPayload's ownership rule), so KV held elsewhere (a model thread) is freed on eviction.
import { LruPolicy, type EvictionPolicy } from "./eviction-policy.ts";
import type { KvPayload } from "./kv-payload.ts";
import type { KvTiers } from "./kv-tiers.ts";
import { MinHeap } from "./min-heap.ts";
import { RadixNode, commonLength, type CacheNode } from "./radix-node.ts";

/** A cache key: token ids within a namespace (the model id; different models never share KV). */
export interface RadixKey {
  readonly namespace: string;
  readonly tokens: readonly number[];
}

export function radixKey(namespace: string, tokens: readonly number[]): RadixKey {
  if (typeof namespace !== "string" || namespace === "") {
    throw new TypeError("a cache key needs a non-empty namespace (the model id)");
  }
  return { namespace, tokens };
}

export interface MatchResult {
  readonly namespace: string;
  /** Length of the longest cached prefix (capped by `maxTokens`). */
  readonly numTokens: number;
  /** Of those, tokens whose KV is in the host tier and must move in before use. */
  readonly numHostTokens: number;
  /** The deepest matched node (a root when nothing matched): lock it while the KV is in use. */
  readonly node: CacheNode;
}

export interface InsertResult {
  /** Tokens added to the tree. */
  readonly numNewTokens: number;
  /** Tokens already cached: KV computed again that a better schedule would have reused. */
  readonly numDuplicateTokens: number;
}

export interface PrefixCacheStats {
  lookups: number;
  lookupTokens: number;
  hitTokens: number;
  hostHitTokens: number;
  /** Prefill tokens not computed because their KV was loaded from the cache (`loadPrefix`). */
  tokensSaved: number;
  insertedTokens: number;
  duplicateTokens: number;
  /** Nodes dropped from the tree (fast-tier evictions that did not move out, and host evictions). */
  evictions: number;
  evictedTokens: number;
  /** Nodes moved to the host tier, and back. */
  offloads: number;
  loads: number;
  /** Of `loads`, those made by `prefetch` ahead of a request's turn, and their tokens. */
  prefetches: number;
  prefetchedTokens: number;
}

export interface PrefixCacheOptions<P extends KvPayload<P>, H extends KvPayload<H>> {
  /** Fast-tier capacity in bytes. */
  budgetBytes: number;
  /** Default LRU. */
  policy?: EvictionPolicy;
  /** A host tier for cold KV; without it evicted KV is dropped. */
  tiers?: KvTiers<P, H>;
}

type Node<P extends KvPayload<P>, H extends KvPayload<H>> = RadixNode<P, H>;

/** A victim heap entry: the node and its priority when offered (stale once that changes). */
interface VictimEntry<P extends KvPayload<P>, H extends KvPayload<H>> {
  node: Node<P, H>;
  priority: number;
}

/** Entries the victim heap may hold before a rebuild drops the stale ones. */
const VICTIMS_MIN_REBUILD = 4096;

export class PrefixCache<P extends KvPayload<P>, H extends KvPayload<H> = P> {
  budgetBytes: number;
  readonly stats: PrefixCacheStats = {
    lookups: 0,
    lookupTokens: 0,
    hitTokens: 0,
    hostHitTokens: 0,
    tokensSaved: 0,
    insertedTokens: 0,
    duplicateTokens: 0,
    evictions: 0,
    evictedTokens: 0,
    offloads: 0,
    loads: 0,
    prefetches: 0,
    prefetchedTokens: 0,
  };
  private readonly policy: EvictionPolicy;
  /** The host tier, when there is one. */
  readonly tiers?: KvTiers<P, H>;
  private readonly roots = new Map<string, Node<P, H>>();
  private nextId = 1;
  /** Logical clock: one tick per match or insert, so LRU order is exact and testable. */
  private clock = 0;
  private fastBytesUsed = 0;
  private hostBytesUsed = 0;
  /**
   * Fast-tier eviction candidates, kept across evictions (a walk of the whole tree per eviction
   * made the planner's cache simulation quadratic). Lazy: a node is offered whenever it may have
   * become a victim or its priority changed; an entry is stale, and skipped, when the node is no
   * longer a victim or its priority moved on. Invariant: every current victim has an entry with
   * its current priority, so the heap's first valid entry is the policy's choice.
   */
  private victims: MinHeap<VictimEntry<P, H>> = this.emptyVictims();
  /** Rebuild the victim heap from the tree when stale entries make it this large. */
  private victimsRebuildAt = VICTIMS_MIN_REBUILD;

  constructor(options: PrefixCacheOptions<P, H>) {
    checkBudget(options.budgetBytes);
    this.budgetBytes = options.budgetBytes;
    this.policy = options.policy ?? new LruPolicy();
    this.tiers = options.tiers;
  }

  get fastBytes(): number {
    return this.fastBytesUsed;
  }

  get hostBytes(): number {
    return this.hostBytesUsed;
  }

  /** Fast-tier bytes that eviction could free now (in nodes no request has locked). */
  get evictableBytes(): number {
    let bytes = 0;
    for (const node of this.walk()) if (node.fast && node.lockRef === 0) bytes += node.fast.bytes;
    return bytes;
  }

  /** Finds the longest cached prefix of `key` (at most `maxTokens` tokens) and marks it used. */
  matchPrefix(key: RadixKey, options: { maxTokens?: number } = {}): MatchResult {
    const tokens = key.tokens;
    const limit = Math.max(0, Math.min(tokens.length, options.maxTokens ?? tokens.length));
    const tick = ++this.clock;
    this.stats.lookups++;
    this.stats.lookupTokens += limit;
    let node = this.rootOf(key.namespace);
    let pos = 0;
    let hostTokens = 0;
    while (pos < limit) {
      let child = node.children.get(tokens[pos]!);
      if (!child) break;
      const k = commonLength(child.tokens, tokens, pos, limit);
      // Split so the match ends on a node boundary: the result is then whole nodes to lock/load.
      if (k < child.numTokens) child = this.split(child, k);
      child.lastAccess = tick;
      child.hitCount++;
      this.offerVictim(child);
      if (child.host) hostTokens += k;
      pos += k;
      node = child;
    }
    this.stats.hitTokens += pos;
    this.stats.hostHitTokens += hostTokens;
    return { namespace: key.namespace, numTokens: pos, numHostTokens: hostTokens, node };
  }

  /** Length `matchPrefix` would return, without touching LRU order, statistics or the tree. */
  peekPrefix(key: RadixKey, options: { maxTokens?: number } = {}): number {
    const tokens = key.tokens;
    const limit = Math.max(0, Math.min(tokens.length, options.maxTokens ?? tokens.length));
    let node = this.roots.get(key.namespace);
    let pos = 0;
    while (node && pos < limit) {
      const child: Node<P, H> | undefined = node.children.get(tokens[pos]!);
      if (!child) break;
      const k = commonLength(child.tokens, tokens, pos, limit);
      pos += k;
      node = k === child.numTokens ? child : undefined;
    }
    return pos;
  }

  /**
   * How many tokens of `key`'s cached prefix (at most `maxTokens`) are worth using now: all of
   * them, or only the fast-tier part when the tiers say moving the host-tier rest in costs more
   * than recomputing it (`KvTiers.stats.admissionDeclined`). Match this many before a prefill.
   * The fast part is a prefix of the match (fast nodes are closed under parents), so cutting
   * there is a node boundary. No LRU or tree change.
   */
  usablePrefix(key: RadixKey, options: { maxTokens?: number } = {}): number {
    const cold = this.peekHost(key, options.maxTokens);
    if (!this.tiers || cold.numHostTokens === 0) return cold.numTokens;
    const fast = cold.numTokens - cold.numHostTokens;
    const worth = this.tiers.shouldLoad(cold.numHostTokens, cold.hostBytes, fast, "admission");
    return worth ? cold.numTokens : fast;
  }

  /** Caches `payload`, the KV of all of `key.tokens`, then evicts down to the budget. */
  insert(key: RadixKey, payload: P): InsertResult {
    const tokens = key.tokens;
    const n = tokens.length;
    if (payload.numTokens !== n) {
      throw new RangeError(
        `insert: the KV covers ${payload.numTokens} tokens but the key has ${n}: pass the KV of exactly the key's tokens`,
      );
    }
    const tick = ++this.clock;
    let node = this.rootOf(key.namespace);
    let pos = 0;
    let numNew = 0;
    while (pos < n) {
      let child = node.children.get(tokens[pos]!);
      if (!child) {
        const leaf = new RadixNode<P, H>(this.nextId++, tokens.slice(pos), pos);
        leaf.fast = payload.slice(pos, n);
        leaf.parent = node;
        leaf.lastAccess = tick;
        node.children.set(tokens[pos]!, leaf);
        this.fastBytesUsed += leaf.fast.bytes;
        this.offerVictim(leaf);
        numNew = n - pos;
        break;
      }
      const k = commonLength(child.tokens, tokens, pos, n);
      if (k < child.numTokens) child = this.split(child, k);
      if (child.host) {
        // We hold this span's KV already: promote it rather than keep the host copy.
        this.hostBytesUsed -= child.host.bytes;
        child.host.release?.();
        child.host = undefined;
        child.fast = payload.slice(pos, pos + k);
        this.fastBytesUsed += child.fast.bytes;
      }
      child.lastAccess = tick;
      this.offerVictim(child);
      pos += k;
      node = child;
    }
    this.stats.insertedTokens += numNew;
    this.stats.duplicateTokens += n - numNew;
    this.evict(this.fastBytesUsed - this.budgetBytes);
    return { numNewTokens: numNew, numDuplicateTokens: n - numNew };
  }

  /** Protects the path from the root to `node` from eviction and moves until `unlock`. */
  lock(node: CacheNode): void {
    for (const n of this.attachedPath(node, "lock")) n.lockRef++;
  }

  unlock(node: CacheNode): void {
    for (const n of this.attachedPath(node, "unlock")) {
      if (n.lockRef === 0) {
        throw new Error(`unlock of cache node ${n.id} that is not locked: unlock once per lock`);
      }
      n.lockRef--;
      if (n.lockRef === 0) this.offerVictim(n);
    }
  }

  /**
   * The KV of a match's prefix as one payload, moving host-tier nodes back in first (each move a
   * `kv-move` task). Undefined for an empty match. The match must still be attached: lock it
   * right after matching.
   */
  loadPrefix(match: MatchResult): P | undefined {
    if (match.numTokens === 0) return undefined;
    const path = this.attachedPath(match.node, "loadPrefix");
    this.lock(match.node);
    try {
      this.moveIn(path);
      const [first, ...rest] = path.map((n) => n.fast!);
      this.stats.tokensSaved += match.numTokens;
      return first!.concat(rest);
    } finally {
      this.unlock(match.node);
      this.evict(this.fastBytesUsed - this.budgetBytes);
    }
  }

  /**
   * Moves the host-tier part of `key`'s cached prefix into the fast tier ahead of its turn, when
   * the tiers say moving it in beats recomputing it and it is at most `maxBytes`. Returns the
   * tokens and (host-form) bytes moved; none when nothing is cold, it is not worth it, or too big.
   * With `keepLocked` the moved prefix stays locked (`node`) until the caller unlocks it, so it
   * cannot be evicted again before its request uses it.
   */
  prefetch(
    key: RadixKey,
    options: { maxTokens?: number; maxBytes?: number; keepLocked?: boolean } = {},
  ): { numTokens: number; bytes: number; node?: CacheNode } {
    const none = { numTokens: 0, bytes: 0 };
    const cold = this.peekHost(key, options.maxTokens);
    if (!this.tiers || cold.numHostTokens === 0) return none;
    if (cold.hostBytes > (options.maxBytes ?? Infinity)) return none;
    const context = cold.numTokens - cold.numHostTokens;
    if (!this.tiers.shouldLoad(cold.numHostTokens, cold.hostBytes, context)) return none;
    const match = this.matchPrefix(key, options);
    this.lock(match.node);
    const loadsBefore = this.stats.loads;
    try {
      this.moveIn(this.attachedPath(match.node, "prefetch"));
    } catch (error) {
      this.unlock(match.node);
      throw error;
    }
    if (!options.keepLocked) this.unlock(match.node);
    this.stats.prefetches += this.stats.loads - loadsBefore;
    this.stats.prefetchedTokens += match.numHostTokens;
    const moved = { numTokens: match.numHostTokens, bytes: cold.hostBytes };
    return options.keepLocked ? { ...moved, node: match.node } : moved;
  }

  /** The host-tier part of `key`'s cached prefix, without touching LRU order or the tree. */
  private peekHost(
    key: RadixKey,
    maxTokens = key.tokens.length,
  ): { numTokens: number; numHostTokens: number; hostBytes: number } {
    const tokens = key.tokens;
    const limit = Math.max(0, Math.min(tokens.length, maxTokens));
    let node = this.roots.get(key.namespace);
    let pos = 0;
    let numHostTokens = 0;
    let hostBytes = 0;
    while (node && pos < limit) {
      const child: Node<P, H> | undefined = node.children.get(tokens[pos]!);
      if (!child) break;
      const k = commonLength(child.tokens, tokens, pos, limit);
      if (child.host) {
        numHostTokens += k;
        // A partial node moves in as its matched slice: bytes in proportion to its tokens.
        hostBytes += (child.host.bytes * k) / child.numTokens;
      }
      pos += k;
      node = k === child.numTokens ? child : undefined;
    }
    return { numTokens: pos, numHostTokens, hostBytes };
  }

  /**
   * Frees at least `numBytes` of the fast tier if it can, coldest first by the policy: each victim
   * moves to the host tier when the tiers say a round trip beats recomputing, else is dropped.
   * Returns the bytes freed (less than asked when the rest is locked).
   */
  evict(numBytes: number): number {
    if (!(numBytes > 0)) return 0;
    let freed = 0;
    while (freed < numBytes && this.victims.size > 0) {
      const { node, priority } = this.victims.pop()!;
      if (!this.isFastVictim(node) || this.policy.priority(node) !== priority) continue;
      const parent = node.parent!;
      freed += this.evictFast(node);
      if (!parent.isRoot) this.offerVictim(parent);
    }
    return freed;
  }

  /** Tree as text, one node a line, for tests and debugging. */
  describe(): string {
    const lines: string[] = [];
    const visit = (node: Node<P, H>, indent: string) => {
      const children = [...node.children.values()].sort((a, b) => a.tokens[0]! - b.tokens[0]!);
      for (const c of children) {
        const tier = c.fast ? "fast" : "host";
        const lock = c.lockRef > 0 ? ` lock=${c.lockRef}` : "";
        lines.push(`${indent}#${c.id} [${c.tokens.join(",")}] ${tier} ${c.bytes}B${lock}`);
        visit(c, `${indent}  `);
      }
    };
    for (const [ns, root] of [...this.roots].sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push(`${ns}:`);
      visit(root, "  ");
    }
    return lines.join("\n");
  }

  private evictFast(node: Node<P, H>): number {
    const payload = node.fast!;
    const bytes = payload.bytes;
    const tiers = this.tiers;
    if (
      tiers &&
      tiers.shouldOffload(node.numTokens, bytes, node.startPos) &&
      this.makeHostRoom(bytes)
    ) {
      node.host = tiers.moveOut(payload);
      if ((node.host as unknown) !== payload) payload.release?.();
      node.fast = undefined;
      this.fastBytesUsed -= bytes;
      this.hostBytesUsed += node.host.bytes;
      this.stats.offloads++;
    } else {
      this.drop(node);
    }
    return bytes;
  }

  /** Evicts host-tier leaves (coldest first) until `bytes` more fit; false if they cannot. */
  private makeHostRoom(bytes: number): boolean {
    const budget = this.tiers!.hostBudgetBytes;
    if (this.hostBytesUsed + bytes <= budget) return true;
    let evictable = 0;
    for (const n of this.walk()) if (n.host && n.lockRef === 0) evictable += n.host.bytes;
    if (this.hostBytesUsed - evictable + bytes > budget) return false;
    const heap = this.candidateHeap((n) => this.isHostVictim(n));
    while (this.hostBytesUsed + bytes > budget && heap.size > 0) {
      const node = heap.pop()!;
      if (!this.isHostVictim(node)) continue;
      const parent = node.parent!;
      this.drop(node);
      if (!parent.isRoot && this.isHostVictim(parent)) heap.push(parent);
    }
    return this.hostBytesUsed + bytes <= budget;
  }

  /** Removes `node` and its subtree (all host-tier by the closure invariant) from the tree. */
  private drop(node: Node<P, H>): void {
    node.parent!.children.delete(node.tokens[0]!);
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.fast) this.fastBytesUsed -= n.fast.bytes;
      if (n.host) this.hostBytesUsed -= n.host.bytes;
      n.fast?.release?.();
      n.host?.release?.();
      this.stats.evictions++;
      this.stats.evictedTokens += n.numTokens;
      n.fast = undefined;
      n.host = undefined;
      stack.push(...n.children.values());
    }
    node.parent = undefined;
  }

  private moveIn(path: readonly Node<P, H>[]): void {
    for (const n of path) {
      if (!n.host) continue;
      const stored = n.host;
      // Make room first; the caller locked the path, so this never evicts what it loads.
      this.evict(this.fastBytesUsed + stored.bytes - this.budgetBytes);
      n.fast = this.tiers!.moveIn(stored);
      if ((n.fast as unknown) !== stored) stored.release?.();
      n.host = undefined;
      this.hostBytesUsed -= stored.bytes;
      this.fastBytesUsed += n.fast.bytes;
      this.stats.loads++;
      this.offerVictim(n);
    }
  }

  private isFastVictim(n: Node<P, H>): boolean {
    return n.fast !== undefined && n.lockRef === 0 && !n.hasFastChild();
  }

  private isHostVictim(n: Node<P, H>): boolean {
    return n.host !== undefined && n.lockRef === 0 && n.children.size === 0;
  }

  /** Adds `n` to the victim heap when it is a victim now, at its current priority. */
  private offerVictim(n: Node<P, H>): void {
    if (!this.isFastVictim(n)) return;
    if (this.victims.size >= this.victimsRebuildAt) {
      // Mostly stale entries: start again from the tree (amortized over as many offers).
      this.victims = this.emptyVictims();
      for (const v of this.walk()) if (this.isFastVictim(v)) this.pushVictim(v);
      this.victimsRebuildAt = Math.max(VICTIMS_MIN_REBUILD, 4 * this.victims.size);
      return; // n, a victim, was pushed by the walk
    }
    this.pushVictim(n);
  }

  private pushVictim(n: Node<P, H>): void {
    this.victims.push({ node: n, priority: this.policy.priority(n) });
  }

  private emptyVictims(): MinHeap<VictimEntry<P, H>> {
    return new MinHeap<VictimEntry<P, H>>(
      (a, b) => a.priority < b.priority || (a.priority === b.priority && a.node.id < b.node.id),
    );
  }

  private candidateHeap(accept: (n: Node<P, H>) => boolean): MinHeap<Node<P, H>> {
    const policy = this.policy;
    const heap = new MinHeap<Node<P, H>>((a, b) => {
      const pa = policy.priority(a);
      const pb = policy.priority(b);
      return pa < pb || (pa === pb && a.id < b.id);
    });
    // A full walk per round: O(nodes). Only the host tier uses it (rare: moves out are few).
    for (const n of this.walk()) if (accept(n)) heap.push(n);
    return heap;
  }

  /** Splits `node` after `k` tokens; returns the new upper part (which keeps the position). */
  private split(node: Node<P, H>, k: number): Node<P, H> {
    const parent = node.parent!;
    const upper = new RadixNode<P, H>(this.nextId++, node.tokens.slice(0, k), node.startPos);
    if (node.fast) {
      const whole = node.fast;
      this.fastBytesUsed -= whole.bytes;
      upper.fast = whole.slice(0, k);
      node.fast = whole.slice(k, node.numTokens);
      whole.release?.();
      this.fastBytesUsed += upper.fast.bytes + node.fast.bytes;
    } else if (node.host) {
      const whole = node.host;
      this.hostBytesUsed -= whole.bytes;
      upper.host = whole.slice(0, k);
      node.host = whole.slice(k, node.numTokens);
      whole.release?.();
      this.hostBytesUsed += upper.host.bytes + node.host.bytes;
    }
    upper.lockRef = node.lockRef;
    upper.lastAccess = node.lastAccess;
    upper.hitCount = node.hitCount;
    upper.parent = parent;
    parent.children.set(upper.tokens[0]!, upper);
    node.tokens = node.tokens.slice(k);
    node.startPos += k;
    node.parent = upper;
    upper.children.set(node.tokens[0]!, node);
    return upper;
  }

  private rootOf(namespace: string): Node<P, H> {
    let root = this.roots.get(namespace);
    if (!root) {
      root = new RadixNode<P, H>(0, [], 0);
      this.roots.set(namespace, root);
    }
    return root;
  }

  private own(node: CacheNode): Node<P, H> {
    if (!(node instanceof RadixNode)) {
      throw new TypeError("pass a node from this cache's matchPrefix result");
    }
    return node as Node<P, H>;
  }

  /** Root-to-node path (root excluded); throws when the node was evicted since it was matched. */
  private attachedPath(handle: CacheNode, verb: string): Node<P, H>[] {
    const path: Node<P, H>[] = [];
    let n = this.own(handle);
    while (n.parent) {
      path.push(n);
      n = n.parent;
    }
    if (!n.isRoot || ![...this.roots.values()].includes(n)) {
      throw new Error(
        `${verb}: cache node ${handle.id} was evicted since it was matched: lock a match right after matchPrefix`,
      );
    }
    return path.reverse();
  }

  private *walk(): Generator<Node<P, H>> {
    const stack: Node<P, H>[] = [...this.roots.values()];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (!n.isRoot) yield n;
      for (const c of n.children.values()) stack.push(c);
    }
  }
}

function checkBudget(bytes: number): void {
  if (!(typeof bytes === "number" && bytes >= 0)) {
    throw new RangeError(`budgetBytes must be a number >= 0 (got ${String(bytes)})`);
  }
}
