// The Processor's executor on the shipped model: same tables as the row-by-row executor with the
// continuous-batching worker and prefix cache on and off, and a multi-step agent per row.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { models } from "../../src/frame/models.ts";
import { session } from "../../src/frame/session.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";

models.register("tiny", process.env.HALO_MODEL_DIR ?? shippedModelDir());

const reviews = [
  "The sound is fine, nothing special. The sound is as described.",
  "Awful laptop, the material fell apart. Worst laptop I have ever bought.",
  "Great kettle, works perfectly. I love it.",
  "The blender is okay. It does the job.",
  "Terrible shoes, they broke after a week.",
  "Excellent book, I read it twice.",
  "The lamp arrived broken and support never answered.",
  "Nice toy, my kids play with it every day.",
];
const rows = reviews.flatMap((review, i) => [
  { id: i, review },
  { id: i + 100, review }, // duplicates: one answer shared in-run
]);

function workflow() {
  return LazyFrame.from(rows)
    .agent({
      prompt: SENTIMENT_PROMPT,
      output: "sentiment",
      choices: SENTIMENT_CHOICES,
      model: "tiny",
    })
    .agent({
      prompt: SUMMARY_PROMPT,
      output: "summary",
      maxTokens: 16,
      model: "tiny",
    });
}

test("identical tables: row-by-row, processor, processor without cache, without worker", async () => {
  const frame = workflow();
  const t0 = performance.now();
  const want = await frame.collectRows({ executor: "row-by-row", reuse: false });
  console.log(
    `measure: row-by-row: ${rows.length} rows x 2 agents in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  const variants = {
    processor: {},
    "processor-no-cache": { kv: { prefixCache: false } },
    "processor-generate": { llm: { continuousBatching: false } },
  };
  for (const [executor, processor] of Object.entries(variants)) {
    const t0 = performance.now();
    const got = await frame.collectRows({ processor, reuse: false });
    const ms = performance.now() - t0;
    assert.equal(got, want, executor);
    const tasks = session.lastRun!.tasks;
    const prefill = tasks.reduce((n, t) => n + (t.prefillTokens ?? 0), 0);
    const cached = tasks.reduce((n, t) => n + (t.cachedTokens ?? 0), 0);
    console.log(
      `measure: ${executor}: ${rows.length} rows x 2 agents in ${ms.toFixed(0)} ms, prefilled ${prefill}, cached ${cached}`,
    );
    if (executor === "processor") assert.ok(cached > 0, "shared instruction prefixes were reused");
  }
  console.log(`measure: e.g. ${JSON.stringify(want.rows[0])}`);
});

test.run();
