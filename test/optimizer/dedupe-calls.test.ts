// dedupe-calls: equal nodes merge (across frames collected together), equal per-row requests run
// once and fan out; results are the same on and off; volatile calls are never shared.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower } from "../../src/index.ts";
import { optimize } from "../../src/optimizer/index.ts";
import { optimizations, type OptimizationFlags } from "../../src/plan/optimize.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { testContext } from "./helpers/context.ts";

const model = fakeModel();
halo.models.register("fake", model);
// 40 rows, 4 distinct topics: 36 of the 40 per-row prompts repeat another row's.
const rows = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  topic: ["tea", "coffee", "juice", "water"][i % 4],
  stars: i % 5,
}));
const only = (...flags: (keyof OptimizationFlags)[]) => {
  const f = optimizations.none();
  for (const k of flags) f[k] = true;
  return f;
};
const agent = { name: "pitch", prompt: "Sell {{topic}}", output: "pitch", model: "fake" };

test("instances with equal prompts are predicted and run once", async () => {
  const lf = () => halo.lazy(rows).agent(agent);
  const { dag } = optimize(lower([lf().node]), only("dedupeCalls"), testContext());
  const text = explain(dag, { report: true });
  assert.match(
    text,
    /dedupe-calls: 0 node\(s\) merged; 36 row call\(s\) merged over 1 call node\(s\)/,
  );
  assert.match(text, /LlmCall pitch[^\n]*calls 4\/40 rows/);
  model.calls = 0;
  const on = await lf().collectRows({ optimizations: only("dedupeCalls"), reuse: false });
  assert.is(model.calls, 4);
  model.calls = 0;
  const off = await lf().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.is(model.calls, 40);
  assert.equal(on, off);
  assert.is(halo.lastRun!.llmCalls, 40);
});

test("requests known only at run time still fan out (tool output feeding a prompt)", async () => {
  const lf = () =>
    halo
      .lazy(rows)
      .tool((t: unknown) => String(t).toUpperCase(), {
        name: "upper",
        inputs: ["topic"],
        output: "T",
      })
      .agent({ ...agent, prompt: "Sell {{T}}" });
  const { dag } = optimize(lower([lf().node]), only("dedupeCalls"), testContext());
  assert.match(explain(dag, { report: true }), /LlmCall pitch[^\n]*fan-out at run time/);
  model.calls = 0;
  const on = await lf().collectRows({ optimizations: only("dedupeCalls"), reuse: false });
  assert.is(model.calls, 4);
  const off = await lf().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.equal(on, off);
});

test("volatile calls (sampling without a seed) are never fanned out", () => {
  const lf = halo.lazy(rows).agent({ ...agent, temperature: 0.8 });
  const { dag } = optimize(lower([lf.node]), only("dedupeCalls"), testContext());
  assert.is(dag.nodes.find((n) => n.kind === "LlmCall")!.physical?.fanOut, undefined);
});

test("collectAll: subtrees that pushdown makes equal merge into one node", async () => {
  const base = halo.lazy(rows);
  // Frame a filters after the call, frame b before it: the same work once pushed down.
  const a = base.agent(agent).filter(halo.col("stars").eq(0));
  const b = base.filter(halo.col("stars").eq(0)).agent(agent).select(["id", "pitch"]);
  const dag = lower([a.node, b.node]);
  assert.is(dag.nodes.filter((n) => n.kind === "LlmCall").length, 2);
  const { dag: out } = optimize(dag, only("pushdownFilters", "dedupeCalls"), testContext());
  const llm = out.nodes.filter((n) => n.kind === "LlmCall");
  assert.is(llm.length, 1);
  assert.is(llm[0]!.merged, 2);
  assert.match(explain(out, { report: true }), /dedupe-calls: 2 node\(s\) merged/);
  model.calls = 0;
  const on = await halo.collectAll([a, b], {
    optimizations: only("pushdownFilters", "dedupeCalls"),
    reuse: false,
  });
  assert.is(model.calls, 4);
  const off = await halo.collectAll([a, b], { optimizations: optimizations.none(), reuse: false });
  assert.equal(
    on.map((d) => d.values),
    off.map((d) => d.values),
  );
});

test.run();
