// Reusable memory for the batch KV a decode loop builds and drops within one forward call.
//
// Why: when rows join or leave a running batch, the engine copies every row's past into a new
// padded buffer (kv-batch.ts), hands it to the graph once and drops it. Fresh memory is far from
// free: the kernel maps and zeroes each page on first touch. On the machine the benchmarks run
// on (a VM) that costs about 12 us a 4 KiB page, 0.33 GB/s: 130 MB of KV, a batch of 6 rows at
// 460 tokens of SmolLM2-135M's shape, took 360-470 ms to build against 5 ms to refill memory
// already touched, and such a step took 5-10 times a steady one (bench/runtime notes in
// docs/benchmarks.md). A pool keeps the buffers of dropped batches and hands them out again.
//
// Only buffers whose owner says they are dead come back (`release`): a forward call's own past,
// once the graph has run. Nothing else is pooled, so a view kept by someone else can never be
// overwritten. Small buffers are left to the allocator (its heap reuses them without new pages).
import type { KvArray, KvShape } from "./kv-cache.ts";

/** Buffers below this many bytes are not pooled: malloc's heap already reuses them. */
export const MIN_POOLED_BYTES = 256 * 1024;

/** A fresh pooled buffer's capacity over what was asked. */
const HEADROOM = 1.5;

export interface KvPoolStats {
  /** Buffers handed out from the pool (memory already touched). */
  reused: number;
  /** Buffers allocated fresh (none in the pool fit, or too small to pool). */
  allocated: number;
  /** Bytes the pool holds now, free for the next `take`. */
  heldBytes: number;
}

export class KvPool {
  // free ArrayBuffers, by element type; each list sorted by byteLength ascending
  private readonly free = new Map<string, ArrayBuffer[]>();
  private held = 0;
  private reused = 0;
  private allocated = 0;

  /** Buffers below this many bytes are neither pooled nor given headroom. */
  readonly minBytes: number;

  /**
   * `maxBytes`: the most the pool keeps; buffers released beyond it are left to the GC.
   * `minBytes` (default MIN_POOLED_BYTES): the smallest buffer worth pooling.
   */
  constructor(
    readonly maxBytes: number,
    options: { minBytes?: number } = {},
  ) {
    this.minBytes = options.minBytes ?? MIN_POOLED_BYTES;
  }

  /**
   * A zeroed buffer of `n` values of the shape's element type: a view on the smallest free pooled
   * buffer that holds it (at most twice the size), else on a fresh one with room to grow.
   */
  take(shape: KvShape, n: number): KvArray {
    const half = shape.kvType === "float16";
    const bytes = n * (half ? 2 : 4);
    const list = this.free.get(half ? "f16" : "f32");
    if (bytes >= this.minBytes && list) {
      const i = list.findIndex((b) => b.byteLength >= bytes);
      if (i >= 0 && list[i]!.byteLength <= 2 * bytes) {
        const buffer = list.splice(i, 1)[0]!;
        this.held -= buffer.byteLength;
        this.reused++;
        const out = half ? new Uint16Array(buffer, 0, n) : new Float32Array(buffer, 0, n);
        out.fill(0); // padding must read as zeros, as in a fresh buffer
        return out;
      }
    }
    this.allocated++;
    if (bytes < this.minBytes) return half ? new Uint16Array(n) : new Float32Array(n);
    // Room to grow: a running batch widens a token a step and gains rows, so the next past it
    // builds is larger. The room costs nothing until written (its pages are never touched).
    const buffer = new ArrayBuffer(Math.ceil((bytes * HEADROOM) / 8) * 8);
    return half ? new Uint16Array(buffer, 0, n) : new Float32Array(buffer, 0, n);
  }

  /** Gives buffers back; the caller must hold no other reference to them (or views of them). */
  release(arrays: Iterable<KvArray>): void {
    for (const a of arrays) {
      const buffer = a.buffer as ArrayBuffer;
      if (buffer.byteLength < this.minBytes) continue;
      if (this.held + buffer.byteLength > this.maxBytes) continue;
      const key = a instanceof Uint16Array ? "f16" : "f32";
      const list = this.free.get(key) ?? [];
      if (list.includes(buffer)) continue; // released twice: keep one entry
      const at = list.findIndex((b) => b.byteLength > buffer.byteLength);
      list.splice(at < 0 ? list.length : at, 0, buffer);
      this.free.set(key, list);
      this.held += buffer.byteLength;
    }
  }

  /** Drops every pooled buffer (the GC frees them). */
  clear(): void {
    this.free.clear();
    this.held = 0;
  }

  stats(): KvPoolStats {
    return { reused: this.reused, allocated: this.allocated, heldBytes: this.held };
  }
}
