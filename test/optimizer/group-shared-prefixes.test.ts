// group-shared-prefixes: instances ordered along the prompt trie, groups by shared prefix, and
// predicted cache hits that the Processor's LLM worker (real radix cache, toy engine) matches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower } from "../../src/index.ts";
import { llmMessages } from "../../src/executor/row-ops.ts";
import { optimize } from "../../src/optimizer/index.ts";
import { optimizations, type OptimizationFlags } from "../../src/plan/optimize.ts";
import type { PlanNode } from "../../src/plan/types.ts";
import { LlmWorker } from "../../src/processor/llm/llm-worker.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { ToyEngine } from "../processor/helpers/toy-engine.ts";
import { testContext } from "./helpers/context.ts";

const model = fakeModel();
halo.models.register("fake", model);
const only = (...flags: (keyof OptimizationFlags)[]) => {
  const f = optimizations.none();
  for (const k of flags) f[k] = true;
  return f;
};
// Four long shared contexts (few-shot blocks), rows interleaved so row order keeps switching.
const contexts = ["alpha", "bravo", "charlie", "delta"].map(
  (w) => `Examples about ${w}: ${`${w} is a word. `.repeat(6)}`,
);
const rows = Array.from({ length: 64 }, (_, i) => ({
  id: i,
  context: contexts[i % 4],
  question: `question number ${i}?`,
}));
const agent = {
  name: "qa",
  system: "Answer from the context.",
  prompt: "{{context}}\nQ: {{question}}",
  output: "answer",
  model: "fake",
  maxTokens: 4,
};

function llmNode(nodes: PlanNode[]): PlanNode & { kind: "LlmCall" } {
  return nodes.find((n) => n.kind === "LlmCall") as PlanNode & { kind: "LlmCall" };
}

test("order walks the trie: rows of one context run together, one group each", () => {
  const { dag } = optimize(
    lower([halo.lazy(rows).agent(agent).node]),
    only("groupSharedPrefixes"),
    testContext(),
  );
  const p = llmNode(dag.nodes).physical!.prefix!;
  assert.is(p.inputRows, 64);
  assert.is(p.groups.length, 4);
  for (const g of p.groups) {
    assert.is(g.rows.length, 16);
    assert.ok(new Set(g.rows.map((r) => r % 4)).size === 1, "a group holds one context");
  }
  assert.equal(
    p.groups.flatMap((g) => g.rows),
    p.order,
  );
  assert.ok(p.exact && p.modelTokens);
  assert.match(
    explain(dag, { report: true }),
    /LlmCall qa[^\n]*prefix \d+\/\d+ tok shared, cache hits \d+ \(row order \d+\), 4 groups/,
  );
});

// The worker's batch limit, pinned: the default sizer moves it with measured step times.
const batch = { initial: 16, min: 16, max: 16 };

async function workerHits(
  prompts: number[][],
  budgetBytes: number,
  bytesPerToken: number,
): Promise<{ cached: number; outputPerCall: number }> {
  const worker = new LlmWorker(new ToyEngine(bytesPerToken), { kvBudgetBytes: budgetBytes, batch });
  // All at once, in the planned order: what the Processor does with a gathered node.
  await Promise.all(
    prompts.map((promptTokens) => worker.submit({ promptTokens, sampling: { maxTokens: 4 } })),
  );
  // Tokens generated per call: the first comes from the prefill, the rest from decode steps.
  const outputPerCall = (prompts.length + worker.stats.decodeTokens) / prompts.length;
  return { cached: worker.stats.cachedTokens, outputPerCall };
}

test("predicted cache hits match the LLM worker's, within 10%, under a tight KV budget", async () => {
  const bytesPerToken = 16;
  const promptLen = model.encodeChat(llmMessages({ ...agent, modelKey: "fake" }, rows[0]!)).length;
  // Room for a batch of 16 running sequences (the worker reserves prompt + maxTokens each) and
  // about two contexts' prompts beside them: row order thrashes, trie order does not.
  const budget = (16 * (promptLen + agent.maxTokens) + 2.5 * promptLen) * bytesPerToken;
  // The simulator reads the worker's settings: its batch limit, and no host tier (the worker
  // below has none).
  const ctx = testContext({
    kvBytesPerToken: bytesPerToken,
    kvBudgetBytes: budget,
    processor: { batch, kv: { hostBudgetBytes: 0 } },
  });
  const plan = () =>
    llmNode(
      optimize(lower([halo.lazy(rows).agent(agent).node]), only("groupSharedPrefixes"), ctx).dag
        .nodes,
    );
  const prompts = rows.map((r) => model.encodeChat(llmMessages({ ...agent, modelKey: "fake" }, r)));
  const order = plan().physical!.prefix!.order;
  const planned = await workerHits(
    order.map((i) => prompts[i]!),
    budget,
    bytesPerToken,
  );
  const rowOrder = await workerHits(prompts, budget, bytesPerToken);
  // As collect() does after a run: the cost model learns the node's answer length, which decides
  // when the worker frees batch slots and KV; then the next plan predicts.
  const node = plan();
  ctx.cost.observeOutputTokens(node.signature, planned.outputPerCall);
  const p = plan().physical!.prefix!;
  assert.equal(p.order, order);
  console.log(
    `measure: cached tokens predicted ${p.predictedCachedTokens} vs worker ${planned.cached} (planned order); row order predicted ${p.rowOrderCachedTokens} vs worker ${rowOrder.cached}`,
  );
  assert.ok(
    Math.abs(p.predictedCachedTokens - planned.cached) <= 0.1 * planned.cached,
    "planned order",
  );
  assert.ok(
    Math.abs(p.rowOrderCachedTokens - rowOrder.cached) <= 0.1 * Math.max(rowOrder.cached, 1),
    "row order",
  );
  assert.ok(p.predictedCachedTokens > p.rowOrderCachedTokens, "grouping beats row order");
});

test("a later turn's prompt shares its known part (text before the run-time value)", () => {
  const lf = halo.lazy(rows).agent(agent).agent({
    name: "check",
    prompt: "{{context}}\nQ: {{question}}\nA: {{answer}}\nSure?",
    output: "ok",
    model: "fake",
  });
  const { dag } = optimize(lower([lf.node]), only("groupSharedPrefixes"), testContext());
  const check = dag.nodes.find((n) => n.label === "check")!.physical!.prefix!;
  assert.is(check.exact, false);
  assert.match(explain(dag, { report: true }), /LlmCall check[^\n]*tok shared \(known part\)/);
  assert.ok(check.predictedCachedTokens > 0);
});

test("same rows on and off", async () => {
  const lf = () => halo.lazy(rows).agent(agent);
  const on = await lf().collectRows({ optimizations: only("groupSharedPrefixes"), reuse: false });
  const off = await lf().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.equal(on, off);
});

test.run();
