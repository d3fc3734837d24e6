// A collect's progress in a notebook: one output updated in place, ending at 100% even when a
// filter dropped rows, with the run's LLM tokens per second and cache hit rate (live from the
// Processor's events, and completed from the trace at the end).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setDisplayHost, type DisplayHost, type MimeBundle } from "../../src/display/host.ts";
import { halo } from "../../src/index.ts";
import {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
  SUMMARY_PROMPT,
} from "../helpers/trained-prompts.ts";

test("progress: tokens, cache hits and 100% after a filter", async () => {
  const shown: MimeBundle[] = [];
  const host: DisplayHost = { rich: true, display: (bundle) => void shown.push(bundle) };
  setDisplayHost(host);
  try {
    await halo
      .lazy(SAMPLE_REVIEWS.map((review) => ({ review })))
      .agent({
        prompt: SENTIMENT_PROMPT,
        choices: SENTIMENT_CHOICES,
        output: "sentiment",
      })
      .filter(halo.col("sentiment").eq("negative"))
      .agent({
        prompt: SUMMARY_PROMPT,
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

test("progress with a budget: spent against it, live and at the end", async () => {
  const shown: MimeBundle[] = [];
  setDisplayHost({ rich: true, display: (bundle) => void shown.push(bundle) });
  const lf = halo
    .lazy(SAMPLE_REVIEWS.map((review) => ({ review })))
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" });
  try {
    await lf.collectRows({
      reuse: false,
      calibrate: false,
      progress: true,
      budget: { tokens: 1_000_000, seconds: 600 },
    });
  } finally {
    setDisplayHost(undefined);
  }
  const run = halo.lastRun!;
  const spent = run.nodes.reduce(
    (a, n) => a + n.prefillTokens + n.cachedTokens + n.decodeTokens,
    0,
  );
  const last = shown.at(-1)!["text/plain"] as string;
  assert.match(
    last,
    new RegExp(
      `budget [\\d.]+ s of 600\\.0 s, ${spent.toLocaleString("en-US")} tokens of 1,000,000 tokens`,
    ),
    last,
  );
  assert.ok(
    shown.slice(0, -1).some((b) => /budget /.test(b["text/plain"] as string)),
    "shown while running too",
  );
  assert.match(
    shown.at(-1)!["text/html"] as string,
    /budget<\/span> [\d.]+ s of 600.0 s, [\d,]+ tokens of 1,000,000/,
  );
  assert.equal(run.budget?.limits, { tokens: 1_000_000, seconds: 600 });
  assert.is(run.budget?.spent.tokens, spent);
  assert.is(run.budget?.stopped, false);
});

test.run();
