// collect() semantics on the default executor (the Processor), with a counting stand-in model (the shipped
// model's end-to-end test is agent-e2e.test.ts): results per verb, errors, sharing, reuse.
// test/executor/row-by-row-collect.test.ts runs this file again on the row-by-row executor
// (HALO_TEST_EXECUTOR), which every collect here then names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as dfd from "danfojs-node";
import { halo, type CollectOptions } from "../../src/index.ts";
import { setSignalProvider } from "../../src/cancel.ts";
import { fakeModel } from "./fixtures/fake-model.ts";

/** The executor every collect below names (the default when the variable is unset). */
const executor = process.env.HALO_TEST_EXECUTOR as "row-by-row" | undefined;
const on = (options: CollectOptions = {}): CollectOptions => ({
  ...options,
  ...(executor && { executor }),
});

const model = fakeModel("counting");
halo.models.register("m", model);
const reviews = () => [
  { id: 1, review: "great kettle", stars: 5 },
  { id: 2, review: "broke in a day", stars: 1 },
  { id: 3, review: "fine", stars: 3 },
];
const label = {
  prompt: "Review: {{review}}",
  choices: ["positive", "negative"],
  output: "label",
  model: "m",
};

test.before.each(() => {
  halo.clearCache();
  model.calls = 0;
  model.prompts = [];
  model.failOn = undefined;
});

test("agent: one call per row, prompt rendered in the chat messages, a danfo frame out", async () => {
  const df = await halo
    .lazy(reviews())
    .agent({ ...label, system: "Stars: {{stars}}" })
    .collect(on());
  assert.instance(df, dfd.DataFrame);
  assert.equal(df.columns, ["id", "review", "stars", "label"]);
  assert.is(model.calls, 3);
  // Call order is the optimizer's (a gathered node runs in its prefix order); the rendering is not.
  assert.equal(
    [...model.prompts].sort(),
    [
      "<system>Stars: 1<user>Review: broke in a day",
      "<system>Stars: 3<user>Review: fine",
      "<system>Stars: 5<user>Review: great kettle",
    ].sort(),
  );
  const labels = df["label"].values as string[];
  assert.ok(labels.every((l) => l === "positive" || l === "negative"));
});

test("tool (sync and async), map, filter (expression and closure), select", async () => {
  const { columns, rows } = await halo
    .lazy(reviews())
    .tool((r: string) => r.length, { inputs: "review", output: "chars" })
    .tool(async (id: number, stars: number) => id * 10 + stars, {
      inputs: ["id", "stars"],
      output: "code",
    })
    .map((r) => ({ ...r, loud: String(r.review).toUpperCase() }), {
      columns: ["id", "review", "stars", "chars", "code", "loud"],
    })
    .filter(halo.col("stars").ge(3))
    .filter((r) => (r.chars as number) > 4)
    .select(["id", "loud", "code"])
    .collectRows(on());
  assert.equal(columns, ["id", "loud", "code"]);
  assert.equal(rows, [{ id: 1, loud: "GREAT KETTLE", code: 15 }]);
});

test("join: inner and left, clashing names suffixed, null keys never match", async () => {
  const products = [
    { id: 1, review: "(product text)", name: "Kettle" },
    { id: 2, review: "(product text)", name: "Toaster" },
    { id: null, review: "", name: "Ghost" },
  ];
  const inner = await halo.lazy(reviews()).join(products, "id").collectRows(on());
  assert.equal(inner.columns, ["id", "review", "stars", "review_right", "name"]);
  assert.equal(
    inner.rows.map((r) => [r.id, r.name]),
    [
      [1, "Kettle"],
      [2, "Toaster"],
    ],
  );
  const left = await halo
    .lazy(reviews())
    .join(halo.lazy(products), ["id"], { how: "left", suffix: "_p" })
    .collectRows(on());
  assert.equal(
    left.rows.map((r) => [r.id, r.name, r.review_p]),
    [
      [1, "Kettle", "(product text)"],
      [2, "Toaster", "(product text)"],
      [3, null, null],
    ],
  );
});

test('onError "null": failed rows get null outputs and the error; nothing else is lost', async () => {
  model.failOn = (p) => p.includes("broke");
  const lf = halo
    .lazy(reviews())
    .agent(label)
    .tool((l: string) => `${l}!`, { inputs: "label", output: "shout" });
  await lf.collectRows(on()).then(
    () => assert.unreachable(),
    (e: Error) =>
      assert.match(
        e.message,
        /^row 1 \(id: 2\) failed at node 'label' \(LlmCall #1, output column 'label'\): fake model refuses.*; ([12] of 3 rows had finished this node and were kept: a rerun computes only the rest|no call had finished yet, so nothing was kept)\n\(pass collect/,
      ),
  );
  const df = await lf.collect(on({ onError: "null" }));
  assert.equal(df.columns, ["id", "review", "stars", "label", "shout", "_errors"]);
  const rows = (await lf.collectRows(on({ onError: "null" }))).rows;
  assert.is(rows.length, 3);
  assert.is(rows[1]!.label, null);
  assert.is(rows[1]!.shout, null, "downstream of a failed row: null, not called");
  assert.match(String(rows[1]!._errors), /^label: fake model refuses/);
  assert.is(rows[0]!._errors, null);
  assert.ok(typeof rows[0]!.shout === "string");
});

test("collectAll: one plan, shared work runs once, frames resolve in order", async () => {
  const base = halo.lazy(reviews()).agent(label);
  const negatives = base.filter(halo.col("label").eq("negative"));
  const replies = halo
    .lazy(reviews())
    .agent(label)
    .agent({ prompt: "Reply to: {{review}}", output: "reply", model: "m", maxTokens: 40 });
  const [a, b] = await halo.collectAll([negatives, replies], on());
  assert.is(model.calls, 3 + 3, "the shared classification ran once for both frames");
  assert.ok(a!.shape[0]! <= 3);
  assert.equal(b!.columns, ["id", "review", "stars", "label", "reply"]);
  assert.is((b!["reply"].values as string[])[2], "echo:Reply to: fine");
  assert.equal(halo.lastRun!.rowsOut, [a!.shape[0], 3]);
});

test("results are reused by later collects; changing the source data invalidates them", async () => {
  const df = new dfd.DataFrame(reviews());
  const lf = df.agent(label);
  const first = await lf.collectRows(on());
  assert.is(model.calls, 3);
  // A later "cell" builds the same plan again and extends it: the agent is not re-run.
  const again = await df
    .agent({ ...label })
    .select(["id", "label"])
    .collectRows(on());
  assert.is(model.calls, 3);
  assert.equal(halo.lastRun!.reusedNodeIds, [1]);
  assert.equal(
    again.rows.map((r) => r.label),
    first.rows.map((r) => r.label),
  );
  // Edit the source in place: every signature downstream changes, so no table is reused; the
  // two rows whose prompt is unchanged are answered by their kept calls, one call is made.
  df.addColumn("review", ["great kettle", "works now", "fine"], { inplace: true });
  await lf.collectRows(on());
  assert.is(model.calls, 4);
  assert.equal(halo.lastRun!.reusedNodeIds, []);
  assert.equal(halo.lastRun!.callsFromStore, { session: 2, disk: 0 });
  assert.is(halo.lastRun!.callsKept, 1);
  // reuse: false forces a fresh run.
  await lf.collectRows(on({ reuse: false }));
  assert.is(model.calls, 7);
});

test("sampling without a seed is never reused; with a seed it is", async () => {
  const hot = halo
    .lazy(reviews())
    .agent({ prompt: "{{review}}", output: "o", temperature: 0.9, model: "m" });
  await hot.collectRows(on());
  await hot.collectRows(on());
  assert.is(model.calls, 6);
  const seeded = halo
    .lazy(reviews())
    .agent({ prompt: "{{review}}", output: "o", temperature: 0.9, seed: 3, model: "m" });
  await seeded.collectRows(on());
  await seeded.collectRows(on());
  assert.is(model.calls, 9);
});

test("an abort stops the run; the kernel's signal is used when none is given", async () => {
  const controller = new AbortController();
  const slow = halo.lazy(reviews()).tool(
    async (id: number) => {
      if (id === 1) controller.abort();
      return id;
    },
    { inputs: "id", output: "x" },
  );
  await slow.collectRows(on({ signal: controller.signal })).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.name, "AbortError"),
  );
  const cell = new AbortController();
  setSignalProvider(() => cell.signal);
  try {
    cell.abort();
    await halo
      .lazy(reviews())
      .agent(label)
      .collectRows(on())
      .then(
        () => assert.unreachable(),
        (e: Error) => assert.is(e.name, "AbortError"),
      );
    assert.is(model.calls, 0);
  } finally {
    setSignalProvider(undefined);
  }
});

// The default executor (the Processor) and row-by-row report the same counts.
for (const executor of [undefined, "row-by-row"] as const) {
  test(`lastRun records per-node stats, tasks and progress (${executor ?? "default"})`, async () => {
    const events: string[] = [];
    await halo
      .lazy(reviews())
      .agent(label)
      .tool((s: number) => s + 1, { inputs: "stars", output: "s1" })
      .collectRows({
        ...(executor && { executor }),
        onProgress: (e) => events.push(`${e.nodeId}:${e.done}/${e.total}`),
      });
    const run = halo.lastRun!;
    assert.is(run.executor, executor ?? "processor");
    assert.is(run.llmCalls, 3);
    assert.is(run.toolCalls, 3);
    assert.equal(
      run.nodes.map((n) => [n.nodeId, n.kind, n.rows, n.calls]),
      [
        [0, "Source", 3, 0],
        [1, "LlmCall", 3, 3],
        [2, "FnCall", 3, 3],
        [3, "Sink", 3, 0],
      ],
    );
    assert.ok(run.nodes[1]!.prefillTokens > 0 && run.nodes[1]!.decodeTokens > 0);
    // Three requests on the model lane: three tasks row by row, one batch of 3 on the Processor.
    const llmTasks = run.tasks.filter((t) => t.lane === "llm:0");
    assert.is(
      llmTasks.reduce((n, t) => n + t.batchSize, 0),
      3,
    );
    assert.ok(run.tasks.every((t) => t.endMs >= t.startMs));
    assert.ok(events.includes("1:3/3") && events.includes("2:3/3"));
    assert.match(run.plan!, /LlmCall label/);
    assert.match(run.summary(), /#1 LlmCall label: rows=3 calls=3/);
  });
}

test.run();
