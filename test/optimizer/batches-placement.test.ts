// plan-batches (gathering rows on a CPU), the batch-sizes analysis (sizes under the KV budget,
// explain only) and place-work (workers by resident model and cost).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower } from "../../src/index.ts";
import { analyze, optimize } from "../../src/optimizer/index.ts";
import { optimizations, type OptimizationFlags } from "../../src/plan/optimize.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { testContext, type TestContextOptions } from "./helpers/context.ts";

halo.models.register("fake", fakeModel());
halo.models.register("fake2", fakeModel("fake2"));
const only = (...flags: (keyof OptimizationFlags)[]) => {
  const f = optimizations.none();
  for (const k of flags) f[k] = true;
  return f;
};
const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, text: `row ${i} says hello` }));
const agent = { name: "a", prompt: "Echo: {{text}}", output: "o", model: "fake", maxTokens: 8 };

test("batch sizes (an analysis): a roomy budget batches every call; a tight one caps the batch", () => {
  const dag = lower([halo.lazy(rows).agent(agent).node]);
  const sizes = (ctx: ReturnType<typeof testContext>) => {
    const planned = analyze(optimize(dag, only("groupSharedPrefixes"), ctx).dag, ctx);
    return { dag: planned, sizes: planned.nodes[planned.root]!.physical!.report!.batchSizes! };
  };
  const roomy = sizes(testContext()).sizes;
  assert.equal(roomy, [{ nodeId: 1, size: 100, batches: 1, reason: "all calls" }]);
  // About 30 tokens per sequence at 16 bytes each: 8 KiB holds some 15 sequences.
  const tight = sizes(testContext({ kvBudgetBytes: 8192 }));
  const b2 = tight.sizes[0]!;
  assert.is(b2.reason, "kv budget");
  assert.ok(b2.size > 1 && b2.size < 100, `size ${b2.size}`);
  assert.is(b2.batches, Math.ceil(100 / b2.size));
  const text = explain(tight.dag, { report: true });
  assert.match(text, /analysis batch-sizes: batch size x batches: #1 \d+x\d+/);
  assert.match(text, /#1 LlmCall a .*batch \d+x\d+ \(kv budget\)/);
  // Nothing the Processor reads: the LLM node carries no batch size, only the report has it.
  const node = tight.dag.nodes.find((n) => n.kind === "LlmCall")!;
  assert.not.ok(JSON.stringify(node.physical).includes('"size"'));
});

test("gather: only on a CPU provider, with room for more than one sequence, not after HTTP", () => {
  const batchOf = (frame: ReturnType<typeof halo.lazy>, options: TestContextOptions = {}) => ({
    gather: optimize(lower([frame.node]), only("planBatches"), testContext(options)).dag.nodes.find(
      (n) => n.kind === "LlmCall",
    )!.physical?.gather,
  });
  const plain = halo.lazy(rows).agent(agent);
  assert.is(batchOf(plain).gather, true);
  assert.is(
    batchOf(plain, { provider: "cuda" }).gather,
    undefined,
    "an accelerator overlaps CPU tools",
  );
  // 16 bytes per token, about 14 tokens per sequence (the template's words and 8 answer tokens,
  // without group-shared-prefixes' tokenizing): 200 bytes hold one at a time.
  assert.is(batchOf(plain, { kvBudgetBytes: 200 }).gather, undefined, "one at a time anyway");
  const afterHttp = halo
    .lazy(rows)
    .http({ url: "http://127.0.0.1:9/x?id={{id}}", output: "extra" })
    .agent({ ...agent, prompt: "Echo: {{text}} {{extra}}" });
  assert.is(batchOf(afterHttp).gather, undefined, "waiting on HTTP costs no CPU: stream");
});

test("default workers: one per model, no switches", () => {
  const lf = halo
    .lazy(rows)
    .agent(agent)
    .agent({ ...agent, name: "b", model: "fake2", output: "p" });
  const { dag } = optimize(
    lower([lf.node]),
    only("placeWork"),
    testContext({ models: ["fake", "fake2"] }),
  );
  const placed = dag.nodes.filter((n) => n.kind === "LlmCall").map((n) => n.physical!.placement!);
  assert.equal(
    placed.map((p) => [p.lane, p.model, p.switchMs]),
    [
      ["llm:0", "fake", 0],
      ["llm:1", "fake2", 0],
    ],
  );
});

test("two names of one model: one worker serves both, no switch, even when configured", () => {
  const lf = halo
    .lazy(rows)
    .agent(agent)
    .agent({ ...agent, name: "b", model: "fake2", prompt: "Other: {{text}}", output: "p" });
  const sameModel = { fake2: "fake" };
  const placedLanes = (workers?: { lane: string; resident: string }[]) => {
    const ctx = testContext({ models: ["fake", "fake2"], sameModel, loadMs: 1e6, workers });
    const { dag } = optimize(lower([lf.node]), only("placeWork"), ctx);
    return dag.nodes
      .filter((n) => n.kind === "LlmCall")
      .map((n) => [n.physical!.placement!.lane, n.physical!.placement!.switchMs]);
  };
  // default workers: one per model, and these two names are one model
  assert.equal(placedLanes(), [
    ["llm:0", 0],
    ["llm:0", 0],
  ]);
  // two workers of that model (workersPerModel 2): either may run either name, never a switch
  const two = placedLanes([
    { lane: "llm:0", resident: "fake" },
    { lane: "llm:1", resident: "fake" },
  ]);
  assert.ok(
    two.every(([, ms]) => ms === 0),
    JSON.stringify(two),
  );
  // without modelOf the names are two models: two workers (the test above)
});

test("configured workers: a model switch is paid only when waiting would cost more", () => {
  const two = (model2: string) =>
    halo
      .lazy(rows)
      .agent(agent)
      .agent({ ...agent, name: "b", model: model2, prompt: "Other: {{text}}", output: "p" });
  const workers = [
    { lane: "llm:0", resident: "fake" },
    { lane: "llm:1", resident: "fake2" },
  ];
  // Cheap load: the second node of model "fake" goes to the idle worker and loads it there.
  const cheap = testContext({ models: ["fake", "fake2"], workers, loadMs: 0.001 });
  const a = optimize(lower([two("fake").node]), only("placeWork"), cheap).dag;
  const pa = a.nodes.filter((n) => n.kind === "LlmCall").map((n) => n.physical!.placement!);
  assert.equal(
    pa.map((p) => p.lane),
    ["llm:0", "llm:1"],
  );
  assert.ok(pa[1]!.switchMs > 0);
  // Costly load: it waits for the worker where its model is resident.
  const costly = testContext({ models: ["fake", "fake2"], workers, loadMs: 1e6 });
  const b = optimize(lower([two("fake").node]), only("placeWork"), costly).dag;
  const pb = b.nodes.filter((n) => n.kind === "LlmCall").map((n) => n.physical!.placement!);
  assert.equal(
    pb.map((p) => [p.lane, p.switchMs]),
    [
      ["llm:0", 0],
      ["llm:0", 0],
    ],
  );
  assert.match(
    explain(b, { report: true }),
    /place-work: 2 worker\(s\) \[llm:0=fake, llm:1=fake2\]; 0 model switch/,
  );
});

test("a gathered child waits for its parent: a chain stays on one worker, a fork uses both", () => {
  const workers = [
    { lane: "llm:0", resident: "fake" },
    { lane: "llm:1", resident: "fake" },
  ];
  const ctx = testContext({ models: ["fake"], workers });
  const lanes = (nodes: ReturnType<typeof halo.lazy>[]) =>
    optimize(lower(nodes.map((f) => f.node)), only("planBatches", "placeWork"), ctx)
      .dag.nodes.filter((n) => n.kind === "LlmCall")
      .map((n) => [n.physical!.gather, n.physical!.placement!.lane]);
  const parent = halo.lazy(rows).agent(agent);
  const child = { ...agent, name: "b", prompt: "Again: {{text}} {{o}}", output: "p" };
  // The child cannot start before its parent ends, when llm:0 is free again and holds its KV.
  assert.equal(lanes([parent.agent(child)]), [
    [true, "llm:0"],
    [true, "llm:0"],
  ]);
  // Two children of one parent: the second would wait behind the first on llm:0.
  assert.equal(lanes([parent.agent(child), parent.agent({ ...child, name: "c", output: "q" })]), [
    [true, "llm:0"],
    [true, "llm:0"],
    [true, "llm:1"],
  ]);
});

test("same rows with batches and placement on and off", async () => {
  const lf = () => halo.lazy(rows.slice(0, 20)).agent(agent);
  const on = await lf().collectRows({ optimizations: optimizations.all(), reuse: false });
  const off = await lf().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.equal(on, off);
});

test.run();
