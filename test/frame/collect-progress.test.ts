// A collect's progress in a notebook: one output updated in place, ending at 100% even when a
// filter dropped rows, with the run's LLM tokens per second and cache hit rate (live from the
// Processor's events, and completed from the trace at the end).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setDisplayHost, type DisplayHost, type MimeBundle } from "../../src/display/host.ts";
import { halo } from "../../src/index.ts";

const reviews = [
  "Great kettle, works perfectly. I love it.",
  "Terrible shoes, they broke after a week.",
  "The blender is okay. It does the job.",
  "Excellent book, I read it twice.",
  "The lamp arrived broken and support never answered.",
  "Nice toy, my kids play with it every day.",
];

test("progress: tokens, cache hits and 100% after a filter", async () => {
  const shown: MimeBundle[] = [];
  const host: DisplayHost = { rich: true, display: (bundle) => void shown.push(bundle) };
  setDisplayHost(host);
  try {
    await halo
      .lazy(reviews.map((review) => ({ review })))
      .agent({
        prompt:
          "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}",
        choices: ["positive", "negative", "neutral"],
        output: "sentiment",
      })
      .filter(halo.col("sentiment").eq("negative"))
      .agent({
        prompt: "Summarize the review in a few words.\nReview: {{review}}",
        maxTokens: 8,
        output: "summary",
      })
      .collectRows({ reuse: false, calibrate: false, progress: true });
  } finally {
    setDisplayHost(undefined);
  }
  const last = shown.at(-1)!["text/plain"] as string;
  assert.match(last, /\(100%\)/, last);
  assert.match(last, /done in/);
  assert.match(last, /[\d.]+k? tok\/s/, last);
  // The instruction is shared by all six prompts: some prompt tokens came from the cache.
  assert.match(last, /cache [1-9]\d*%/, last);
  const html = shown.at(-1)!["text/html"] as string;
  assert.not.match(html, /cache hits<\/[^>]+>\s*<[^>]+>–/, "cache hits shown as a figure");
});

test.run();
