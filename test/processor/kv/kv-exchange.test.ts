// KV moving between two LLM workers of one model, each on its own onnxruntime session of the
// shipped model with its own prefix cache: a conversation's turns alternate between the workers,
// so its KV moves out to the second worker and back to the first. Answers must equal
// `Model.generate` one request at a time, moved or recomputed, in-process or between two model
// threads (the KV then moves thread to thread).
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  getModel,
  getModelReplica,
  shippedModelDir,
  type Model,
} from "../../../src/runtime/index.ts";
import type { ChatMessage, GenerateRequest } from "../../../src/runtime/types.ts";
import { KvExchange } from "../../../src/processor/kv/kv-exchange.ts";
import type { KvMoveCost } from "../../../src/processor/kv/kv-tiers.ts";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { PrefixCache } from "../../../src/processor/kv/prefix-cache.ts";
import { RuntimeEngine, type RuntimeKv } from "../../../src/processor/llm/runtime-engine.ts";
import type { ThreadKv } from "../../../src/processor/llm/thread/thread-kv.ts";
import { ThreadedEngine } from "../../../src/processor/llm/thread/threaded-engine.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";

const modelDir = process.env.HALO_MODEL_DIR ?? shippedModelDir();
const moveIsCheap: KvMoveCost = { moveMs: () => 0.001, recomputeMs: (n) => n };
const recomputeIsCheap: KvMoveCost = { moveMs: () => 50, recomputeMs: () => 1 };

let first: Model;
let second: Model;

test.before(async () => {
  first = await getModel(modelDir);
  second = await getModelReplica(modelDir, 1);
});

function twoWorkers(cost: KvMoveCost, budgetBytes = 64 << 20) {
  const trace = new TraceRecorder();
  const exchange = new KvExchange<RuntimeKv>(first.id, cost);
  const workers = [first, second].map((model, i) => {
    const lane = `llm:${i}`;
    const cache = new PrefixCache<RuntimeKv>({ budgetBytes });
    exchange.join(i, cache);
    return new LlmWorker(new RuntimeEngine(model), {
      cache,
      kvBudgetBytes: budgetBytes,
      lane,
      trace,
      importPrefix: (tokens, sink) => exchange.pull(i, tokens, sink),
    });
  });
  return { exchange, workers, trace };
}

/** A chat task the model was trained on (models/README.md), one question per turn. */
const facts = "My name is Tom. I live in Oslo.";
const questions = ["What is my name?", "Where do I live?"];

/** Runs the turns alternately on worker 0, 1, 0, each turn's prompt holding the ones before. */
async function converse(workers: LlmWorker<RuntimeKv>[] | LlmWorker<ThreadKv>[]) {
  const messages: ChatMessage[] = [{ role: "user", content: facts }];
  const turns: { request: GenerateRequest; text: string; cachedTokens: number }[] = [];
  for (let t = 0; t <= questions.length; t++) {
    const request = {
      promptTokens: first.encodeChat(messages),
      sampling: { maxTokens: 12 },
    };
    const result = await (workers[t % 2] as LlmWorker<RuntimeKv>).submit(request);
    turns.push({ request, text: result.text, cachedTokens: result.cachedTokens });
    messages.push({ role: "assistant", content: result.text });
    if (t < questions.length) messages.push({ role: "user", content: questions[t]! });
  }
  return turns;
}

async function alone(request: GenerateRequest): Promise<string> {
  return (await first.generate([request]))[0]!.text;
}

test("a second session of the same folder: another InferenceSession, the same model id", () => {
  assert.ok(second !== first && second.session !== first.session);
  assert.is(second.id, first.id);
});

test("KV moved out to the other worker and back gives the answers of Model.generate", async () => {
  const { exchange, workers, trace } = twoWorkers(moveIsCheap);
  const turns = await converse(workers);
  for (const turn of turns) assert.is(turn.text, await alone(turn.request));
  // Turn 2 ran on worker 1 with turn 1's prompt and answer moved over; turn 3 back on worker 0
  // with turn 2's moved back: each prefilled only what no worker had.
  assert.is(exchange.stats.moves, 2);
  assert.is(exchange.stats.declined, 0);
  assert.ok(turns[1]!.cachedTokens > turns[0]!.request.promptTokens.length, "prompt + answer");
  assert.ok(turns[2]!.cachedTokens > turns[1]!.request.promptTokens.length, "moved back");
  const moves = trace.listTasks().filter((t) => t.kind === "kv-move");
  assert.equal(
    moves.map((t) => t.lane),
    ["kv:llm:0>llm:1", "kv:llm:1>llm:0"],
  );
  // Out: worker 1 got the m1 tokens worker 0 held. Back: worker 0 held those m1 itself and got
  // the rest of turn 3's m2 cached tokens from worker 1. So the moves carried m2 in all.
  assert.is(exchange.stats.movedTokens, turns[2]!.cachedTokens);
});

test("when recomputing is cheaper nothing moves, and the answers are the same", async () => {
  const { exchange, workers, trace } = twoWorkers(recomputeIsCheap);
  const turns = await converse(workers);
  for (const turn of turns) assert.is(turn.text, await alone(turn.request));
  assert.is(exchange.stats.moves, 0);
  assert.is(exchange.stats.declined, 2);
  assert.ok(exchange.stats.declinedTokens > 0);
  assert.is(trace.listTasks().filter((t) => t.kind === "kv-move").length, 0);
  // Worker 1 had nothing of turn 1 and got nothing: it prefilled turn 2 from scratch.
  assert.is(turns[1]!.cachedTokens, 0);
});

test("a KV budget smaller than the conversation still gives the same answers", async () => {
  // Room for about one sequence: caches evict what they just got; moves may be wasted, never wrong.
  const budget = 24 * new RuntimeEngine(first).kvBytesPerToken;
  const { workers } = twoWorkers(moveIsCheap, budget);
  const turns = await converse(workers);
  for (const turn of turns) assert.is(turn.text, await alone(turn.request));
});

test("KV moved between two model threads gives the answers of one worker", async () => {
  const engines = [new ThreadedEngine(first), new ThreadedEngine(first)];
  try {
    const trace = new TraceRecorder();
    const exchange = new KvExchange<ThreadKv>(first.id, moveIsCheap);
    const workers = engines.map((engine, i) => {
      const cache = new PrefixCache<ThreadKv>({ budgetBytes: 64 << 20 });
      exchange.join(i, cache, (kv) => engine.adopt(kv));
      return new LlmWorker(engine, {
        cache,
        lane: `llm:${i}`,
        trace,
        importPrefix: (tokens, sink) => exchange.pull(i, tokens, sink),
      });
    });
    const moved = await converse(workers);
    // One worker, in-process, no moves: the reference.
    const one = new LlmWorker(new RuntimeEngine(first));
    const single = await converse([one, one]);
    assert.equal(
      moved.map((t) => t.text),
      single.map((t) => t.text),
    );
    for (const turn of moved) assert.is(turn.text, await alone(turn.request));
    assert.is(exchange.stats.moves, 2);
    assert.ok(moved[1]!.cachedTokens > moved[0]!.request.promptTokens.length, "moved over");
    assert.ok(moved[2]!.cachedTokens > moved[1]!.request.promptTokens.length, "moved back");
    // Each thread holds exactly what its cache holds: the moved copies and nothing in transit.
    for (const [i, engine] of engines.entries()) {
      const stats = await engine.kvStats();
      assert.is(stats.arriving, 0);
      assert.is(stats.bytes, workers[i]!.cache!.fastBytes, `thread ${i}`);
    }
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
});

test.run();
