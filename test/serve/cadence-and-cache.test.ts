// The pieces the server's batching leans on: the cadence (how many queued queries the next
// mini-batch takes), the bounded tool-result cache, and the online bench's arrival stream.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchCadence } from "../../src/serve/batch-cadence.ts";
import { BoundedToolCache } from "../../src/serve/tool-result-cache.ts";
import { poissonArrivals } from "../../bench/harness/run-online.ts";

test("cadence: whole backlog before any measurement, then what fits the latency target", () => {
  const c = new BatchCadence({ targetMs: 1_000, maxBatch: 64 });
  assert.is(c.nextBatchSize(0), 0);
  assert.is(c.nextBatchSize(10), 10);
  assert.is(c.nextBatchSize(500), 64, "never above maxBatch");
  // Batches of 4 and 8 queries: 300 ms and 500 ms -> 50 ms per query, 100 ms fixed.
  c.observe(4, 300);
  c.observe(8, 500);
  for (let i = 0; i < 20; i++) c.observe(i % 2 ? 8 : 4, i % 2 ? 500 : 300);
  const fits = c.nextBatchSize(1_000);
  assert.ok(fits >= 16 && fits <= 19, `~ (1000 - 100) / 50 = 18 queries, got ${fits}`);
  assert.is(c.nextBatchSize(3), 3, "a short queue goes whole");
  assert.ok(Math.abs(c.estimateMs(10)! - 600) < 60, `estimate ${c.estimateMs(10)}`);
  // One query alone over the target still runs (at least one per batch).
  const slow = new BatchCadence({ targetMs: 100 });
  slow.observe(1, 5_000);
  assert.is(slow.nextBatchSize(5), 1);
  assert.throws(() => new BatchCadence({ maxBatch: 0 }), /maxBatch/);
});

test("tool cache: least recently used goes first; entries expire", () => {
  let now = 0;
  const cache = new BoundedToolCache(2, 1_000, () => now);
  const a = Promise.resolve("a");
  cache.set("a", a);
  cache.set("b", Promise.resolve("b"));
  assert.is(cache.get("a"), a); // a is now the most recent
  cache.set("c", Promise.resolve("c"));
  assert.is(cache.get("b"), undefined, "b was least recently used");
  assert.is(cache.size, 2);
  now = 2_000;
  assert.is(cache.get("a"), undefined, "older than ttl");
  assert.throws(() => new BoundedToolCache(0), /maxEntries/);
});

test("arrivals: Poisson with the asked rate, repeatable by seed", () => {
  const a = poissonArrivals(2_000, 10, 7);
  assert.equal(a, poissonArrivals(2_000, 10, 7));
  assert.is(a[0], 0);
  for (let i = 1; i < a.length; i++) assert.ok(a[i]! >= a[i - 1]!);
  const rate = (a.length - 1) / (a.at(-1)! / 1000);
  assert.ok(rate > 9 && rate < 11, `rate ${rate}`);
});

test.run();
