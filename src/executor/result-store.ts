// Session result reuse: a node's output by signature, kept for later collects. Signatures cover
// the source content and every argument, so a hit is the same work on the same data. Bounded LRU
// (entries and total rows) so a long session does not grow without limit.
import type { ResultStore, StoredResult } from "./types.ts";

export class LruResultStore implements ResultStore {
  private readonly entries = new Map<string, StoredResult>();
  private rows = 0;
  constructor(
    readonly maxEntries = 128,
    readonly maxRows = 1_000_000,
  ) {}

  get(signature: string): StoredResult | undefined {
    const hit = this.entries.get(signature);
    if (hit) {
      this.entries.delete(signature);
      this.entries.set(signature, hit);
    }
    return hit;
  }

  set(signature: string, result: StoredResult): void {
    if (result.rows.length > this.maxRows) return;
    const old = this.entries.get(signature);
    if (old) {
      this.rows -= old.rows.length;
      this.entries.delete(signature);
    }
    this.entries.set(signature, result);
    this.rows += result.rows.length;
    while (this.entries.size > this.maxEntries || this.rows > this.maxRows) {
      const [oldest, value] = this.entries.entries().next().value as [string, StoredResult];
      this.entries.delete(oldest);
      this.rows -= value.rows.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.rows = 0;
  }
}
