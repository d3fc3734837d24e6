import { test } from "uvu";
import * as assert from "uvu/assert";
import { migratePrefix } from "../../../src/processor/kv/kv-migration.ts";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { PrefixCache } from "../../../src/processor/kv/prefix-cache.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";
import type { ArrayPayload } from "../helpers/array-payload.ts";
import { ToyEngine, generateAlone } from "../helpers/toy-engine.ts";

const cheap = { moveMs: () => 0.001, recomputeMs: (n: number) => n };

test("a prefix computed on one worker moves to another, which then prefills only the rest", async () => {
  const engine = new ToyEngine();
  const cacheA = new PrefixCache<ArrayPayload>({ budgetBytes: 1e9 });
  const cacheB = new PrefixCache<ArrayPayload>({ budgetBytes: 1e9 });
  const a = new LlmWorker(engine, { cache: cacheA });
  const b = new LlmWorker(engine, { cache: cacheB });
  const parent = { promptTokens: [9, 8, 7, 6, 5, 4, 3, 2], sampling: { maxTokens: 6 } };
  const first = await a.submit(parent);
  const child = {
    promptTokens: [...parent.promptTokens, ...first.tokens, 30, 31],
    sampling: { maxTokens: 6 },
  };
  const trace = new TraceRecorder();
  const moved = migratePrefix(cacheA, cacheB, "toy", child.promptTokens, { cost: cheap, trace });
  assert.equal(moved, {
    movedTokens: parent.promptTokens.length + first.tokens.length,
    reason: "moved",
  });
  assert.equal(
    trace.listTasks().map((t) => [t.kind, t.detail]),
    [["kv-move", "migrate"]],
  );
  const second = await b.submit(child);
  assert.is(second.cachedTokens, moved.movedTokens);
  assert.equal(second.tokens, (await generateAlone(new ToyEngine(), child)).tokens);
  assert.equal(
    migratePrefix(cacheA, cacheB, "toy", child.promptTokens, { cost: cheap }).reason,
    "already cached",
  );
  assert.equal(
    migratePrefix(cacheA, cacheB, "toy", [55, 56], { cost: cheap }).reason,
    "nothing cached",
  );
});

test("no move when recomputing is cheaper", async () => {
  const engine = new ToyEngine();
  const cacheA = new PrefixCache<ArrayPayload>({ budgetBytes: 1e9 });
  const cacheB = new PrefixCache<ArrayPayload>({ budgetBytes: 1e9 });
  await new LlmWorker(engine, { cache: cacheA }).submit({
    promptTokens: [1, 2, 3, 4],
    sampling: { maxTokens: 1 },
  });
  const r = migratePrefix(cacheA, cacheB, "toy", [1, 2, 3, 4, 5], {
    cost: { moveMs: () => 50, recomputeMs: () => 1 },
  });
  assert.equal(r, { movedTokens: 0, reason: "recompute is cheaper" });
  assert.is(cacheB.fastBytes, 0);
});

test.run();
