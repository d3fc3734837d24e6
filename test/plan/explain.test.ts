// Golden text: explain() is a product surface. A change here is a change users see; update the
// expected text deliberately.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower, planGraph } from "../../src/index.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";

halo.models.register("fake", fakeModel());
const reviews = [
  { id: 1, sku: "A1", stars: 5, review: "Works great" },
  { id: 2, sku: "B2", stars: 1, review: "Broke after a day" },
];
const classify = {
  name: "classify",
  prompt: "Review: {{review}}",
  choices: ["positive", "negative"],
  output: "label",
  model: "fake",
};

test("one frame: filter, agent with a system message, select", () => {
  const lf = halo
    .lazy(reviews)
    .filter(halo.col("stars").le(2))
    .agent({
      ...classify,
      system: "You label reviews.",
      prompt: "Review: {{review}}\nSentiment:",
      maxTokens: 4,
    })
    .select(["id", "label"]);
  assert.fixture(
    lf.explain(),
    `plan: 5 nodes, 1 frame
#0 Source            rows: 2 rows x 4 columns [id, sku, stars, review]
#1 Filter filter     col("stars") <= 2  <- #0
#2 LlmCall classify  label = llm("Review: {{review}} Sentiment:") system="You label reviews." choices=[positive, negative] maxTokens=4 model=fake  <- #1
#3 Map select        select [id, label]  <- #2
#4 Sink              frame 0  <- #3`,
  );
});

test("two frames sharing a step: merged once, shown once in the tree", () => {
  const neg = halo.lazy(reviews).agent(classify).filter(halo.col("label").eq("negative"));
  const reply = halo.lazy(reviews).agent(classify).agent({
    name: "reply",
    prompt: "Write a reply to: {{review}}",
    output: "reply",
    model: "fake",
  });
  const dag = lower([neg.node, reply.node]);
  assert.fixture(
    explain(dag),
    `plan: 7 nodes, 2 frames
#0 Source            rows: 2 rows x 4 columns [id, sku, stars, review]  [merged x2]
#1 LlmCall classify  label = llm("Review: {{review}}") choices=[positive, negative] maxTokens=64 model=fake  <- #0  [merged x2]
#2 Filter filter     col("label") == "negative"  <- #1
#3 Sink              frame 0  <- #2
#4 LlmCall reply     reply = llm("Write a reply to: {{review}}") maxTokens=64 model=fake  <- #1
#5 Sink              frame 1  <- #4
#6 SinkMultiple      2 frames  <- #3, #5`,
  );
  assert.fixture(
    explain(dag, { format: "tree" }),
    `plan: 7 nodes, 2 frames
#6 SinkMultiple: 2 frames
├─ #3 Sink: frame 0
│  └─ #2 Filter filter: col("label") == "negative"
│     └─ #1 LlmCall classify: label = llm("Review: {{review}}") choices=[positive, negative] maxTokens=64 model=fake  [merged x2]
│        └─ #0 Source: rows: 2 rows x 4 columns [id, sku, stars, review]  [merged x2]
└─ #5 Sink: frame 1
   └─ #4 LlmCall reply: reply = llm("Write a reply to: {{review}}") maxTokens=64 model=fake
      └─ #1 (shown above)`,
  );
  const graph = planGraph(dag);
  assert.equal(
    graph.nodes.map((n) => [n.id, n.kind, n.label, n.merged]),
    [
      [0, "Source", "Source", 2],
      [1, "LlmCall", "classify", 2],
      [2, "Filter", "filter", 1],
      [3, "Sink", "frame 0", 1],
      [4, "LlmCall", "reply", 1],
      [5, "Sink", "frame 1", 1],
      [6, "SinkMultiple", "all frames", 1],
    ],
  );
  assert.equal(graph.edges, [
    { from: 0, to: 1 },
    { from: 1, to: 2 },
    { from: 2, to: 3 },
    { from: 1, to: 4 },
    { from: 4, to: 5 },
    { from: 3, to: 6 },
    { from: 5, to: 6 },
  ]);
});

test("join, SQL and HTTP nodes", () => {
  const lf = halo
    .lazy(reviews)
    .join([{ sku: "A1", name: "Kettle" }], "sku", { how: "left" })
    .sql({
      name: "price",
      query: "select price from prices where sku = $sku",
      params: { sku: "{{sku}}" },
      output: "price",
      shape: "value",
    })
    .http({
      url: "http://127.0.0.1:9/stock?name={{name}}",
      output: "stock",
      timeoutMs: 500,
      retries: 1,
    });
  assert.fixture(
    lf.explain(),
    `plan: 6 nodes, 1 frame
#0 Source          rows: 2 rows x 4 columns [id, sku, stars, review]
#1 Source          rows: 1 row x 2 columns [sku, name]
#2 Join join sku   left on [sku]  <- #0, #1
#3 SqlCall price   price = sql("select price from prices where sku = $sku") params $sku="{{sku}}" shape=value db=duckdb:default read-only  <- #2
#4 HttpCall stock  stock = http(GET "http://127.0.0.1:9/stock?name={{name}}") timeout=500ms retries=1  <- #3
#5 Sink            frame 0  <- #4`,
  );
});

test("a LazyFrame displays as its explain text and drawing; measured stats can be shown", async () => {
  const lf = halo.lazy(reviews).select("id");
  const bundle = await (lf as unknown as Record<symbol, () => Promise<Record<string, unknown>>>)[
    Symbol.for("Jupyter.display")
  ]!();
  assert.is(bundle["text/plain"], lf.explain());
  assert.match(String(bundle["image/svg+xml"]), /^<svg[\s\S]*Source[\s\S]*<\/svg>\s*$/);
  const text = explain(lf.plan(), {
    stats: [
      {
        nodeId: 1,
        label: "select",
        kind: "Map",
        rows: 2,
        calls: 0,
        measuredMs: 1.25,
        prefillTokens: 0,
        cachedTokens: 0,
        decodeTokens: 0,
      },
    ],
  });
  assert.match(text, /#1 Map select  select \[id\]  <- #0  \[rows=2 calls=0 1.3ms\]/);
});

test.run();
