import { test } from "uvu";
import * as assert from "uvu/assert";
import { PrefixCache, radixKey } from "../../../src/processor/kv/prefix-cache.ts";
import { KvTiers, type HostCodec, type KvMoveCost } from "../../../src/processor/kv/kv-tiers.ts";
import { checkSliceBounds, type KvPayload } from "../../../src/processor/kv/kv-payload.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";
import { ArrayPayload, fakeKv } from "../helpers/array-payload.ts";

const key = (...tokens: number[]) => radixKey("m", tokens);
const cheapMoves: KvMoveCost = { moveMs: () => 0.001, recomputeMs: (n) => n };

/** The host form: values packed in one Float64Array (a compact store), 4 bytes a token. */
class PackedPayload implements KvPayload<PackedPayload> {
  constructor(readonly data: Float64Array) {}
  get numTokens() {
    return this.data.length;
  }
  get bytes() {
    return this.data.length * 4;
  }
  slice(start: number, end: number) {
    checkSliceBounds(this.numTokens, start, end);
    return new PackedPayload(this.data.slice(start, end));
  }
  concat(rest: readonly PackedPayload[]) {
    const out = new Float64Array(rest.reduce((n, p) => n + p.numTokens, this.numTokens));
    let at = 0;
    for (const p of [this, ...rest]) {
      out.set(p.data, at);
      at += p.numTokens;
    }
    return new PackedPayload(out);
  }
}
const packCodec: HostCodec<ArrayPayload, PackedPayload> = {
  toHost: (p) => new PackedPayload(Float64Array.from(p.values)),
  toFast: (h) => new ArrayPayload([...h.data], 10),
};

test("cold KV moves to the host tier, comes back on use, identical, each move traced", () => {
  const trace = new TraceRecorder();
  const tiers = new KvTiers<ArrayPayload, PackedPayload>({
    hostBudgetBytes: 1000,
    codec: packCodec,
    cost: cheapMoves,
    trace,
  });
  const c = new PrefixCache<ArrayPayload, PackedPayload>({ budgetBytes: 60, tiers });
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3]));
  c.insert(key(4, 5, 6), fakeKv([4, 5, 6]));
  c.insert(key(7, 8, 9), fakeKv([7, 8, 9]));
  assert.is(
    c.describe(),
    ["m:", "  #1 [1,2,3] host 12B", "  #2 [4,5,6] fast 30B", "  #3 [7,8,9] fast 30B"].join("\n"),
  );
  assert.is(c.fastBytes, 60);
  assert.is(c.hostBytes, 12);
  const m = c.matchPrefix(key(1, 2, 3, 4));
  assert.equal([m.numTokens, m.numHostTokens], [3, 3]);
  c.lock(m.node);
  assert.equal(c.loadPrefix(m)!.values, fakeKv([1, 2, 3]).values);
  c.unlock(m.node);
  // Moving #1 in pushed the least recent fast node (#2) out.
  assert.match(c.describe(), /#1 \[1,2,3\] fast 30B/);
  assert.match(c.describe(), /#2 \[4,5,6\] host 12B/);
  const moves = trace.listTasks().filter((t) => t.kind === "kv-move");
  assert.equal(
    moves.map((t) => [t.detail, t.bytes, t.lane]),
    [
      ["out", 30, "kv:0"],
      ["out", 30, "kv:0"], // room is made before the move in
      ["in", 30, "kv:0"],
    ],
  );
  assert.equal(tiers.stats, {
    movesOut: 2,
    movesIn: 1,
    bytesOut: 60,
    bytesIn: 30,
    recomputeChosen: 0,
    prefetchDeclined: 0,
    admissionDeclined: 0,
  });
  assert.is(c.stats.offloads, 2);
  assert.is(c.stats.loads, 1);
});

test("recompute is chosen over a round trip that costs more", () => {
  const tiers = new KvTiers<ArrayPayload>({
    hostBudgetBytes: 1000,
    cost: { moveMs: () => 100, recomputeMs: () => 1 },
  });
  const c = new PrefixCache<ArrayPayload>({ budgetBytes: 30, tiers });
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3]));
  c.insert(key(4, 5, 6), fakeKv([4, 5, 6]));
  assert.is(c.describe(), ["m:", "  #2 [4,5,6] fast 30B"].join("\n"));
  assert.is(tiers.stats.recomputeChosen, 1);
  assert.is(tiers.stats.movesOut, 0);
});

test("a parent leaves the fast tier only after its children; a full host tier drops its coldest", () => {
  const tiers = new KvTiers<ArrayPayload>({ hostBudgetBytes: 50, cost: cheapMoves });
  const c = new PrefixCache<ArrayPayload>({ budgetBytes: 1000, tiers });
  c.insert(key(1, 2, 3, 4), fakeKv([1, 2, 3, 4]));
  c.insert(key(1, 2, 7), fakeKv([1, 2, 7]));
  c.insert(key(9, 9), fakeKv([9, 9]));
  assert.is(c.evict(20), 20); // #1 [3,4], the oldest leaf: moves out; parent [1,2] stays fast
  assert.match(c.describe(), /#2 \[1,2\] fast 20B\n    #1 \[3,4\] host 20B\n    #3 \[7\] fast/);
  assert.is(c.evict(10), 10); // #3 [7]: now [1,2] has no fast child
  assert.is(c.evict(20), 20); // [1,2] moves out (host 50 B: full)
  assert.is(c.hostBytes, 50);
  assert.is(c.evict(20), 20); // [9,9] cannot fit unless host drops its coldest leaf: #1 [3,4]
  assert.is(
    c.describe(),
    ["m:", "  #2 [1,2] host 20B", "    #3 [7] host 10B", "  #4 [9,9] host 20B"].join("\n"),
  );
  assert.is(c.stats.evictions, 1);
  // A match through host nodes reports them; loading brings back the whole path in order.
  const m = c.matchPrefix(key(1, 2, 7, 8));
  assert.equal([m.numTokens, m.numHostTokens], [3, 3]);
  c.lock(m.node);
  assert.equal(c.loadPrefix(m)!.values, fakeKv([1, 2, 7]).values);
  c.unlock(m.node);
  assert.match(c.describe(), /#2 \[1,2\] fast 20B\n    #3 \[7\] fast 10B/);
});

test("prefetch moves a prefix in ahead of use; insert promotes host spans it recomputed", () => {
  const tiers = new KvTiers<ArrayPayload>({ hostBudgetBytes: 1000, cost: cheapMoves });
  const c = new PrefixCache<ArrayPayload>({ budgetBytes: 1000, tiers });
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3]));
  c.insert(key(5, 6), fakeKv([5, 6]));
  c.evict(1000);
  assert.is(c.fastBytes, 0);
  assert.equal(c.prefetch(key(1, 2, 3, 4)), { numTokens: 3, bytes: 30 });
  assert.is(c.stats.prefetches, 1);
  assert.match(c.describe(), /\[1,2,3\] fast/);
  c.insert(key(5, 6, 7), fakeKv([5, 6, 7]));
  assert.match(c.describe(), /\[5,6\] fast 20B\n    #\d \[7\] fast 10B/);
  assert.is(c.hostBytes, 0);
  assert.is(tiers.stats.movesIn, 1);
});

test("prefetch declines a move costlier than recomputing, and one over maxBytes", () => {
  // Offloading judges the round trip with this cost; a later, dearer move in is refused.
  let moveMs = 0.001;
  const cost: KvMoveCost = { moveMs: () => moveMs, recomputeMs: (n) => n };
  const tiers = new KvTiers<ArrayPayload>({ hostBudgetBytes: 1000, cost });
  const c = new PrefixCache<ArrayPayload>({ budgetBytes: 1000, tiers });
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3]));
  c.evict(1000);
  assert.equal(c.prefetch(key(1, 2, 3, 4), { maxBytes: 29 }), { numTokens: 0, bytes: 0 });
  moveMs = 10;
  assert.equal(c.prefetch(key(1, 2, 3, 4)), { numTokens: 0, bytes: 0 });
  assert.is(tiers.stats.prefetchDeclined, 1);
  assert.match(c.describe(), /\[1,2,3\] host/);
  // keepLocked hands back the locked node: it stays until unlocked.
  moveMs = 0.001;
  const got = c.prefetch(key(1, 2, 3, 4), { keepLocked: true });
  assert.is(got.numTokens, 3);
  assert.match(c.describe(), /\[1,2,3\] fast 30B lock=1/);
  c.unlock(got.node!);
  assert.is(c.evict(1000), 30);
});

test("bad budgets are refused with what to pass", () => {
  assert.throws(
    () => new KvTiers({ hostBudgetBytes: -1 }),
    /hostBudgetBytes must be a number >= 0/,
  );
  assert.throws(() => new PrefixCache({ budgetBytes: Number.NaN }), /budgetBytes must be/);
});

test("the default cost measures a copy rate and prefers moving big cold spans", () => {
  const tiers = new KvTiers<ArrayPayload>({ hostBudgetBytes: 1 << 30 });
  // 256 tokens of a 0.85 M model's KV (4 layers x 2 x 2 heads x 32 x 4 B = 2 KiB a token).
  assert.ok(tiers.shouldOffload(256, 256 * 2048, 0));
});

test.run();
