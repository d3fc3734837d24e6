// A 2,000-row frame through a 3-node agent plan on the shipped model, row by row: it completes,
// every answer is valid, and memory stays bounded (peak RSS printed as a measure line).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const ROWS = 2000;
const ASPECTS = ["price", "quality", "size", "color", "delivery", "design", "battery", "sound"];
const ITEMS = ["kettle", "jacket", "lamp", "blender", "speaker", "novel", "puzzle", "rake"];
const TONES = [
  "The {a} is excellent. I love it.",
  "The {a} is terrible. I want a refund.",
  "The {a} is fine, nothing special.",
];

function makeRows(): { id: number; product: string; review: string }[] {
  return Array.from({ length: ROWS }, (_, id) => {
    const item = ITEMS[id % ITEMS.length]!;
    const aspect = ASPECTS[Math.floor(id / 8) % ASPECTS.length]!;
    const tone = TONES[Math.floor(id / 64) % TONES.length]!;
    return {
      id,
      product: `${["Acme", "Nova", "Zed"][id % 3]} ${item}`,
      review: `${tone.replace("{a}", aspect)} The ${item} arrived on day ${id}.`,
    };
  });
}

test("2,000 rows x 3 agent nodes complete with bounded memory", async () => {
  if (!present) return;
  const sentiment = ["positive", "negative", "neutral"];
  const categories = [
    "electronics",
    "kitchen",
    "clothing",
    "books",
    "toys",
    "sports",
    "garden",
    "beauty",
  ];
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const { rows } = await halo
    .lazy(makeRows())
    .agent({
      name: "sentiment",
      prompt:
        "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}",
      choices: sentiment,
      output: "sentiment",
    })
    .agent({
      name: "category",
      prompt:
        "Which category does this product belong to? Answer with one of: electronics, kitchen, clothing, books, toys, sports, garden, beauty.\nProduct: {{product}}",
      choices: categories,
      output: "category",
    })
    .agent({
      name: "summary",
      prompt: "Summarize the review in a few words.\nReview: {{review}}",
      maxTokens: 12,
      output: "summary",
    })
    .collectRows({ reuse: false });
  const seconds = (performance.now() - started) / 1000;
  assert.is(rows.length, ROWS);
  assert.ok(
    rows.every(
      (r) =>
        sentiment.includes(r.sentiment as string) &&
        categories.includes(r.category as string) &&
        typeof r.summary === "string",
    ),
  );
  const run = halo.lastRun!;
  // dedupe-calls runs each distinct rendered prompt once: two nodes read `review`, one `product`.
  const distinct = (col: string) => new Set(rows.map((r) => r[col])).size;
  assert.is(run.llmCalls, 2 * distinct("review") + distinct("product"));
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  const decode = run.nodes.reduce((a, n) => a + n.decodeTokens, 0);
  console.log(
    `measure: ${ROWS} rows x 3 agent nodes row by row: ${seconds.toFixed(1)} s, ${((3 * ROWS) / seconds).toFixed(0)} requested calls/s, ${run.llmCalls} calls executed, ${decode} decode tokens`,
  );
  console.log(
    `measure: peak RSS ${peakMiB.toFixed(0)} MiB (RSS before the run ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
  );
  // Bounded: the rows are a few MB; the model 4 MB; 1 GiB would mean something is kept per call.
  assert.ok(peakMiB < 1024, `peak RSS ${peakMiB.toFixed(0)} MiB`);
});

test.run();
