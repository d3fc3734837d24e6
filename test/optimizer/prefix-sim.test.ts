// The optimizer's cache-hit prediction (group-shared-prefixes through prefix-sim.ts) against the
// prompt tokens the Processor's LLM worker actually found cached, on the shipped model, with the
// real tokenizer, prefix cache and onnxruntime (issue 6: within 10%). The batch limit is pinned
// in the Processor's settings, which the simulator reads too, because the default BatchSizer
// moves its limit with measured step times (its probes), which no plan can know.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo, type ProcessorSettings } from "../../src/index.ts";
import { shippedModelPresent } from "../frame/fixtures/shipped-model.ts";

const present = shippedModelPresent();
const batch = { initial: 16, min: 16, max: 16 };
halo.processor.configure({ batch });

const CSV = fileURLToPath(new URL("../../notebooks/data/reviews.csv", import.meta.url));
// The review is the last column and holds no commas in the generated data.
const rows = readFileSync(CSV, "utf8")
  .trim()
  .split("\n")
  .slice(1, 65)
  .map((line, id) => ({ id, review: line.split(",").slice(7).join(",") }));

const sentiment = {
  name: "sentiment",
  prompt:
    "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}",
  choices: ["positive", "negative", "neutral"],
  output: "sentiment",
};
const summary = {
  name: "summary",
  prompt: "Summarize the review in a few words.\nReview: {{review}}",
  output: "summary",
  maxTokens: 24,
};

/** Collects with a cold prefix cache; predicted vs actual cached tokens per LLM node. */
async function predictedVsActual(
  shape: string,
  lf: ReturnType<typeof halo.lazy>,
  processor?: ProcessorSettings,
) {
  halo.processor.dropCaches();
  await lf.collectRows({ reuse: false, progress: false, processor });
  const nodes = halo.lastRun!.nodes.filter((n) => n.kind === "LlmCall");
  console.log(); // uvu's progress dot ends no line; the runner reads lines starting "measure:"
  for (const n of nodes) {
    const predicted = n.predictedCacheHits!;
    const error = Math.abs(predicted - n.cachedTokens) / n.cachedTokens;
    console.log(
      `measure: ${shape}: node ${n.label}: predicted ${predicted} cached prompt tokens, worker got ${n.cachedTokens} (of ${n.cachedTokens + n.prefillTokens}), error ${(error * 100).toFixed(1)}%`,
    );
    assert.ok(predicted !== undefined, `node ${n.label} carries its prediction`);
    assert.ok(n.cachedTokens > 0, `node ${n.label} hit the cache`);
    assert.ok(error <= 0.1, `node ${n.label}: ${predicted} predicted vs ${n.cachedTokens}`);
  }
  return nodes;
}

test("a gathered node of 64 rows sharing an instruction: predicted hits within 10%", async () => {
  if (!present) return;
  const nodes = await predictedVsActual("gathered", halo.lazy(rows).agent(sentiment));
  assert.is(nodes.length, 1);
});

test("two agents per row, the second not reading the first: predicted hits within 10%", async () => {
  if (!present) return;
  // start-calls-early starts the summary beside the label: both reach the worker together.
  const nodes = await predictedVsActual(
    "side by side",
    halo.lazy(rows).agent(sentiment).agent(summary),
  );
  assert.is(nodes.length, 2);
  assert.match(halo.lastRun!.plan!, /start-calls-early: 1 call node\(s\) start before/);
});

test("a chain, the second agent extending the first one's prompt and answer: within 10%", async () => {
  if (!present) return;
  const check = {
    name: "check",
    prompt: `${sentiment.prompt}\nLabel: {{sentiment}}`,
    output: "check",
    maxTokens: 8,
  };
  const nodes = await predictedVsActual("chained", halo.lazy(rows).agent(sentiment).agent(check));
  assert.is(nodes.length, 2);
});

/**
 * The widest decode step the sentiment node had sequences in: each reserves its prompt and 64
 * answer tokens at 2,048 bytes per token (about 264,000 bytes), so a small budget binds it below
 * the pinned batch limit of 16.
 */
function widestSentimentStep(): number {
  const id = halo.lastRun!.nodes.find((n) => n.label === "sentiment")!.nodeId;
  const steps = halo.lastRun!.tasks.filter((t) => t.kind === "decode" && t.nodeIds.includes(id));
  return Math.max(...steps.map((t) => t.batchSize));
}

const chain = () =>
  halo
    .lazy(rows)
    .agent(sentiment)
    .agent({
      name: "check",
      prompt: `${sentiment.prompt}\nLabel: {{sentiment}}`,
      output: "check",
      maxTokens: 8,
    });

test("a KV budget the user set, for one sequence: the host tier's hits predicted within 10%", async () => {
  if (!present) return;
  // 400,000 bytes: one running sequence and about 66 tokens of cache beside it. Most hits come
  // from prefixes moved out to the host tier and back in (40 tokens hit with the tier off); the
  // simulator reads the same config, host tier included.
  halo.processor.configure({ kv: { budgetBytes: 400_000 } });
  try {
    await predictedVsActual("budget 400,000 B (configured)", chain());
    assert.is(widestSentimentStep(), 1, "one sequence at a time");
  } finally {
    halo.processor.reset();
    halo.processor.configure({ batch });
  }
});

test("a KV budget for a few sequences, set for one run: predicted hits within 10%", async () => {
  if (!present) return;
  await predictedVsActual("budget 2,500,000 B (this run)", chain(), {
    kv: { budgetBytes: 2_500_000 },
  });
  const widest = widestSentimentStep();
  assert.ok(widest > 1 && widest < batch.max, `decode steps of up to ${widest} sequences`);
});

test.run();
