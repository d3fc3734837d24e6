// pushdown-filters: expression filters on input columns move before calls; results unchanged.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower } from "../../src/index.ts";
import { optimize } from "../../src/optimizer/index.ts";
import { optimizations } from "../../src/plan/optimize.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { testContext } from "./helpers/context.ts";

const model = fakeModel();
halo.models.register("fake", model);
const rows = Array.from({ length: 30 }, (_, i) => ({ id: i, stars: (i * 7) % 5, review: `r${i}` }));
const only = (flag: keyof ReturnType<typeof optimizations.none>) => ({
  ...optimizations.none(),
  [flag]: true,
});

function frame() {
  return halo
    .lazy(rows)
    .agent({ name: "label", prompt: "Review: {{review}}", output: "label", model: "fake" })
    .tool((s: unknown) => String(s).length, { name: "len", inputs: ["label"], output: "n" })
    .filter(halo.col("stars").le(1));
}

test("a filter on an input column moves before the LLM and tool calls", () => {
  const dag = lower([frame().node]);
  const { dag: out } = optimize(dag, only("pushdownFilters"), testContext());
  const text = explain(out, { report: true });
  assert.match(
    text,
    /pushdown-filters: 1 filter\(s\) moved before 2 call node\(s\); 36 call\(s\) saved/,
  );
  assert.match(
    text,
    /#0 Source[^\n]*\n#1 Filter filter +col\("stars"\) <= 1  <- #0[^\n]*\n#2 LlmCall label[^\n]*<- #1[^\n]*\n#3 FnCall len[^\n]*<- #2/,
  );
  // The input plan is untouched (passes are pure).
  assert.is(dag.nodes[dag.root]!.inputs[0], 3);
  assert.is(dag.nodes[3]!.kind, "Filter");
});

test("same rows on and off; fewer model calls on", async () => {
  model.calls = 0;
  const on = await frame().collectRows({ optimizations: only("pushdownFilters"), reuse: false });
  const callsOn = model.calls;
  model.calls = 0;
  const off = await frame().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.equal(on, off);
  assert.is(on.rows.length, 12);
  assert.is(callsOn, 12);
  assert.is(model.calls, 30);
});

test("stays put: reads the call's output, is a closure, or the call has other readers", () => {
  const ctx = testContext();
  const reads = halo
    .lazy(rows)
    .agent({ prompt: "{{review}}", output: "label", model: "fake" })
    .filter(halo.col("label").eq("x"));
  const closure = halo
    .lazy(rows)
    .agent({ prompt: "{{review}}", output: "label", model: "fake" })
    .filter((r) => (r.stars as number) > 2);
  const shared = halo.lazy(rows).agent({ prompt: "{{review}}", output: "label", model: "fake" });
  const both = [shared.filter(halo.col("stars").eq(1)).node, shared.node];
  for (const nodes of [[reads.node], [closure.node], both]) {
    const dag = lower(nodes);
    const { dag: out } = optimize(dag, only("pushdownFilters"), ctx);
    assert.equal(
      out.nodes.map((n) => [n.kind, n.inputs]),
      dag.nodes.map((n) => [n.kind, n.inputs]),
    );
  }
});

test("moves before a SQL call on real DuckDB; same rows", async () => {
  await halo.db.register(
    "prices",
    Array.from({ length: 5 }, (_, i) => ({ stars: i, price: i * 10 })),
  );
  const lf = () =>
    halo
      .lazy(rows)
      .sql({
        name: "price",
        query: "select price from prices where stars = $s",
        params: { s: "{{stars}}" },
        output: "price",
        shape: "value",
      })
      .filter(halo.col("stars").ge(3));
  const text = lf().explain({ optimized: true });
  assert.match(text, /#1 Filter[^\n]*\n#2 SqlCall price[^\n]*<- #1/);
  const on = await lf().collectRows({ optimizations: only("pushdownFilters"), reuse: false });
  const off = await lf().collectRows({ optimizations: optimizations.none(), reuse: false });
  assert.equal(on, off);
  assert.ok(on.rows.every((r) => r.price === (r.stars as number) * 10));
});

test.run();
