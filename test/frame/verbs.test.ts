// Each verb builds the right node and rejects bad arguments at once, with a message that says
// what is wrong and what would work.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as dfd from "danfojs-node";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo, LazyFrame } from "../../src/index.ts";
import { fakeModel } from "./fixtures/fake-model.ts";

halo.models.register("fake", fakeModel());
const rows = [
  { id: 1, review: "great", stars: 5 },
  { id: 2, review: "bad", stars: 1 },
];
const src = halo.lazy(rows);
const node = (lf: LazyFrame) => lf.plan().nodes.at(-2)!;

test("halo.lazy accepts rows, danfo frames and LazyFrames; rejects others", () => {
  assert.equal(src.columns, ["id", "review", "stars"]);
  const df = new dfd.DataFrame(rows);
  assert.equal(halo.lazy(df).columns, ["id", "review", "stars"]);
  assert.is(halo.lazy(src), src);
  assert.throws(
    () => halo.lazy("rows" as never),
    /expected a danfo DataFrame, an apache-arrow Table or an array of row objects, got "rows"/,
  );
  assert.throws(() => halo.lazy([1, 2] as never), /row 0 is 1;/);
});

test("an undefined cell keeps its key, as null", async () => {
  const lf = halo.lazy([
    { id: 1, note: undefined },
    { id: 2, note: "x" },
  ]);
  assert.equal(lf.columns, ["id", "note"]);
  const { rows } = await lf.collectRows();
  assert.equal(rows, [
    { id: 1, note: null },
    { id: 2, note: "x" },
  ]);
  // JSON (what `halo serve` answers) keeps the key too.
  assert.is(JSON.stringify(rows[0]), '{"id":1,"note":null}');
  const mapped = await lf.map((r) => ({ ...r, extra: undefined })).collectRows();
  assert.equal(mapped.rows[1], { id: 2, note: "x", extra: null });
});

test("df.agent() on a danfo DataFrame starts a plan", () => {
  const df = new dfd.DataFrame(rows);
  const lf = df.agent({ prompt: "{{review}}", output: "label", model: "fake" });
  assert.instance(lf, LazyFrame);
  assert.equal(lf.columns, ["id", "review", "stars", "label"]);
  assert.instance(df.lazy(), LazyFrame);
  // Declaration merging types the new methods (danfo's index signature would accept anything).
  // @ts-expect-error prompt must be a string
  assert.throws(() => df.agent({ prompt: 1, output: "x" }), /prompt must be a string/);
});

test("frames from dfd.readCSV get the plan verbs too (danfo builds them from its base class)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-csv-"));
  writeFileSync(join(dir, "r.csv"), "id,review\n1,great\n2,bad\n");
  const df = await dfd.readCSV(join(dir, "r.csv"));
  assert.not.ok(df instanceof dfd.DataFrame, "danfo changed: readCSV now returns dfd.DataFrame");
  const lf = df.agent({ prompt: "{{review}}", output: "out", model: "fake" });
  assert.ok(lf instanceof LazyFrame);
  assert.equal(lf.columns, ["id", "review", "out"]);
});

test(".agent builds an LlmCall with defaults and keeps options", () => {
  const n = node(
    src.agent({
      prompt: "Review: {{review}}",
      output: "label",
      choices: ["a", "b"],
      stop: "\n",
      system: "Be brief about {{id}}.",
      model: "fake",
    }),
  );
  assert.is(n.kind, "LlmCall");
  assert.is(n.label, "label");
  assert.equal(n.args, {
    prompt: "Review: {{review}}",
    output: "label",
    maxTokens: 64,
    modelKey: "fake",
    system: "Be brief about {{id}}.",
    choices: ["a", "b"],
    stop: ["\n"],
    model: "fake",
  });
  assert.is(n.volatility, "stable");
  assert.is(
    node(src.agent({ prompt: "x", output: "o", temperature: 0.7, model: "fake" })).volatility,
    "volatile",
  );
});

test(".agent rejects bad arguments", () => {
  assert.throws(
    () => src.agent({ prompt: "Review: {{revew}}", output: "label" }),
    /placeholder \{\{revew\}\} names no column of this frame; the columns are: id, review, stars/,
  );
  assert.throws(
    () => src.agent({ prompt: "x", system: "{{nope}}", output: "o" }),
    /system: placeholder \{\{nope\}\}/,
  );
  assert.throws(
    () => src.agent({ promt: "x", output: "o" } as never),
    /unknown option\(s\) promt; the options are name, prompt/,
  );
  assert.throws(() => src.agent({ prompt: "x" } as never), /missing required option\(s\) output/);
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", choices: [] }),
    /choices must be a non-empty array/,
  );
  assert.throws(() => src.agent({ prompt: "x", output: "o", choices: ["a", "a"] }), /duplicates/);
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", maxTokens: 0 }),
    /maxTokens must be an integer from 1/,
  );
  // The message shows the value given, not its type.
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", maxTokens: 3.5 }),
    /maxTokens must be an integer from 1 to 8192, got 3\.5$/,
  );
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", temperature: -1 }),
    /temperature must be a number from 0 to \d+, got -1$/,
  );
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", choices: { a: 1 } as never }),
    /choices must be a non-empty array of non-empty strings, got \{"a":1\}$/,
  );
  assert.throws(
    () => src.agent({ prompt: 7 as never, output: "o" }),
    /prompt must be a string, got 7$/,
  );
  assert.throws(() => src.agent({ prompt: "x", output: "_errors" }), /reserved for row errors/);
  assert.throws(
    () => src.agent({ prompt: "x", output: "o", model: "gpt-9" }),
    /model 'gpt-9' is neither a registered name \(shipped, fake\) nor a model folder/,
  );
  assert.throws(() => src.agent(null as never), /expected an options object/);
});

test(".tool builds an FnCall and checks its inputs", () => {
  const n = node(src.tool((r: string) => r.length, { inputs: "review", output: "n" }));
  assert.is(n.kind, "FnCall");
  assert.equal((n.args as { inputs: string[] }).inputs, ["review"]);
  assert.throws(
    () => src.tool("f" as never, { inputs: "review", output: "n" }),
    /fn must be a function/,
  );
  assert.throws(
    () => src.tool(() => 1, { inputs: ["nope"], output: "n" }),
    /no column\(s\) 'nope' in this frame; the columns are: id, review, stars/,
  );
  assert.throws(
    () => src.tool(() => 1, { inputs: [], output: "n" }),
    /inputs must be a non-empty array/,
  );
});

test(".map, .filter, .select and .join build their nodes", () => {
  const m = node(src.map((r) => ({ ...r, x: 1 }), { columns: ["id", "review", "stars", "x"] }));
  assert.is(m.kind, "Map");
  assert.equal(m.columns, ["id", "review", "stars", "x"]);
  assert.is(src.map((r) => r).columns, null, "undeclared map: schema unknown");
  const f = node(src.filter(halo.col("stars").gt(3)));
  assert.is(f.kind, "Filter");
  assert.equal((f.args as { predicate: { type: string } }).predicate.type, "expr");
  assert.is(
    (node(src.filter((r) => r.stars)).args as { predicate: { type: string } }).predicate.type,
    "fn",
  );
  assert.equal(node(src.select(["review"])).columns, ["review"]);
  const j = node(src.join([{ id: 1, review: "x", extra: true }], "id"));
  assert.is(j.kind, "Join");
  assert.equal(j.columns, ["id", "review", "stars", "review_right", "extra"]);
});

test("relational verbs reject bad arguments", () => {
  assert.throws(() => src.filter(halo.col("nope").eq(1)), /no column\(s\) 'nope'/);
  assert.throws(
    () => src.filter("stars > 3" as never),
    /expected a column expression such as halo.col\("label"\).eq\("negative"\) or a function/,
  );
  assert.throws(() => src.select(["id", "nope"]), /no column\(s\) 'nope'/);
  assert.throws(() => src.select([]), /columns must be a non-empty array/);
  assert.throws(() => src.map(5 as never), /fn must be a function/);
  assert.throws(() => src.join(rows, "nope"), /left side: no column\(s\) 'nope'/);
  assert.throws(
    () => src.join(rows, "id", { how: "outer" as never }),
    /how must be "inner" or "left"/,
  );
  assert.throws(() => src.join(42, "id"), /expected a danfo DataFrame.*, got 42$/);
  assert.throws(
    () => src.filter(halo.col("stars").gt(undefined as never)),
    /a string, number, boolean or null, got undefined$/,
  );
});

test("after an undeclared map, placeholders are checked when the plan runs", async () => {
  const lf = src
    .map((r) => ({ id: r.id }))
    .agent({ prompt: "{{review}}", output: "o", model: "fake" });
  await lf.collectRows().then(
    () => assert.unreachable(),
    (err: Error) =>
      assert.match(
        err.message,
        /failed at node 'o' \(LlmCall #\d+, column 'review'\): template placeholder \{\{review\}\} names no column of this row \(columns: id\)/,
      ),
  );
});

test("collect options are checked", async () => {
  await src.collectRows({ onError: "ignore" as never }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /onError must be "raise" or "null"/),
  );
  await src.collectRows({ optimizations: { dedupe: true } as never }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /unknown pass 'dedupe'; passes are dedupeCalls/),
  );
  await src.collectRows({ executor: "warp" as never }).then(
    () => assert.unreachable(),
    (e: Error) =>
      assert.match(e.message, /executor must be "processor" or "row-by-row", got "warp"/),
  );
  await src.collectRows({ processor: { kv: { budgetBytes: -1 } } }).then(
    () => assert.unreachable(),
    (e: Error) =>
      assert.match(
        e.message,
        /collect\(\{ processor \}\)\.kv\.budgetBytes: expected a number of bytes >= 0, got -1/,
      ),
  );
  await src.collectRows({ processor: { kv: { budget: 1 } } as never }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /unknown setting 'budget'; the settings are budgetBytes/),
  );
});

test.run();
