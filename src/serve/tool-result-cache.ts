// Tool results kept across the server's mini-batches, so a query arriving later still finds the
// SQL rows or API answer an earlier batch fetched (issue 10: "tool results stay warm"). Only calls
// the plan marks deterministic reach a cache at all (the ToolPool skips volatile ones). Unlike
// one collect(), a server lives for days: the cache is bounded in entries (least recently used
// goes first) and in age (a read-only SQL result or a GET may change over hours; `ttlMs` bounds
// how stale an answer may be).
import type { ToolResultCache } from "../processor/tools/tool-pool.ts";

export class BoundedToolCache implements ToolResultCache {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the LRU one.
  private readonly entries = new Map<string, { result: Promise<unknown>; at: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(Number.isInteger(maxEntries) && maxEntries >= 1))
      throw new RangeError(`tool cache: maxEntries must be an integer >= 1 (got ${maxEntries})`);
    if (!(ttlMs > 0)) throw new RangeError(`tool cache: ttlMs must be > 0 (got ${ttlMs})`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(signature: string): Promise<unknown> | undefined {
    const entry = this.entries.get(signature);
    if (!entry) return undefined;
    this.entries.delete(signature);
    if (this.now() - entry.at > this.ttlMs) return undefined;
    this.entries.set(signature, entry);
    return entry.result;
  }

  set(signature: string, result: Promise<unknown>): void {
    this.entries.delete(signature);
    this.entries.set(signature, { result, at: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  delete(signature: string): void {
    this.entries.delete(signature);
  }

  clear(): void {
    this.entries.clear();
  }
}
