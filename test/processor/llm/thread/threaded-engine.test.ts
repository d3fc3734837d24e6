// The model in a worker thread (ThreadedEngine) on the shipped model: greedy answers through it
// equal `Model.generate` one request at a time; the main thread's event loop keeps turning while
// a forward runs; the thread frees KV when the main thread's cache evicts it; and every failure
// (load, forward, the thread dying) reaches the caller as an error naming the model.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { getModel, shippedModelDir, type Model } from "../../../../src/runtime/index.ts";
import type { GenerateRequest, GenerateResult } from "../../../../src/runtime/types.ts";
import { LlmWorker } from "../../../../src/processor/llm/llm-worker.ts";
import { KvTiers } from "../../../../src/processor/kv/kv-tiers.ts";
import { PrefixCache } from "../../../../src/processor/kv/prefix-cache.ts";
import { RuntimeEngine } from "../../../../src/processor/llm/runtime-engine.ts";
import type { ThreadKv } from "../../../../src/processor/llm/thread/thread-kv.ts";
import { ThreadedEngine } from "../../../../src/processor/llm/thread/threaded-engine.ts";
import { GRAPHS } from "../../../helpers/graph-fixtures.ts";
import { SAMPLE_REVIEWS, SENTIMENT_PROMPT } from "../../../helpers/trained-prompts.ts";
import { rejects } from "../../helpers/rejects.ts";

const modelDir = process.env.HALO_MODEL_DIR ?? shippedModelDir();
const reference = JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8")) as {
  maxNewTokens: number;
  cases: { task: string; promptTokens: number[] }[];
};

let model: Model;
let engine: ThreadedEngine;
let requests: GenerateRequest[];
let alone: GenerateResult[];

test.before(async () => {
  model = await getModel(modelDir);
  engine = await ThreadedEngine.open(modelDir);
  // Many rows sharing the instruction (prefix reuse), labels through choices, and the reference
  // prompts of every trained task.
  requests = reference.cases.map((c) => ({
    promptTokens: c.promptTokens,
    sampling: { maxTokens: reference.maxNewTokens },
  }));
  for (let i = 0; i < 24; i++) {
    const review = `${SAMPLE_REVIEWS[i % SAMPLE_REVIEWS.length]} Order ${i}.`;
    requests.push({
      promptTokens: model.encodeChat([{ role: "user", content: `${SENTIMENT_PROMPT}\n${review}` }]),
      sampling:
        i % 2 ? { maxTokens: 8, choices: ["positive", "negative", "neutral"] } : { maxTokens: 10 },
    });
  }
  alone = [];
  for (const r of requests) alone.push((await model.generate([r]))[0]!);
});

test.after(async () => {
  await engine.dispose();
});

/** Nodes holding KV in either tier. */
function cachedNodes(cache: PrefixCache<ThreadKv> | undefined, tier = / (fast|host) /): number {
  return cache
    ? cache
        .describe()
        .split("\n")
        .filter((l) => tier.test(l)).length
    : 0;
}

const strip = (r: GenerateResult) => ({
  text: r.text,
  tokens: r.tokens,
  finishReason: r.finishReason,
});

test("answers equal Model.generate one at a time: cache on, off, tiny budget, host tier", async () => {
  const tiers = new KvTiers<ThreadKv>({
    hostBudgetBytes: 64 << 20,
    cost: { moveMs: () => 0.001, recomputeMs: (n) => n },
  });
  const configs = {
    "cache on": {},
    "cache off": { cache: false as const },
    "tiny budget": { kvBudgetBytes: engine.kvBytesPerToken },
    "host tier": {
      kvBudgetBytes: engine.kvBytesPerToken * 260,
      cache: new PrefixCache<ThreadKv>({ budgetBytes: 0, tiers }),
    },
  };
  for (const [label, options] of Object.entries(configs)) {
    const base = (await engine.kvStats()).entries;
    const worker = new LlmWorker(engine, options);
    const got = await Promise.all(requests.map((r) => worker.submit(r)));
    got.forEach((g, i) => assert.equal(strip(g), strip(alone[i]!), `${label}: request ${i}`));
    assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
    if (label === "cache on") assert.ok(worker.stats.cachedTokens > 0);
    if (label === "tiny budget") assert.is(worker.stats.maxBatchSize, 1);
    // Only what the cache holds (either tier) is alive in the thread: sequences' KV was released.
    const live = (await engine.kvStats()).entries - base;
    assert.is(live, cachedNodes(worker.cache), `${label}: live KV`);
    if (!worker.cache?.tiers) {
      worker.cache?.evict(Infinity);
      assert.is((await engine.kvStats()).entries, base, `${label}: live KV after eviction`);
    }
  }
  assert.ok(tiers.stats.movesOut > 0 && tiers.stats.movesIn > 0, "KV moved out and back in");
});

test("eviction releases the thread's KV: live entries follow the cache's nodes", async () => {
  const base = await engine.kvStats(); // what earlier tests' caches still hold
  const worker = new LlmWorker(engine);
  const cache = worker.cache!;
  await Promise.all(requests.slice(-8).map((r) => worker.submit(r)));
  const nodes = cachedNodes(cache);
  const before = await engine.kvStats();
  assert.ok(nodes > 1);
  assert.is(before.entries - base.entries, nodes, "one entry per cached node, none for rows");
  assert.is(before.bytes - base.bytes, cache.fastBytes, "the thread holds what the cache counts");
  cache.evict(cache.fastBytes / 2);
  const half = await engine.kvStats();
  assert.ok(half.entries < before.entries);
  assert.is(half.bytes - base.bytes, cache.fastBytes);
  cache.evict(Infinity);
  assert.equal(await engine.kvStats(), base);
});

test("a cancelled request's KV is released in the thread; the other answers are unchanged", async () => {
  const base = await engine.kvStats();
  const worker = new LlmWorker(engine, { cache: false });
  const controllers = requests.map(() => new AbortController());
  const settled = Promise.allSettled(
    requests.map((r, i) => worker.submit(r, { signal: controllers[i]!.signal })),
  );
  setImmediate(() => controllers[3]!.abort(new Error("interrupt")));
  const results = await settled;
  results.forEach((s, i) => {
    if (i === 3) assert.is(s.status, "rejected");
    else assert.equal(strip((s as PromiseFulfilledResult<GenerateResult>).value), strip(alone[i]!));
  });
  assert.equal(await engine.kvStats(), base);
});

/** Timer ticks seen between starting a forward and having its result. */
async function ticksDuring(forward: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await new Promise((r) => setTimeout(r, 5)); // the interval is running
  const start = ticks;
  await forward();
  const seen = ticks - start;
  clearInterval(timer);
  return seen;
}

test("the main thread's timers keep firing during a long prefill in the thread", async () => {
  // 8 rows x 600 tokens: a prefill of a few hundred ms or more on this model.
  const rows = Array.from({ length: 8 }, (_, r) => ({
    past: undefined,
    tokens: Array.from({ length: 600 }, (_, i) => (i * 7 + r) % 500),
  }));
  const inThread = await ticksDuring(async () => {
    for (const out of await engine.forward(rows)) out.kv.release();
  });
  const inProcess = await ticksDuring(() => new RuntimeEngine(model).forward(rows));
  console.log(
    `measure: timer ticks during the prefill: thread ${inThread}, in-process ${inProcess}`,
  );
  // onnxruntime-node runs the forward synchronously on the thread that calls it: in-process the
  // loop turns at most once (before the deferred run starts); with the thread it keeps turning.
  assert.ok(inProcess <= 1, `in-process: ${inProcess} ticks`);
  assert.ok(inThread >= 3, `thread: ${inThread} ticks`);
});

test("a forward that throws rejects naming the model; the thread serves the next one", async () => {
  const error = await rejects(
    engine.forward([{ past: undefined, tokens: [model.config.vocabSize + 5] }]),
    /forward failed/,
  );
  assert.ok(error.message.includes(model.id), error.message);
  const [out] = await engine.forward([{ past: undefined, tokens: [1, 2, 3] }]);
  assert.is(out!.kv.numTokens, 3);
  out!.kv.release();
  assert.throws(() => out!.kv.slice(0, 1), /was released/);
});

test("a thread that cannot load the model fails its calls naming the model", async () => {
  const broken = new ThreadedEngine(model, {
    loadOptions: { provider: "cuda", requireProvider: true },
  });
  const error = await rejects(
    broken.forward([{ past: undefined, tokens: [1] }]),
    /could not load the model/,
  );
  assert.ok(error.message.includes(model.id));
  await rejects(broken.ready, /could not load/);
  assert.is(broken.alive, false);
});

test("a thread that dies fails the calls waiting on it and every later one: no hang", async () => {
  // A JS heap too small to start in: the thread dies (out of memory) with a forward waiting.
  const doomed = new ThreadedEngine(model, {
    resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 },
  });
  const error = await rejects(doomed.forward([{ past: undefined, tokens: [1] }]), /stopped/);
  assert.ok(error.message.includes(model.id), error.message);
  await rejects(doomed.kvStats(), /stopped/);
  assert.is(doomed.alive, false);
});

test("KV moved between model threads keeps its element type: float16 continues exactly, float32 is refused", async () => {
  const fixture = join(GRAPHS, "qwen2");
  const half = await getModel(fixture, { dtype: "fp16" });
  const [a, b, full] = [
    new ThreadedEngine(half),
    new ThreadedEngine(half),
    new ThreadedEngine(await getModel(fixture)),
  ];
  try {
    assert.is(a.kvBytesPerToken * 2, full.kvBytesPerToken);
    const prompt = [3, 17, 42, 99, 7, 250];
    const [first] = await a.forward([{ past: undefined, tokens: prompt }]);
    const moved = b.adopt(first!.kv);
    const [here] = await a.forward([{ past: first!.kv, tokens: [11] }]);
    const [there] = await b.forward([{ past: moved, tokens: [11] }]);
    assert.equal([...there!.logits], [...here!.logits]);
    const [wide] = await full.forward([{ past: undefined, tokens: prompt }]);
    const wrong = b.adopt(wide!.kv);
    await rejects(
      b.forward([{ past: wrong, tokens: [11] }]),
      /is float32, this thread's model keeps float16/,
    );
  } finally {
    await Promise.all([a, b, full].map((e) => e.dispose()));
  }
});

test("dispose lets forwards posted before it finish, then ends the thread", async () => {
  const own = await ThreadedEngine.open(modelDir);
  const pending = own.forward([{ past: undefined, tokens: [1, 2, 3, 4] }]);
  const disposed = own.dispose();
  const [out] = await pending;
  assert.is(out!.logits.length, model.config.vocabSize);
  await disposed;
  await rejects(own.forward([{ past: undefined, tokens: [1] }]), /was disposed/);
  assert.is(own.alive, false);
});

test.run();
