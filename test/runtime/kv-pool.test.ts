// The KV pool: memory of dropped batch pasts handed out again, zeroed, never twice at once, and
// bounded; small buffers left to the allocator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KvPool, MIN_POOLED_BYTES } from "../../src/runtime/kv-pool.ts";
import type { KvShape } from "../../src/runtime/index.ts";

const f32: KvShape = { numLayers: 2, numKvHeads: 2, headDim: 4 };
const f16: KvShape = { ...f32, kvType: "float16" };
const big = MIN_POOLED_BYTES / 4; // float32 values in a buffer at the pooling threshold

test("a released buffer is handed out again, zeroed, as a view of the asked length", () => {
  const pool = new KvPool(2 ** 30);
  const a = pool.take(f32, 2 * big);
  assert.instance(a, Float32Array);
  assert.is(a.length, 2 * big);
  a.fill(7);
  pool.release([a]);
  const b = pool.take(f32, 2 * big - 100); // smaller fits the same buffer
  assert.is(b.buffer, a.buffer, "same memory");
  assert.is(b.length, 2 * big - 100);
  assert.ok(b.every((x) => x === 0), "zeroed like a fresh buffer");
  assert.equal(pool.stats(), { reused: 1, allocated: 1, heldBytes: 0 });
  // taken, so not free: the next take gets other memory
  const c = pool.take(f32, 2 * big);
  assert.is.not(c.buffer, b.buffer);
});

test("fresh buffers have room to grow; a buffer over twice the size is not used", () => {
  const pool = new KvPool(2 ** 30);
  const a = pool.take(f32, big);
  assert.ok(a.buffer.byteLength >= 1.5 * big * 4, "headroom");
  pool.release([a]);
  const grown = pool.take(f32, Math.floor(big * 1.4));
  assert.is(grown.buffer, a.buffer, "a larger batch fits the headroom");
  pool.release([grown]);
  const tiny = pool.take(f32, Math.floor(big / 3));
  assert.is.not(tiny.buffer, a.buffer, "not wasted on a third of its size");
});

test("element types are kept apart; small buffers and overflow are not pooled", () => {
  const pool = new KvPool(MIN_POOLED_BYTES * 2);
  const half = pool.take(f16, big * 2);
  assert.instance(half, Uint16Array);
  pool.release([half]);
  const full = pool.take(f32, big);
  assert.is.not(full.buffer, half.buffer, "float32 never gets float16 memory");
  assert.is(pool.take(f16, big * 2).buffer, half.buffer);

  const small = pool.take(f32, 16);
  pool.release([small]);
  assert.is(pool.stats().heldBytes, 0, "small buffers are the allocator's");

  const bound = new KvPool(MIN_POOLED_BYTES * 2);
  const x = bound.take(f32, big);
  const y = bound.take(f32, big);
  bound.release([x, y]); // each is 1.5 x MIN_POOLED_BYTES: only one fits the bound
  assert.ok(bound.stats().heldBytes <= MIN_POOLED_BYTES * 2);
  assert.ok(bound.stats().heldBytes > 0);
  bound.release([x]); // twice: still one entry
  bound.clear();
  assert.is(bound.stats().heldBytes, 0);
});

test.run();
