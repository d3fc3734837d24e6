// The floor's formula on hand-built workloads whose answer is known, with fixed rates (timings
// would be noisy): equal calls count once, a shared prefix once, tools in series add up and
// parallel ones do not, the floor is the larger of the two terms, and a system below it fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  computeFloor,
  distinctPositions,
  floorViolations,
  llmFloor,
  minDecodeSteps,
  toolFloor,
  type LlmCallRecord,
  type WorkloadCalls,
} from "../../../bench/harness/floor.ts";
import { bestLlmRates, type LlmRates } from "../../../bench/harness/llm-rates.ts";
import { runFailures } from "../../../bench/harness/report.ts";
import type { MeasuredFloor, WorkloadResult } from "../../../bench/harness/types.ts";
import type { WorkflowShape } from "../../../bench/workloads/types.ts";
import { priorProfile, type Profile } from "../../../src/cost/profile.ts";

// 1 ms per prefilled token, 10 ms per decoded token: answers in round numbers.
const RATES: LlmRates = {
  prefill: { msPerToken: 1, from: "fixed" },
  decode: { msPerToken: 10, from: "fixed" },
};
const fixedRates = () => RATES;

const call = (prompt: number[], output: number[], endedOnEos = false): LlmCallRecord => ({
  modelDir: "m",
  promptTokens: prompt,
  outputTokens: output,
  endedOnEos,
});

test("distinct positions: equal sequences once, a shared prefix once, in any order", () => {
  assert.is(distinctPositions([]), 0);
  assert.is(distinctPositions([[1, 2, 3]]), 3);
  assert.is(
    distinctPositions([
      [1, 2, 3],
      [1, 2, 3],
    ]),
    3,
  );
  // [1,2] shared: 2 + 2 + 2 new positions.
  const seqs = [
    [1, 2, 3, 4],
    [1, 2, 5, 6],
    [1, 2, 7, 8],
  ];
  assert.is(distinctPositions(seqs), 8);
  assert.is(distinctPositions([...seqs].reverse()), 8);
  // A prompt that is a prefix of another adds nothing.
  assert.is(distinctPositions([[1, 2], [1, 2, 3], [9]]), 4);
});

test("LLM floor: two equal calls count once; a shared prefix is prefilled once", () => {
  // Two equal calls: 4 prompt tokens, answer of 3 tokens -> 2 decode steps (the first answer
  // token comes from the prefill).
  const [equal] = llmFloor(
    [call([1, 2, 3, 4], [7, 8, 9]), call([1, 2, 3, 4], [7, 8, 9])],
    fixedRates,
  );
  assert.is(equal!.prefillTokens, 4);
  assert.is(equal!.decodeTokens, 2);
  assert.is(equal!.seconds, (4 * 1 + 2 * 10) / 1000);
  // A shared 3-token prefix: 3 + 1 + 1 prompt positions.
  const [shared] = llmFloor(
    [call([1, 2, 3, 4], [7]), call([1, 2, 3, 5], [7]), call([1, 2, 3, 6], [7])],
    fixedRates,
  );
  assert.is(shared!.prefillTokens, 6);
  assert.is(shared!.decodeTokens, 0);
});

test("LLM floor: the end token's step counts; equal answers to one prompt decode once", () => {
  // Ended on the end token: every answer token fed a step (3), not 2.
  assert.is(llmFloor([call([1], [7, 8, 9], true)], fixedRates)[0]!.decodeTokens, 3);
  // One prompt asked with two bounds (different calls): greedy answers share their prefix.
  const [m] = llmFloor([call([1, 2], [7, 8, 9, 10]), call([1, 2], [7, 8])], fixedRates);
  assert.is(m!.prefillTokens, 2);
  assert.is(m!.decodeTokens, 3);
  // A position another call has in its prompt is priced as prefill (the cheaper rate).
  const [chain] = llmFloor([call([1, 2], [3, 4, 5]), call([1, 2, 3, 4, 9], [6])], fixedRates);
  assert.is(chain!.prefillTokens, 5);
  assert.is(chain!.decodeTokens, 0);
});

test("LLM floor: each model apart, each at its own rates, summed", () => {
  const calls = [call([1, 2], [3]), { ...call([1, 2], [3]), modelDir: "other" }];
  const models = llmFloor(calls, (dir) =>
    dir === "other" ? { ...RATES, prefill: { msPerToken: 3, from: "fixed" } } : RATES,
  );
  assert.equal(
    models.map((m) => [m.modelDir, m.prefillTokens, m.seconds]),
    [
      ["m", 2, 0.002],
      ["other", 2, 0.006],
    ],
  );
});

// x -> h1 (http) -> s1 (sql) -> l1 (llm) -> f1 (function) -> final (llm)
//   -> h2 (http) --------------^
const shape: WorkflowShape = {
  name: "hand-built",
  description: "a chain of two tools beside a parallel one, joined by an LLM",
  dataset: "imdb",
  inputColumns: ["qid", "x"],
  final: "final",
  expected: { llm: 2, tools: 4 },
  nodes: [
    { id: "h1", type: "http", route: "/imdb/search", query: { keyword: "{{x}}" }, output: "h1" },
    { id: "s1", type: "sql", query: "SELECT $p", params: { p: "{{h1}}" }, output: "s1" },
    { id: "h2", type: "http", route: "/imdb/search", query: { keyword: "{{x}}" }, output: "h2" },
    { id: "l1", type: "llm", model: "small", maxTokens: 4, prompt: "{{s1}} {{h2}}", output: "l1" },
    { id: "f1", type: "function", fn: "f", inputs: ["l1"], output: "f1" },
    { id: "final", type: "llm", model: "small", maxTokens: 4, prompt: "{{f1}}", output: "answer" },
  ],
};

const toolCalls = (): Pick<WorkloadCalls, "tools" | "queries"> => ({
  tools: new Map([
    ["a", { kind: "http" as const, ms: 30 }],
    ["b", { kind: "sql" as const, ms: 10 }],
    ["c", { kind: "http" as const, ms: 25 }],
    ["f", { kind: "function" as const, ms: 1 }],
    ["d", { kind: "http" as const, ms: 5 }],
    ["e", { kind: "sql" as const, ms: 5 }],
    ["g", { kind: "http" as const, ms: 50 }],
  ]),
  queries: [
    // h1 + s1 = 40 ms in series beat h2's 25 in parallel: 40 + f1 = 41 ms.
    {
      qid: 0,
      decodeRows: new Map([
        ["l1", 3],
        ["final", 4],
      ]),
      tools: new Map([
        ["h1", "a"],
        ["s1", "b"],
        ["h2", "c"],
        ["f1", "f"],
      ]),
    },
    // h2's 50 ms beats h1 + s1 = 10: 51 ms, the slowest query.
    {
      qid: 1,
      decodeRows: new Map([
        ["l1", 10],
        ["final", 2],
      ]),
      tools: new Map([
        ["h1", "d"],
        ["s1", "e"],
        ["h2", "g"],
        ["f1", "f"],
      ]),
    },
  ],
});

test("tool floor: calls in series add up, parallel ones do not, the slowest query counts", () => {
  const t = toolFloor(shape, toolCalls());
  assert.is(t.seconds, 0.051);
  assert.equal(t.criticalPath, {
    qid: 1,
    steps: [
      { node: "h2", kind: "http", ms: 50 },
      { node: "f1", kind: "function", ms: 1 },
    ],
  });
  // One query alone: the series path.
  const first = toolCalls();
  first.queries.pop();
  const one = toolFloor(shape, first);
  assert.is(one.seconds, 0.041);
  assert.equal(
    one.criticalPath.steps.map((s) => s.node),
    ["h1", "s1", "f1"],
  );
});

test("decode steps no schedule avoids: the longest chain of LLM answers of one query", () => {
  // q0: 3 + 4 steps; q1: 10 + 2 steps (l1 feeds final through f1).
  assert.is(minDecodeSteps(shape, toolCalls().queries), 12);
  assert.is(minDecodeSteps(shape, []), 0);
});

test("the floor is the larger of the LLM floor and the tool floor, nothing added", () => {
  const counts = { llm: 4, distinctLlm: 2, tools: 8, distinctTools: 7 };
  const llmHeavy = computeFloor(
    shape,
    { ...toolCalls(), llm: [call([1, 2, 3], [4, 5, 6, 7, 8, 9])], counts },
    fixedRates,
  );
  // 3 ms prefill + 5 x 10 ms decode = 53 ms > 51 ms of tools.
  assert.is(llmHeavy.llmSeconds, 0.053);
  assert.is(llmHeavy.toolSeconds, 0.051);
  assert.is(llmHeavy.seconds, 0.053);
  assert.is(llmHeavy.bound, "llm");
  assert.equal(llmHeavy.counts, counts);
  assert.is(llmHeavy.minDecodeSteps, 12);
  const toolHeavy = computeFloor(
    shape,
    { ...toolCalls(), llm: [call([1, 2, 3], [4])], counts },
    fixedRates,
  );
  assert.is(toolHeavy.seconds, 0.051);
  assert.is(toolHeavy.bound, "tools");
});

const calibrated = (): Profile => ({
  ...priorProfile("m"),
  source: "calibrated",
  prefill: { callMs: 1, tokenMs: 0.02, attentionMs: 0 },
  decode: { stepMs: 2, rowMs: 0.125, kvMs: 0 },
  samples: {
    prefill: [{ rows: [{ newTokens: 100, cachedTokens: 0 }], ms: 4 }],
    decode: [{ batch: 8, context: 16, ms: 2 }],
  },
});

test("best rates: the fewest ms per token over samples, fit and measured forwards", () => {
  const p = calibrated();
  // Prefill: sample 0.04 ms/token, fit c_tok 0.02; decode: sample 0.25, fit 0.125 + 2/32.
  const r = bestLlmRates(p, [], 32);
  assert.is(r.prefill.msPerToken, 0.02);
  assert.is(r.prefill.from, "profile fit, c_tok alone");
  assert.is(r.decode.msPerToken, 0.1875);
  assert.is(r.decode.from, "profile fit at batch 32, context 0");
  // A forward measured faster than the profile wins.
  const measured = bestLlmRates(
    p,
    [
      { kind: "prefill", tokens: 1000, batch: 4, ms: 10 },
      { kind: "decode", tokens: 16, batch: 16, ms: 1.5 },
    ],
    32,
  );
  assert.is(measured.prefill.msPerToken, 0.01);
  assert.is(measured.decode.msPerToken, 0.09375);
  assert.is(measured.decode.from, "reference pass, batch 16");
  // A fitted 0 is no rate; the prior is no measurement.
  const zero = calibrated();
  zero.prefill.tokenMs = 0;
  assert.is(bestLlmRates(zero, [], 32).prefill.msPerToken, 0.04);
  assert.equal(bestLlmRates(priorProfile("m"), [], 32).prefill, {
    msPerToken: 0,
    from: "nothing measured",
  });
});

const floorOf = (seconds: number): MeasuredFloor => ({
  seconds,
  llmSeconds: seconds,
  toolSeconds: seconds / 2,
  bound: "llm",
  models: [],
  counts: { llm: 1, distinctLlm: 1, tools: 0, distinctTools: 0 },
  criticalPath: { qid: 0, steps: [] },
  minDecodeSteps: 0,
  referencePassSeconds: 1,
});

const result = (floor: MeasuredFloor | null, seconds: Record<string, number>): WorkloadResult =>
  ({
    name: "w",
    floor,
    identicalOutputs: true,
    systems: Object.entries(seconds).map(([name, s]) => ({ name, seconds: s })),
  }) as unknown as WorkloadResult;

test("a system faster than its floor fails the run, named with its seconds and the floor", () => {
  const r = result(floorOf(2), { halo: 1.5, opwise: 2.5 });
  const violations = floorViolations([r]);
  assert.is(violations.length, 1);
  assert.match(
    violations[0]!,
    /^halo ran w in 1\.500 s, below its floor of 2\.000 s \(LLM 2\.000 s, tools 1\.000 s\)/,
  );
  assert.ok(runFailures([r]).includes(violations[0]!));
  // At or above the floor, or without one: nothing fails.
  assert.equal(runFailures([result(floorOf(2), { halo: 2, opwise: 3 })]), []);
  assert.equal(runFailures([result(null, { halo: 0.001 })]), []);
  // A floor asked for and not computed fails the run too.
  const broken = { ...result(null, { halo: 1 }), floorError: "tool server down" };
  assert.equal(runFailures([broken]), ["w: no floor, its reference pass failed: tool server down"]);
});

test.run();
