import { test } from "uvu";
import * as assert from "uvu/assert";
import { CostModel, type CostArgs, type CostNode } from "../../src/cost/cost-model.ts";
import { priorProfile, type Profile } from "../../src/cost/profile.ts";
import { httpKey, sqlKey } from "../../src/cost/tool-costs.ts";
import { fitWarmup } from "../../src/cost/warmup.ts";
import type { PlanNode } from "../../src/plan/types.ts";

function profile(modelId: string, over: Partial<Profile> = {}): Profile {
  return {
    ...priorProfile(modelId),
    prefill: { callMs: 1, tokenMs: 0.02, attentionMs: 1e-5 },
    decode: { stepMs: 1, rowMs: 0.1, kvMs: 0.001 },
    kvBytesPerToken: 1000,
    kvBudgetBytes: 1_000_000,
    kvMove: { fixedMs: 0.01, bytesPerMs: 1e6 },
    loadMs: 90,
    ...over,
  };
}

const llm = (over: CostArgs = {}): CostNode => ({
  kind: "LlmCall",
  signature: "sig-a",
  args: { prompt: "x", maxTokens: 8, modelKey: "m", ...over },
});

test("the primitives follow the formulas", () => {
  const cost = new CostModel(profile("m"));
  // 1 + 0.02*100 + 1e-5*100*(50+50)
  assert.ok(Math.abs(cost.prefillMs([{ newTokens: 100, cachedTokens: 50 }]) - 3.1) < 1e-9);
  // 1 + 0.1*4 + 0.001*4*100
  assert.ok(Math.abs(cost.decodeStepMs(4, 100) - 1.8) < 1e-9);
  // decodeMs sums steps with growing context
  let sum = 0;
  for (let t = 0; t < 5; t++) sum += cost.decodeStepMs(4, 100 + t);
  assert.ok(Math.abs(cost.decodeMs(5, 4, 100) - sum) < 1e-9);
  assert.is(cost.kvBytes(10), 10_000);
});

test("cached tokens make an LLM node cheaper; more calls cost more; batching amortizes", () => {
  const cost = new CostModel(profile("m", { kvBudgetBytes: 1e9 }));
  const base = { calls: 16, promptTokens: 200, outputTokens: 4 };
  const cold = cost.estimate(llm(), base).ms;
  const warm = cost.estimate(llm(), { ...base, cachedTokens: 150 }).ms;
  assert.ok(warm < cold, `${warm} < ${cold}`);
  assert.ok(cost.estimate(llm(), { ...base, calls: 32 }).ms > cold);
  const oneByOne = cost.estimate(llm(), { ...base, batchSize: 1 });
  const batched = cost.estimate(llm(), { ...base, batchSize: 16 });
  assert.is(oneByOne.batches, 16);
  assert.is(batched.batches, 1);
  assert.ok(batched.ms < oneByOne.ms);
});

test("batches never exceed what the KV budget holds", () => {
  const cost = new CostModel(profile("m"));
  // 1e6 bytes / (1000 bytes x 204 tokens) = 4 sequences
  assert.is(cost.maxBatch(204), 4);
  const e = cost.estimate(llm(), { calls: 16, promptTokens: 200, outputTokens: 4 });
  assert.is(e.batches, 4);
});

test("output tokens: measured average first, then the mean label, then maxTokens", () => {
  const cost = new CostModel(profile("m"));
  assert.is(cost.expectedOutputTokens(llm({ maxTokens: 40 })), 40);
  // 8 characters at 3 per token without a tokenizer; the mean label's tokens with one
  assert.is(cost.expectedOutputTokens(llm({ choices: ["positive", "negative"] })), 3);
  const chars = (t: string) => t.length;
  assert.is(cost.expectedOutputTokens(llm({ choices: ["a", "bb", "cccccc"] }), chars), 3);
  cost.observeOutputTokens("sig-a", 6);
  cost.observeOutputTokens("sig-a", 10);
  assert.is(cost.expectedOutputTokens(llm({ maxTokens: 40 })), 8);
});

test("migration is refused when recomputing is cheaper than moving", () => {
  const slowMove = new CostModel(profile("m", { kvMove: { fixedMs: 5, bytesPerMs: 1e3 } }));
  assert.is(slowMove.shouldMigrate(100, 0), false);
  const fastMove = new CostModel(profile("m", { kvMove: { fixedMs: 0, bytesPerMs: 1e9 } }));
  assert.is(fastMove.shouldMigrate(100, 0), true);
  const tiers = fastMove.kvMoveCost();
  assert.is(tiers.moveMs(1e9, "out"), 1);
  assert.ok(tiers.recomputeMs(100, 0) > 0);
});

test("a model switch costs the load time unless the model is resident", () => {
  const cost = new CostModel([profile("a"), profile("b", { loadMs: 500 })]);
  cost.addProfile(profile("b", { loadMs: 500 }), ["models/b"]);
  assert.is(cost.modelSwitchMs("b", "a"), 500);
  assert.is(cost.modelSwitchMs("models/b", "b"), 0);
  const e = cost.estimate(llm({ modelKey: "models/b" }), { residentModel: "a", promptTokens: 10 });
  assert.is(e.switchMs, 500);
  cost.observe({ kind: "load", model: "b" }, 100);
  assert.ok(cost.modelSwitchMs("b") < 500);
});

test("tool nodes cost calls x the per-signature average, from the declared latency", () => {
  const cost = new CostModel(profile("m"));
  const http: CostNode = {
    kind: "HttpCall",
    args: { url: "http://h/{id}", method: "GET", latencyMs: 40 },
  };
  assert.is(cost.estimate(http, { calls: 10 }).ms, 400);
  for (let i = 0; i < 50; i++)
    cost.observe({ kind: "tool", key: httpKey("GET", "http://h/{id}") }, 10);
  assert.ok(Math.abs(cost.estimate(http, { calls: 10 }).ms - 100) < 5);
  const sql: CostNode = { kind: "SqlCall", args: { query: "SELECT 1", dbKey: "duckdb:default" } };
  assert.is(cost.toolKeyOf(sql), sqlKey("duckdb:default", "SELECT 1"));
  assert.ok(cost.estimate(sql).ms > 0);
  assert.is(cost.estimate({ kind: "Filter" }).ms, 0);
});

test("online observations refit the profile toward what runs measure", () => {
  const p = profile("m");
  p.samples.decode = [
    { batch: 1, context: 16, ms: 1.12 },
    { batch: 4, context: 16, ms: 1.46 },
    { batch: 4, context: 128, ms: 1.91 },
  ];
  p.samples.prefill = [];
  const cost = new CostModel(p, { refitEvery: 4 });
  // The machine turned out 3x slower per step than calibrated.
  for (const [batch, context] of [
    [1, 32],
    [2, 64],
    [8, 128],
    [16, 256],
    [8, 32],
    [2, 256],
    [16, 32],
    [1, 256],
  ]) {
    cost.observe(
      { kind: "decode", batch: batch!, context: context!, steps: 1 },
      3 * (1 + 0.1 * batch! + 0.001 * batch! * context!),
    );
  }
  assert.ok(
    cost.decodeStepMs(8, 128) > 1.5 * (1 + 0.8 + 0.001 * 8 * 128),
    `${cost.decodeStepMs(8, 128)}`,
  );
});

test("estimated vs measured records report the median error", () => {
  const cost = new CostModel(profile("m"));
  cost.record({ nodeId: 1, label: "a", kind: "LlmCall", estimatedMs: 100, measuredMs: 80 });
  cost.record({ nodeId: 2, label: "b", kind: "SqlCall", estimatedMs: 10, measuredMs: 10 });
  cost.record({ nodeId: 3, label: "c", kind: "HttpCall", estimatedMs: 30, measuredMs: 60 });
  const r = cost.estimatedVsMeasured();
  assert.is(r.records.length, 3);
  assert.is(r.medianRelError, 0.25);
  cost.clearRecords();
  assert.is(cost.estimatedVsMeasured().records.length, 0);
});

test("plan nodes as the frame lowers them are estimated directly", () => {
  const cost = new CostModel(profile("m", { kvBudgetBytes: 1e9 }));
  const node: PlanNode = {
    id: 3,
    kind: "LlmCall",
    inputs: [2],
    args: { prompt: "Label: {text}", output: "label", maxTokens: 4, modelKey: "m" },
    columns: ["text", "label"],
    label: "label",
    volatility: "stable",
    signature: "abc",
    merged: 1,
  };
  const source: PlanNode = {
    id: 0,
    kind: "Sink",
    inputs: [3],
    args: { index: 0 },
    columns: null,
    label: "sink",
    volatility: "stable",
    signature: "def",
    merged: 1,
  };
  assert.ok(cost.estimate(node, { calls: 4 }).ms > 0);
  assert.is(cost.estimate(source).ms, 0);
});

test("warm-up: a cold session pays for growing its memory, once, and only the growth", () => {
  // 1 ms per MiB; KV 1000 bytes per token.
  const cost = new CostModel(profile("m", { warmup: { msPerMiB: 1 } }));
  const node = llm({ maxTokens: 8 });
  const state = { calls: 4, promptTokens: 92, batchSize: 4 };
  const mib = (bytes: number) => bytes / 2 ** 20;
  // Cold: the batch of 4 ends at 92 + 8 tokens of context each.
  const cold = cost.estimate(node, state);
  assert.ok(Math.abs(cold.warmupMs - mib(4 * 100 * 1000)) < 1e-9, `${cold.warmupMs}`);
  assert.ok(Math.abs(cold.ms - (cold.prefillMs + cold.decodeMs + cold.warmupMs)) < 1e-9);
  assert.is(cost.estimate(node, { ...state, warmup: false }).warmupMs, 0);
  // The run's decode steps are observed (taking exactly the formula plus 1 ms/MiB of growth, so
  // c_grow stays 1): that size no longer costs extra.
  const steady = cost.decodeMs(8, 4, 92);
  cost.observe(
    { kind: "decode", model: "m", batch: 4, context: 92, steps: 8 },
    steady + cold.warmupMs,
  );
  assert.is(cost.estimate(node, state).warmupMs, 0);
  assert.ok(Math.abs(cost.profile("m").warmup.msPerMiB - 1) < 1e-9);
  // A batch of 8 pays only for the bytes beyond what the batch of 4 held.
  const wider = cost.estimate(node, { ...state, calls: 8, batchSize: 8 });
  assert.ok(Math.abs(wider.warmupMs - mib(4 * 100 * 1000)) < 1e-9, `${wider.warmupMs}`);
  // A prefill call that grows the footprint and runs slower than the formula teaches c_grow
  // (and stays out of the formulas' refit); the mark rises too.
  const rows = Array(8).fill({ newTokens: 150, cachedTokens: 0 });
  cost.observe({ kind: "prefill", model: "m", rows }, cost.prefillMs(rows) + 50);
  assert.ok(cost.profile("m").warmup.msPerMiB > 1, `${cost.profile("m").warmup.msPerMiB}`);
  assert.is(cost.warmupMs(8, 150), 0);
  // A node that ran counts as warm up to the footprint its estimate was charged for, even when
  // the worker split its batch (the tasks alone would leave the mark lower).
  const fresh = new CostModel(profile("m", { warmup: { msPerMiB: 1 } }));
  const big = fresh.estimate(node, { ...state, calls: 8, batchSize: 8 });
  assert.ok(big.warmupMs > 0 && big.footprintBytes === 8 * 100 * 1000, `${big.footprintBytes}`);
  fresh.observe({ kind: "decode", model: "m", batch: 4, context: 92, steps: 8 }, 10);
  assert.ok(fresh.estimate(node, { ...state, calls: 8, batchSize: 8 }).warmupMs > 0);
  fresh.noteRan(big.footprintBytes, "m");
  assert.is(fresh.estimate(node, { ...state, calls: 8, batchSize: 8 }).warmupMs, 0);
});

test("fitWarmup: ms per MiB of growth through the origin; no growth, no warm-up", () => {
  const MiB = 2 ** 20;
  const fit = fitWarmup([
    { growthBytes: 2 * MiB, excessMs: 20 },
    { growthBytes: 4 * MiB, excessMs: 40 },
    { growthBytes: 0, excessMs: 30 }, // noise on a point that grew nothing: ignored
    { growthBytes: 1 * MiB, excessMs: -5 }, // a faster first run (load noise): counts as 0
  ]);
  // (2*20 + 4*40 + 1*0) / (4 + 16 + 1)
  assert.ok(Math.abs(fit.msPerMiB - 200 / 21) < 1e-9, `${fit.msPerMiB}`);
  assert.is(fitWarmup([]).msPerMiB, 0);
});

test("a CostModel needs a profile", () => {
  assert.throws(() => new CostModel([]), /at least one Profile/);
});

test.run();
