import { test } from "uvu";
import * as assert from "uvu/assert";
import { PrefixCache, radixKey } from "../../../src/processor/kv/prefix-cache.ts";
import { TokenCountPayload } from "../../../src/processor/kv/kv-payload.ts";
import { KvTiers } from "../../../src/processor/kv/kv-tiers.ts";
import { ArrayPayload, fakeKv } from "../helpers/array-payload.ts";

const key = (...tokens: number[]) => radixKey("m", tokens);
const cache = (budgetBytes = 1e9) => new PrefixCache<ArrayPayload>({ budgetBytes });

test("exact hits and misses, with a split at the divergence point", () => {
  const c = cache();
  assert.is(c.matchPrefix(key(1, 2, 3)).numTokens, 0);
  c.insert(key(1, 2, 3, 4), fakeKv([1, 2, 3, 4]));
  assert.is(c.matchPrefix(key(1, 2, 3, 4, 5)).numTokens, 4);
  assert.is(c.matchPrefix(key(1, 2, 9)).numTokens, 2);
  assert.is(c.matchPrefix(key(7, 1, 2)).numTokens, 0);
  assert.is(c.describe(), ["m:", "  #2 [1,2] fast 20B", "    #1 [3,4] fast 20B"].join("\n"));
  c.insert(key(1, 2, 9), fakeKv([1, 2, 9]));
  assert.is(
    c.describe(),
    ["m:", "  #2 [1,2] fast 20B", "    #1 [3,4] fast 20B", "    #3 [9] fast 10B"].join("\n"),
  );
  assert.is(c.fastBytes, 50);
  assert.equal(
    { lookups: c.stats.lookups, hit: c.stats.hitTokens, dup: c.stats.duplicateTokens },
    { lookups: 4, hit: 6, dup: 2 },
  );
});

test("namespaces (model ids) never share KV", () => {
  const c = cache();
  c.insert(radixKey("a", [1, 2, 3]), fakeKv([1, 2, 3]));
  assert.is(c.matchPrefix(radixKey("b", [1, 2, 3])).numTokens, 0);
  assert.is(c.matchPrefix(radixKey("a", [1, 2, 3])).numTokens, 3);
  assert.throws(() => radixKey("", [1]), /namespace/);
});

test("an all-hit prompt leaves its last token to recompute (maxTokens = length - 1)", () => {
  const c = cache();
  c.insert(key(5, 6, 7), fakeKv([5, 6, 7]));
  const m = c.matchPrefix(key(5, 6, 7), { maxTokens: 2 });
  assert.is(m.numTokens, 2);
  assert.equal(c.loadPrefix(m)!.values, fakeKv([5, 6, 7]).values.slice(0, 2));
});

test("loadPrefix returns exactly the inserted KV across split nodes", () => {
  const c = cache();
  c.insert(key(1, 2, 3, 4, 5), fakeKv([1, 2, 3, 4, 5]));
  c.insert(key(1, 2, 3, 8), fakeKv([1, 2, 3, 8]));
  c.insert(key(1, 9), fakeKv([1, 9]));
  const m = c.matchPrefix(key(1, 2, 3, 4, 6));
  assert.is(m.numTokens, 4);
  assert.equal(c.loadPrefix(m)!.values, fakeKv([1, 2, 3, 4]).values);
  assert.is(c.stats.tokensSaved, 4);
  assert.is(c.loadPrefix(c.matchPrefix(key(42))), undefined);
});

test("LRU eviction order is exact, leaves first, parents after their children", () => {
  const c = cache(100); // 10 tokens of 10 B
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3])); // #1, tick 1
  c.insert(key(4, 5, 6), fakeKv([4, 5, 6])); // #2, tick 2
  c.insert(key(7, 8, 9), fakeKv([7, 8, 9])); // #3, tick 3
  c.matchPrefix(key(1, 2, 3)); // tick 4: #1 is now the most recent
  c.insert(key(10, 11, 12), fakeKv([10, 11, 12])); // 120 B: evicts #2, the least recent
  assert.is(
    c.describe(),
    ["m:", "  #1 [1,2,3] fast 30B", "  #3 [7,8,9] fast 30B", "  #4 [10,11,12] fast 30B"].join("\n"),
  );
  // #1 becomes internal: leaves are #3 (tick 3), #4 (tick 5), #5 (tick 6): #3 goes.
  c.insert(key(1, 2, 3, 20, 21), fakeKv([1, 2, 3, 20, 21]));
  assert.is(
    c.describe(),
    ["m:", "  #1 [1,2,3] fast 30B", "    #5 [20,21] fast 20B", "  #4 [10,11,12] fast 30B"].join(
      "\n",
    ),
  );
  // Asking for 50 B: #4 (tick 5), then #5 (tick 6); its parent #1 has become a leaf, kept.
  assert.is(c.evict(50), 50);
  assert.is(c.describe(), ["m:", "  #1 [1,2,3] fast 30B"].join("\n"));
  c.insert(key(30), fakeKv([30]));
  assert.is(c.evict(1), 30); // #1 (tick 4) before #6 (tick 7)
  assert.is(c.describe(), ["m:", "  #6 [30] fast 10B"].join("\n"));
  assert.is(c.evict(1000), 10);
  assert.is(c.describe(), "m:");
  assert.is(c.fastBytes, 0);
  assert.is(c.stats.evictions, 6);
});

test("a locked match is never evicted; all locked stays over budget without failing", () => {
  const c = cache(60);
  c.insert(key(1, 2, 3), fakeKv([1, 2, 3]));
  const m = c.matchPrefix(key(1, 2, 3));
  c.lock(m.node);
  c.insert(key(4, 5, 6), fakeKv([4, 5, 6]));
  c.insert(key(7, 8, 9), fakeKv([7, 8, 9])); // over: evicts #2, never #1
  assert.match(c.describe(), /#1 \[1,2,3\] fast 30B lock=1/);
  assert.not.match(c.describe(), /\[4,5,6\]/);
  const m2 = c.matchPrefix(key(7, 8, 9));
  c.lock(m2.node);
  c.insert(key(10, 11), fakeKv([10, 11])); // only the new leaf is evictable
  assert.is(c.fastBytes, 60);
  assert.is(c.evict(100), 0);
  c.insert(key(12), fakeKv([12])); // inserted then evicted at once: still no error
  assert.is(c.fastBytes, 60);
  c.unlock(m.node);
  c.unlock(m2.node);
  assert.throws(() => c.unlock(m.node), /not locked/);
  assert.is(c.evict(30), 30);
  assert.not.match(c.describe(), /\[1,2,3\]/); // least recently used once unlocked
});

test("lock on a node evicted since its match says what to do", () => {
  const c = cache(100);
  c.insert(key(1, 2), fakeKv([1, 2]));
  const m = c.matchPrefix(key(1, 2));
  c.evict(100);
  assert.throws(() => c.lock(m.node), /evicted since it was matched: lock a match/);
  assert.throws(() => c.loadPrefix(m), /evicted since it was matched/);
});

test("insert checks that the KV covers the key", () => {
  assert.throws(
    () => cache().insert(key(1, 2, 3), fakeKv([1, 2])),
    /covers 2 tokens but the key has 3/,
  );
});

/** Deterministic pseudo-random prompts sharing system prompts and turn prefixes. */
function workload(n: number, seed = 7): number[][] {
  let s = seed;
  const rnd = (k: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % k;
  };
  const systems = [0, 1, 2].map((i) => Array.from({ length: 6 + i }, (_, j) => 100 + i * 10 + j));
  const prompts: number[][] = [];
  for (let i = 0; i < n; i++) {
    const base =
      prompts.length > 0 && rnd(3) === 0
        ? prompts[rnd(prompts.length)]! // a later turn of an earlier conversation
        : systems[rnd(systems.length)]!;
    prompts.push([...base, ...Array.from({ length: 1 + rnd(5) }, () => rnd(20))]);
  }
  return prompts;
}

test("the simulator (no memory) predicts exactly the real cache's hits and evictions", () => {
  for (const budget of [1e9, 300, 120]) {
    const real = new PrefixCache<ArrayPayload>({ budgetBytes: budget });
    const sim = new PrefixCache<TokenCountPayload>({ budgetBytes: budget });
    const realHits: number[] = [];
    const simHits: number[] = [];
    for (const p of workload(80)) {
      const k = key(...p);
      const a = real.matchPrefix(k, { maxTokens: p.length - 1 });
      const b = sim.matchPrefix(k, { maxTokens: p.length - 1 });
      realHits.push(a.numTokens);
      simHits.push(b.numTokens);
      real.insert(k, fakeKv(p));
      sim.insert(k, new TokenCountPayload(p.length, 10));
    }
    assert.equal(simHits, realHits, `budget ${budget}`);
    assert.equal(sim.stats, real.stats);
    assert.is(sim.describe(), real.describe());
    if (budget === 1e9) assert.ok(realHits.some((h) => h > 0));
  }
});

test("with room for everything, prefilled tokens equal the trie's unique tokens", () => {
  const c = cache();
  // No prompt is a prefix of another, so no all-hit recompute is involved.
  const prompts = workload(60).filter(
    (p, i, all) =>
      !all.some((q, j) => j !== i && q.length >= p.length && p.every((t, x) => q[x] === t)),
  );
  let prefilled = 0;
  for (const p of prompts) {
    const m = c.matchPrefix(key(...p), { maxTokens: p.length - 1 });
    prefilled += p.length - m.numTokens;
    c.insert(key(...p), fakeKv(p));
  }
  const unique = new Set<string>();
  for (const p of prompts) for (let i = 1; i <= p.length; i++) unique.add(p.slice(0, i).join(","));
  assert.ok(prompts.length > 20);
  assert.is(prefilled, unique.size);
  assert.is(c.stats.insertedTokens, unique.size);
  console.log(
    `measure: ${prompts.length} prompts, ${prompts.flat().length} tokens, ${prefilled} prefilled`,
  );
});

/** A payload that counts itself alive until released (as a model thread's KV entries are). */
class CountedPayload extends ArrayPayload {
  static live = new Set<CountedPayload>();
  constructor(values: readonly number[], bytesPerToken: number) {
    super(values, bytesPerToken);
    CountedPayload.live.add(this);
  }
  override slice(start: number, end: number): CountedPayload {
    return new CountedPayload(super.slice(start, end).values, this.bytesPerToken);
  }
  override concat(rest: readonly CountedPayload[]): CountedPayload {
    return new CountedPayload(super.concat(rest).values, this.bytesPerToken);
  }
  release(): void {
    if (!CountedPayload.live.delete(this)) throw new Error("released twice or never alive");
  }
}

test("the cache releases every payload it drops or replaces, and only those", () => {
  // A host tier with a converting codec (a new payload each way), 1 byte a token, room for a few
  // prompts: inserts split nodes, evictions move out or drop, loads move back in.
  const copy = (p: CountedPayload) => new CountedPayload(p.values, p.bytesPerToken);
  const tiers = new KvTiers<CountedPayload>({
    hostBudgetBytes: 40,
    codec: { toHost: copy, toFast: copy },
    cost: { moveMs: () => 0.001, recomputeMs: (n) => n },
  });
  const c = new PrefixCache<CountedPayload>({ budgetBytes: 60, tiers });
  const nodes = () =>
    c
      .describe()
      .split("\n")
      .filter((l) => / (fast|host) /.test(l)).length;
  for (const p of workload(60)) {
    const k = key(...p);
    const m = c.matchPrefix(k, { maxTokens: c.usablePrefix(k, { maxTokens: p.length - 1 }) });
    c.lock(m.node);
    c.loadPrefix(m)?.release(); // the caller owns what loadPrefix returns
    c.unlock(m.node);
    const kv = new CountedPayload(fakeKv(p).values, 1);
    c.insert(k, kv); // the cache keeps slices of it: the caller still owns kv itself
    kv.release();
    assert.is(CountedPayload.live.size, nodes(), c.describe());
  }
  assert.ok(c.stats.offloads > 0 && c.stats.loads > 0 && c.stats.evictions > 0, "all paths ran");
  c.evict(Infinity);
  assert.is(CountedPayload.live.size, nodes());
});

test.run();
