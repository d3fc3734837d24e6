// The Processor shares equal requests exactly where the plan says so (dedupe-calls' `fanOut`),
// as the row-by-row executor does, and counts calls executed: llmCalls agree between the two.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { optimizations, type OptimizationFlags } from "../../src/plan/optimize.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";

const model = fakeModel("fake-dedupe");
halo.models.register("fake-dedupe", model);
// 40 rows, 4 distinct topics: 36 of the 40 per-row prompts repeat another row's.
const rows = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  topic: ["tea", "coffee", "juice", "water"][i % 4],
}));
const only = (...flags: (keyof OptimizationFlags)[]) => {
  const f = optimizations.none();
  for (const k of flags) f[k] = true;
  return f;
};
const agent = { name: "pitch", prompt: "Sell {{topic}}", output: "pitch", model: "fake-dedupe" };
type Executor = "processor" | "row-by-row";

async function run(
  executor: Executor,
  flags: OptimizationFlags,
  lf = halo.lazy(rows).agent(agent),
) {
  model.calls = 0;
  const out = await lf.collectRows({ executor, optimizations: flags, reuse: false });
  return { out, calls: model.calls, llmCalls: halo.lastRun!.llmCalls };
}

test("processor: 40 model calls with dedupe off, 4 with it on, outputs equal", async () => {
  const off = await run("processor", optimizations.none());
  assert.is(off.calls, 40);
  assert.is(off.llmCalls, 40);
  const on = await run("processor", only("dedupeCalls"));
  assert.is(on.calls, 4);
  assert.is(on.llmCalls, 4);
  assert.equal(on.out, off.out);
});

test("llmCalls equal between executors, dedupe on and off", async () => {
  for (const flags of [optimizations.none(), only("dedupeCalls")]) {
    const reference = await run("row-by-row", flags);
    const processor = await run("processor", flags);
    assert.is(processor.llmCalls, reference.llmCalls);
    assert.is(processor.calls, reference.calls);
    assert.equal(processor.out, reference.out);
  }
});

test("processor: a tool output feeding the prompt fans out at run time", async () => {
  const lf = () =>
    halo
      .lazy(rows)
      .tool((t: unknown) => String(t).toUpperCase(), { name: "up", inputs: ["topic"], output: "T" })
      .agent({ ...agent, prompt: "Sell {{T}}" });
  const on = await run("processor", only("dedupeCalls"), lf());
  assert.is(on.calls, 4);
  const off = await run("processor", optimizations.none(), lf());
  assert.is(off.calls, 40);
  assert.equal(on.out, off.out);
});

test("processor: volatile calls are never shared, even with dedupe on", async () => {
  const lf = halo.lazy(rows).agent({ ...agent, temperature: 0.8 });
  const on = await run("processor", only("dedupeCalls"), lf);
  assert.is(on.calls, 40);
  assert.is(on.llmCalls, 40);
});

test("processor: two agents with equal requests in one plan run separately without dedupe", async () => {
  // Two nodes rendering the same prompt: only dedupe-calls may merge them (row-by-row: 80).
  const lf = halo
    .lazy(rows)
    .agent(agent)
    .agent({ ...agent, name: "again", output: "again" });
  const reference = await run("row-by-row", optimizations.none(), lf);
  const processor = await run("processor", optimizations.none(), lf);
  assert.is(reference.calls, 80);
  assert.is(processor.calls, 80);
  assert.is(processor.llmCalls, 80);
});

test.run();
