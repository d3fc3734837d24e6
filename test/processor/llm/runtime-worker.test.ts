// The LlmWorker on the real runtime and the shipped model: continuous batching, the prefix
// cache and KV moves must leave greedy answers exactly as `Model.generate` gives them, one
// request at a time.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  SequenceKv,
  getModel,
  shippedModelDir,
  type KvArray,
  type Model,
} from "../../../src/runtime/index.ts";
import type { ChatMessage, GenerateRequest, GenerateResult } from "../../../src/runtime/types.ts";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { PrefixCache, radixKey } from "../../../src/processor/kv/prefix-cache.ts";
import { KvTiers } from "../../../src/processor/kv/kv-tiers.ts";
import { RuntimeEngine, RuntimeKv } from "../../../src/processor/llm/runtime-engine.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";

const modelDir = process.env.HALO_MODEL_DIR ?? shippedModelDir();
const reference = JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8")) as {
  maxNewTokens: number;
  cases: { task: string; messages: ChatMessage[] | null; promptTokens: number[] }[];
};

let model: Model;
let requests: GenerateRequest[];
let alone: GenerateResult[];

test.before(async () => {
  model = await getModel(modelDir);
  requests = reference.cases.map((c) => ({
    promptTokens: c.promptTokens,
    sampling: { maxTokens: reference.maxNewTokens },
  }));
  // Labels through a choice constraint, and a stop string, as the agent verbs send them.
  const sentiment = reference.cases.filter((c) => c.task === "sentiment");
  for (const c of sentiment) {
    requests.push({
      promptTokens: c.promptTokens,
      sampling: { maxTokens: 8, choices: ["positive", "negative", "neutral"] },
    });
  }
  requests.push({
    promptTokens: reference.cases[0]!.promptTokens,
    sampling: { maxTokens: 16, stop: ["e"] },
  });
  alone = [];
  for (const r of requests) alone.push((await model.generate([r]))[0]!);
});

const strip = (r: GenerateResult) => ({
  text: r.text,
  tokens: r.tokens,
  finishReason: r.finishReason,
});

test("answers equal Model.generate one at a time: cache on, off, tiny budget, host tier", async () => {
  const engine = new RuntimeEngine(model);
  const tiers = new KvTiers<RuntimeKv>({
    hostBudgetBytes: 64 << 20,
    cost: { moveMs: () => 0.001, recomputeMs: (n) => n },
  });
  const configs = {
    "cache on": {},
    "cache off": { cache: false as const },
    "tiny budget": { kvBudgetBytes: engine.kvBytesPerToken },
    // The fast tier holds about two sequences: cached prefixes go to the host tier and back.
    "host tier": {
      kvBudgetBytes: engine.kvBytesPerToken * 260,
      cache: new PrefixCache<RuntimeKv>({ budgetBytes: 0, tiers }),
    },
  };
  for (const [label, options] of Object.entries(configs)) {
    const worker = new LlmWorker(engine, options);
    const t0 = performance.now();
    const got = await Promise.all(requests.map((r) => worker.submit(r)));
    const ms = performance.now() - t0;
    got.forEach((g, i) => assert.equal(strip(g), strip(alone[i]!), `${label}: request ${i}`));
    for (const g of got)
      assert.is(g.prefillTokens + g.cachedTokens, requests[got.indexOf(g)]!.promptTokens.length);
    assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
    console.log(
      `measure: ${label}: ${requests.length} requests in ${ms.toFixed(0)} ms, max batch ${worker.stats.maxBatchSize}, prefilled ${worker.stats.prefillTokens}, cached ${worker.stats.cachedTokens}`,
    );
    if (label === "cache on") assert.ok(worker.stats.cachedTokens > 0);
    if (label === "tiny budget") assert.is(worker.stats.maxBatchSize, 1);
  }
  assert.ok(tiers.stats.movesOut > 0 && tiers.stats.movesIn > 0, "KV moved out and back in");
});

test("a second agent call on prompt + answer reuses the first call's KV", async () => {
  const worker = new LlmWorker(new RuntimeEngine(model));
  const c = reference.cases.find((x) => x.messages)!;
  const first = await worker.submit({ promptTokens: c.promptTokens, sampling: { maxTokens: 12 } });
  const messages: ChatMessage[] = [
    ...c.messages!,
    { role: "assistant", content: first.text },
    { role: "user", content: "And again?" },
  ];
  const promptTokens = model.encodeChat(messages);
  const second = await worker.submit({ promptTokens, sampling: { maxTokens: 12 } });
  assert.ok(second.cachedTokens >= c.promptTokens.length, `cached ${second.cachedTokens}`);
  const [want] = await model.generate([{ promptTokens, sampling: { maxTokens: 12 } }]);
  assert.equal(strip(second), strip(want!));
  console.log(
    `measure: second turn of ${promptTokens.length} tokens: ${second.cachedTokens} cached`,
  );
});

test("the worker traces prefill and decode steps with token counts", async () => {
  const trace = new TraceRecorder();
  const worker = new LlmWorker(new RuntimeEngine(model), { trace });
  await Promise.all(requests.slice(0, 6).map((r) => worker.submit(r, { nodeIds: [5] })));
  const tasks = trace.finish().tasks;
  assert.ok(tasks.some((t) => t.kind === "prefill" && t.batchSize > 1));
  assert.ok(tasks.every((t) => t.lane === "llm:0" && t.nodeIds[0] === 5));
});

test("cancelling mid-run frees the KV at once; the other answers are unchanged", async () => {
  const engine = new RuntimeEngine(model);
  const worker = new LlmWorker(engine);
  const controllers = requests.map(() => new AbortController());
  // Cancel two requests right after the third forward call: both are past prefill by then.
  let calls = 0;
  const forward = engine.forward.bind(engine);
  engine.forward = async (inputs) => {
    const out = await forward(inputs);
    if (++calls === 3) {
      controllers[0]!.abort(new Error("interrupt"));
      controllers[5]!.abort(new Error("interrupt"));
    }
    return out;
  };
  const settled = await Promise.allSettled(
    requests.map((r, i) => worker.submit(r, { signal: controllers[i]!.signal })),
  );
  settled.forEach((s, i) => {
    if (i === 0 || i === 5) {
      assert.is(s.status, "rejected");
      assert.is((s as PromiseRejectedResult).reason.name, "AbortError");
    } else
      assert.equal(strip((s as PromiseFulfilledResult<GenerateResult>).value), strip(alone[i]!));
  });
  assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
  assert.not.match(worker.cache!.describe(), /lock=/);
  assert.is(worker.stats.cancelled, 2);
});

test("cold prefixes are prefetched ahead of their turn: same answers, fewer moves at admission", async () => {
  const engine = new RuntimeEngine(model);
  // A real round trip: the host form is a copy, so a prefetched prefix is KV that left and came back.
  const copy = (p: RuntimeKv) => {
    const kv = p.kv;
    const dup = (a: KvArray[]) => a.map((x) => x.slice());
    return new RuntimeKv(new SequenceKv(kv.shape, kv.length, dup(kv.keys), dup(kv.values)));
  };
  const runs: Record<string, LlmWorker<RuntimeKv>> = {};
  for (const prefetch of [true, false]) {
    const tiers = new KvTiers<RuntimeKv>({
      hostBudgetBytes: 64 << 20,
      codec: { toHost: copy, toFast: copy },
      cost: { moveMs: () => 0.001, recomputeMs: (n) => n },
    });
    // Batches of 2 in a budget of about 6 sequences: the cache's share holds a few prompts, so
    // shared prefixes keep leaving for the host tier, and there is room to fetch the next ones.
    const worker = new LlmWorker(engine, {
      kvBudgetBytes: engine.kvBytesPerToken * 600,
      cache: new PrefixCache<RuntimeKv>({ budgetBytes: 0, tiers }),
      batch: { initial: 2, max: 2 },
      prefetch,
    });
    const got = await Promise.all(requests.map((r) => worker.submit(r)));
    got.forEach((g, i) => assert.equal(strip(g), strip(alone[i]!), `prefetch ${prefetch}: ${i}`));
    assert.equal(worker.load(), { waiting: 0, running: 0, reservedBytes: 0 });
    assert.ok(tiers.stats.movesOut > 0 && tiers.stats.movesIn > 0, "KV moved out and back in");
    const s = worker.stats;
    console.log(
      `measure: prefetch ${prefetch}: ${s.prefetchedRequests} requests prefetched (${s.prefetchedTokens} tokens), ${s.hostTokensAtAdmission} host tokens moved in at admission, moves out/in ${tiers.stats.movesOut}/${tiers.stats.movesIn}`,
    );
    runs[String(prefetch)] = worker;
  }
  const on = runs["true"]!;
  const off = runs["false"]!;
  assert.ok(on.stats.prefetchedRequests > 0, "prefetches happened");
  assert.is(on.cache!.stats.prefetchedTokens, on.stats.prefetchedTokens);
  assert.is(off.stats.prefetchedRequests, 0);
  assert.ok(
    on.stats.hostTokensAtAdmission < off.stats.hostTokensAtAdmission,
    "admission moved less KV in with prefetch",
  );
});

test("a prefetch that costs more than recomputing is not made", () => {
  const tiers = new KvTiers<RuntimeKv>({
    hostBudgetBytes: 64 << 20,
    cost: { moveMs: () => 1e9, recomputeMs: (n) => n },
  });
  const cache = new PrefixCache<RuntimeKv>({ budgetBytes: 0, tiers });
  const engine = new RuntimeEngine(model);
  return (async () => {
    const [out] = await model.prefill([{ tokens: requests[0]!.promptTokens }]);
    cache.insert(radixKey(engine.modelId, requests[0]!.promptTokens), new RuntimeKv(out!.kv));
    // Offloading also asks the cost: nothing went to the host tier, so there is nothing to fetch.
    assert.is(cache.hostBytes, 0);
    assert.equal(cache.prefetch(radixKey(engine.modelId, requests[0]!.promptTokens)), {
      numTokens: 0,
      bytes: 0,
    });
  })();
});

test("KV slices and concatenation round-trip exactly", async () => {
  const [out] = await model.prefill([{ tokens: requests[0]!.promptTokens.slice(0, 20) }]);
  const kv = new RuntimeKv(out!.kv);
  const parts = [kv.slice(0, 7), kv.slice(7, 8), kv.slice(8, 20)];
  const joined = parts[0]!.concat(parts.slice(1));
  assert.is(joined.numTokens, 20);
  assert.is(joined.bytes, kv.bytes);
  for (let l = 0; l < out!.kv.keys.length; l++) {
    assert.equal(Array.from(joined.kv.keys[l]!), Array.from(out!.kv.keys[l]!));
    assert.equal(Array.from(joined.kv.values[l]!), Array.from(out!.kv.values[l]!));
  }
});

test("a slice taken from a batch row equals the same slice of the materialized row", async () => {
  const engine = new RuntimeEngine(model);
  const a = requests[0]!.promptTokens;
  const [first] = await engine.forward([{ past: undefined, tokens: a.slice(0, 12) }]);
  // Rows of different lengths, one continuing a past: padding and holes inside the batch.
  const outs = await engine.forward([
    { past: first!.kv, tokens: a.slice(12, 15) },
    { past: undefined, tokens: a.slice(0, 30) },
  ]);
  for (const out of outs) {
    const fromView = out.kv.slice(3, 14);
    const whole = new RuntimeKv(out.kv.kv);
    const fromCopy = whole.slice(3, 14);
    for (let l = 0; l < fromView.kv.keys.length; l++) {
      assert.equal(Array.from(fromView.kv.keys[l]!), Array.from(fromCopy.kv.keys[l]!));
      assert.equal(Array.from(fromView.kv.values[l]!), Array.from(fromCopy.kv.values[l]!));
    }
  }
  assert.is(outs[0]!.kv.numTokens, 15);
});

test("a batch continued with its rows listed in another order is fed as it is, not copied", async () => {
  const engine = new RuntimeEngine(model);
  const prompts = requests.slice(0, 3).map((r) => r.promptTokens);
  const first = await engine.forward(prompts.map((tokens) => ({ past: undefined, tokens })));
  const present = first[0]!.kv.view!.padded;
  const fed: unknown[] = [];
  const session = model.session;
  const run = session.run.bind(session);
  session.run = (tokens, past, options) => {
    fed.push(past);
    return run(tokens, past, options);
  };
  try {
    // every row of the batch, listed last-first (as rows come back grouped after a join)
    const order = [2, 0, 1];
    const next = await engine.forward(order.map((i) => ({ past: first[i]!.kv, tokens: [7] })));
    assert.ok(fed[0] === present, "the previous present itself is the past: no row selection");
    // each answer belongs to its own row: the same logits as the rows in batch order
    const inOrder = await engine.forward(first.map((o) => ({ past: o.kv, tokens: [7] })));
    order.forEach((row, k) => {
      assert.equal(Array.from(next[k]!.logits), Array.from(inOrder[row]!.logits), `row ${row}`);
      assert.is(next[k]!.kv.numTokens, prompts[row]!.length + 1);
    });
  } finally {
    session.run = run;
  }
});

test.run();
