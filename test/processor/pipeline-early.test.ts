// start-calls-early: which calls the pass lets start before their input row, and the Processor
// starting them from the earlier row with the same results as running the chain in order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { models } from "../../src/frame/models.ts";
import { halo, lower } from "../../src/index.ts";
import { optimize } from "../../src/optimizer/index.ts";
import { optimizations } from "../../src/plan/optimize.ts";
import type { PlanDag } from "../../src/plan/types.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { testContext } from "../optimizer/helpers/context.ts";
import { startHttpFixture, type HttpFixture } from "./helpers/http-fixture.ts";

models.register("fake", fakeModel());

let server: HttpFixture;
test.before(async () => {
  server = await startHttpFixture();
});
test.after(async () => {
  await server.close();
});

const rows = Array.from({ length: 12 }, (_, i) => ({ id: i, text: `row ${i} says hello` }));
const agent = { prompt: "Echo: {{text}}", output: "o", model: "fake", maxTokens: 8 };

function earlyOf(frame: LazyFrame, provider?: string): Map<string, unknown> {
  const only = optimizations.none();
  only.startCallsEarly = true;
  const dag: PlanDag = optimize(
    lower([frame.node]),
    only,
    testContext(provider ? { provider } : {}),
  ).dag;
  return new Map(dag.nodes.map((n) => [n.label, n.physical?.early]));
}

test("plan: a call starts from the rows that hold what it reads", () => {
  const frame = LazyFrame.from(rows)
    .agent(agent)
    .http({ url: "http://127.0.0.1:9/x?id={{id}}", output: "extra" })
    .tool((id: number) => id * 2, { inputs: ["id"], output: "twice" })
    .agent({ ...agent, prompt: "Both: {{o}} {{extra}}", output: "both" });
  const cpu = earlyOf(frame);
  // The HTTP call reads only the source's `id`: it starts from the source (node 0).
  assert.equal(cpu.get("extra"), { base: 0, deps: [] });
  // On a CPU provider the function keeps its place (it would share the cores with the model).
  assert.is(cpu.get("twice"), undefined);
  // The last agent reads o and extra: it waits for those two, not for the function.
  assert.equal(cpu.get("both"), { base: 0, deps: [1, 2] });
  const gpu = earlyOf(frame, "cuda");
  assert.equal(gpu.get("twice"), { base: 0, deps: [] });
});

test("plan: nothing to gain, a filter in between, or a volatile call: no early start", () => {
  const chain = LazyFrame.from(rows)
    .agent(agent)
    .agent({ ...agent, prompt: "Again: {{o}}", output: "p" })
    .http({ url: "http://127.0.0.1:9/x?q={{p}}", output: "extra" });
  assert.ok(
    [...earlyOf(chain).values()].every((e) => e === undefined),
    "a pure chain",
  );
  const filtered = LazyFrame.from(rows)
    .agent(agent)
    .filter(halo.col("id").gt(3))
    .http({ url: "http://127.0.0.1:9/x?id={{id}}", output: "extra" });
  assert.is(earlyOf(filtered).get("extra"), undefined, "the filter may drop the row");
  const post = LazyFrame.from(rows)
    .agent(agent)
    .http({ url: "http://127.0.0.1:9/x?id={{id}}", method: "POST", output: "extra" });
  assert.is(earlyOf(post).get("extra"), undefined, "a POST is volatile");
});

test("run: HTTP calls start while the node before them is still running", async () => {
  // The function waits until the server has seen every row's request of the HTTP node after it
  // (or gives up after 10 s). In chain order those requests come only after it returns.
  const marker = `early-${Date.now()}`;
  const seen = () =>
    [...server.hits.keys()].filter((url) => url.includes(marker)).length >= rows.length;
  const waitForRequests = async () => {
    const deadline = Date.now() + 10_000;
    while (!seen() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return seen();
  };
  const frame = LazyFrame.from(rows)
    .tool(waitForRequests, { inputs: ["id"], output: "all_requested" })
    .http({ url: `${server.base}/slow?ms=1&id={{id}}&m=${marker}`, output: "stock" });
  const got = await frame.collectRows({ executor: "processor", reuse: false });
  assert.ok(
    got.rows.every((r) => r.all_requested === true),
    "the HTTP calls ran before the function returned",
  );
  assert.equal(
    got.rows.map((r) => (r.stock as { id: string }).id),
    rows.map((r) => String(r.id)),
  );
});

test("run: the same rows and _errors as row-by-row when a call in between fails", async () => {
  const frame = LazyFrame.from(rows)
    .agent(agent)
    .tool(
      (id: number) => {
        if (id % 4 === 1) throw new Error(`no answer for ${id}`);
        return `t${id}`;
      },
      { inputs: ["id"], output: "t" },
    )
    .http({ url: `${server.base}/slow?ms=1&id={{id}}`, output: "stock" })
    .agent({ ...agent, prompt: "Both: {{o}} {{stock}}", output: "both" })
    .agent({ ...agent, prompt: "Text: {{text}}", output: "again" });
  const want = await frame.collectRows({ executor: "row-by-row", onError: "null", reuse: false });
  const got = await frame.collectRows({ executor: "processor", onError: "null", reuse: false });
  assert.equal(got, want);
  assert.is(got.rows.filter((r) => r.stock === null).length, 3);
  assert.ok(got.rows.every((r) => (r.again === null) === (r.stock === null)));
});

test.run();
