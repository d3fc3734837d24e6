import { test } from "uvu";
import * as assert from "uvu/assert";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { PrefixCache } from "../../../src/processor/kv/prefix-cache.ts";
import { KvTiers } from "../../../src/processor/kv/kv-tiers.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";
import type { GenerateRequest } from "../../../src/runtime/types.ts";
import type { ArrayPayload } from "../helpers/array-payload.ts";
import { ToyEngine, generateAlone, generateEachAlone } from "../helpers/toy-engine.ts";
import { rejects } from "../helpers/rejects.ts";

/** Rows sharing one of three system prompts, each with its own data: the demo's shape. */
function rowRequests(n: number, maxTokens = 12): GenerateRequest[] {
  const systems = [0, 1, 2].map((s) =>
    Array.from({ length: 20 + s }, (_, j) => 1 + ((s * 7 + j) % 60)),
  );
  return Array.from({ length: n }, (_, i) => ({
    promptTokens: [...systems[i % 3]!, 61, 1 + (i % 50), 1 + ((i * 13) % 47), 62],
    sampling: { maxTokens },
  }));
}

const expected = generateEachAlone;

const strip = (r: { text: string; tokens: number[]; finishReason: string }) => ({
  text: r.text,
  tokens: r.tokens,
  finishReason: r.finishReason,
});

test("outputs equal one-at-a-time generation: cache on, cache off, tiny budget", async () => {
  const requests = rowRequests(30);
  const want = await expected(requests);
  for (const [label, options] of [
    ["cache on", {}],
    ["cache off", { cache: false as const }],
    ["tiny budget", { kvBudgetBytes: 10 }],
  ] as const) {
    const engine = new ToyEngine();
    const worker = new LlmWorker(engine, options);
    const got = await Promise.all(requests.map((r) => worker.submit(r)));
    assert.equal(got.map(strip), want, label);
    assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 }, label);
    if (label === "cache on") {
      assert.ok(worker.stats.cachedTokens > 0);
      assert.ok(worker.stats.maxBatchSize > 1);
    }
    if (label === "cache off") assert.is(worker.stats.cachedTokens, 0);
    if (label === "tiny budget") assert.is(worker.stats.maxBatchSize, 1);
    console.log(
      `measure: ${label}: ${engine.forwardCalls} forward calls, max batch ${worker.stats.maxBatchSize}, prefilled ${worker.stats.prefillTokens}, cached ${worker.stats.cachedTokens}`,
    );
  }
});

test("with room for everything, tokens prefilled equal the prompt trie's unique tokens", async () => {
  const requests = rowRequests(30);
  const worker = new LlmWorker(new ToyEngine(), { deferSharedTokens: 1 });
  const results = await Promise.all(requests.map((r) => worker.submit(r)));
  const unique = new Set<string>();
  for (const r of requests) {
    for (let i = 1; i <= r.promptTokens.length; i++)
      unique.add(r.promptTokens.slice(0, i).join(","));
  }
  const prefilled = results.reduce((n, r) => n + r.prefillTokens, 0);
  assert.is(prefilled, unique.size);
  assert.is(worker.stats.prefillTokens, unique.size);
  assert.ok(worker.stats.deferredForSharing > 0);
  const total = requests.reduce((n, r) => n + r.promptTokens.length, 0);
  console.log(`measure: ${total} prompt tokens, ${prefilled} prefilled (${unique.size} unique)`);
});

test("a multi-step agent's second call reuses its first prompt and answer", async () => {
  const engine = new ToyEngine();
  const worker = new LlmWorker(engine);
  const first = { promptTokens: [5, 6, 7, 8, 9, 10], sampling: { maxTokens: 8 } };
  const a = await worker.submit(first);
  const fed = [...first.promptTokens, ...a.tokens];
  const second = { promptTokens: [...fed, 40, 41, 42], sampling: { maxTokens: 8 } };
  const b = await worker.submit(second);
  assert.is(b.cachedTokens, fed.length);
  assert.is(b.prefillTokens, 3);
  assert.equal(strip(b), await generateAlone(new ToyEngine(), second));
});

test("KV moved to the host tier and back gives identical outputs", async () => {
  const requests = rowRequests(24);
  const want = await expected(requests);
  const tiers = new KvTiers<ArrayPayload>({
    hostBudgetBytes: 1 << 20,
    cost: { moveMs: () => 0.001, recomputeMs: (n) => n },
  });
  const cache = new PrefixCache<ArrayPayload>({ budgetBytes: 0, tiers });
  // Room for about two running sequences: the cache is squeezed out to the host tier.
  const worker = new LlmWorker(new ToyEngine(), { cache, kvBudgetBytes: 800 });
  const got = await Promise.all(requests.map((r) => worker.submit(r)));
  assert.equal(got.map(strip), want);
  assert.ok(tiers.stats.movesOut > 0, "moved out");
  assert.ok(tiers.stats.movesIn > 0, "moved back in");
  assert.ok(worker.stats.cachedTokens > 0);
});

test("admission recomputes a cold prefix when moving it in would now cost more", async () => {
  // The offload judged the round trip with cheap moves; the cost model then refitted moves as
  // dear (it learns from measured moves), so the cold prefix is recomputed, not moved in.
  let moveMs = 0.001;
  const tiers = new KvTiers<ArrayPayload>({
    hostBudgetBytes: 1 << 20,
    cost: { moveMs: () => moveMs, recomputeMs: (n) => n },
  });
  const cache = new PrefixCache<ArrayPayload>({ budgetBytes: 1 << 20, tiers });
  const worker = new LlmWorker(new ToyEngine(), { cache, prefetch: false });
  const [first, second, third] = rowRequests(7).filter((_, i) => i % 3 === 0);
  await worker.submit(first!);
  cache.evict(cache.fastBytes);
  assert.is(cache.fastBytes, 0, "all cold");
  moveMs = 1000;
  const b = await worker.submit(second!);
  assert.equal(strip(b), await generateAlone(new ToyEngine(), second!));
  assert.is(b.cachedTokens, 0, "nothing moved in");
  assert.is(tiers.stats.movesIn, 0);
  assert.is(tiers.stats.admissionDeclined, 1);
  // With moves cheap again, a cold prefix is moved in and used as before.
  moveMs = 0.001;
  cache.evict(cache.fastBytes);
  const c = await worker.submit(third!);
  assert.equal(strip(c), await generateAlone(new ToyEngine(), third!));
  assert.ok(c.cachedTokens >= 20, `cached ${c.cachedTokens}`);
  assert.ok(tiers.stats.movesIn > 0);
});

test("cancellation rejects promptly, frees KV and locks, and leaves the others intact", async () => {
  const requests = rowRequests(12, 40);
  const want = await expected(requests);
  // 3 ms a forward call: in the 10 ms before the interrupt at most 4 calls run, so the two
  // longest answers (8+ tokens: 8+ calls) are surely still waiting or running when cancelled.
  const worker = new LlmWorker(new ToyEngine(10, 4096, 3));
  const byLength = want.map((w, i) => [w.tokens.length, i] as const).sort((a, b) => b[0] - a[0]);
  const [x, y] = [byLength[0]![1], byLength[1]![1]];
  assert.ok(byLength[1]![0] >= 8);
  const controllers = requests.map(() => new AbortController());
  const pending = requests.map((r, i) =>
    worker.submit(r, { signal: controllers[i]!.signal }).then(
      (v) => v,
      (e: Error) => e,
    ),
  );
  await new Promise((r) => setTimeout(r, 10));
  controllers[x]!.abort(new Error("interrupt"));
  controllers[y]!.abort(new Error("interrupt"));
  const got = await Promise.all(pending);
  for (let i = 0; i < requests.length; i++) {
    const g = got[i]!;
    if (i === x || i === y) {
      assert.instance(g, Error);
      assert.is((g as Error).name, "AbortError");
    } else assert.equal(strip(g as never), want[i]);
  }
  assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
  assert.not.match(worker.cache!.describe(), /lock=/);
  const aborted = new AbortController();
  aborted.abort();
  await rejects(worker.submit(requests[0]!, { signal: aborted.signal }), /cancelled/);
});

test("prefill and decode steps are traced on the worker's lane", async () => {
  const trace = new TraceRecorder();
  const worker = new LlmWorker(new ToyEngine(), { trace, lane: "llm:1" });
  await Promise.all(
    rowRequests(6).map((r, i) => worker.submit(r, { nodeIds: [i % 2 === 0 ? 3 : 4] })),
  );
  const tasks = trace.finish().tasks;
  assert.ok(tasks.every((t) => t.lane === "llm:1"));
  const prefills = tasks.filter((t) => t.kind === "prefill");
  const decodes = tasks.filter((t) => t.kind === "decode");
  assert.is(
    prefills.reduce((n, t) => n + t.prefillTokens!, 0),
    worker.stats.prefillTokens,
  );
  assert.is(
    decodes.reduce((n, t) => n + t.decodeTokens!, 0),
    worker.stats.decodeTokens,
  );
  assert.equal(prefills[0]!.nodeIds, [3, 4]);
});

/** A ToyEngine whose model is still loading: forwards wait for `load()`, which `ready` reports. */
class LoadingEngine extends ToyEngine {
  readonly ready: Promise<void>;
  load!: (error?: Error) => void;
  constructor() {
    super();
    this.ready = new Promise<void>((resolve, reject) => {
      this.load = (error) => (error ? reject(error) : resolve());
    });
  }
  override async forward(inputs: Parameters<ToyEngine["forward"]>[0]) {
    await this.ready;
    return super.forward(inputs);
  }
}

test("waiting for the engine's model is a model-load task, never part of the first prefill", async () => {
  const trace = new TraceRecorder();
  const engine = new LoadingEngine();
  const steps: { kind: string; ms: number }[] = [];
  const worker = new LlmWorker(engine, {
    trace,
    onStep: (step, ms) => steps.push({ kind: step.kind, ms }),
  });
  const requests = rowRequests(4);
  const answers = Promise.all(requests.map((r) => worker.submit(r, { nodeIds: [7] })));
  setTimeout(() => engine.load(), 120);
  assert.equal((await answers).map(strip), await expected(requests));
  const tasks = trace.finish().tasks;
  const loads = tasks.filter((t) => t.kind === "model-load");
  assert.is(loads.length, 1);
  assert.ok(loads[0]!.endMs - loads[0]!.startMs >= 100, "the wait is the load's");
  assert.equal(loads[0]!.nodeIds, [7]);
  const firstPrefill = tasks.find((t) => t.kind === "prefill")!;
  assert.ok(firstPrefill.startMs >= loads[0]!.endMs);
  // the cost model is told forwards' times only: no sample holds the 120 ms wait
  assert.ok(steps.length > 0 && steps.every((s) => s.ms < 100), JSON.stringify(steps));
  // a second run finds it loaded: no more load tasks
  await worker.submit(requests[0]!, { nodeIds: [7] });
  assert.is(trace.finish().tasks.filter((t) => t.kind === "model-load").length, 1);
});

test("a model that fails to load fails the waiting requests with its error", async () => {
  const engine = new LoadingEngine();
  const worker = new LlmWorker(engine);
  const answer = worker.submit(rowRequests(1)[0]!);
  engine.load(new Error("model thread could not load /m: out of memory"));
  await rejects(answer, /could not load \/m: out of memory/);
  assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
});

test("bad requests are refused with what to pass", async () => {
  const worker = new LlmWorker(new ToyEngine(10, 16));
  await rejects(worker.submit({ promptTokens: [], sampling: { maxTokens: 4 } }), /non-empty/);
  await rejects(
    worker.submit({ promptTokens: [1], sampling: { maxTokens: 0 } }),
    /maxTokens must be/,
  );
  await rejects(
    worker.submit({ promptTokens: Array(16).fill(1), sampling: { maxTokens: 1 } }),
    /does not fit the model's 16 positions/,
  );
  // Hitting the last position ends the answer with "length" instead of failing.
  const r = await worker.submit({ promptTokens: Array(14).fill(3), sampling: { maxTokens: 50 } });
  assert.ok(r.tokens.length <= 3); // positions 14 and 15 fed, then no room
});

test.run();
