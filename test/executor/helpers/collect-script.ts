// A Node process that runs one collect on the shipped model, for the result-cache restart test
// (test/executor/result-cache-restart.test.ts): `N EXECUTOR`. While it runs it prints
// `done K` as rows finish the agent (their calls are on disk by then); at the end one JSON line:
// the LLM calls it made, the calls answered from the stores, and the rows.
import { halo } from "../../../src/index.ts";
import {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
} from "../../helpers/trained-prompts.ts";

const [n, executor] = process.argv.slice(2) as [string, "processor" | "row-by-row"];
const rows = Array.from({ length: Number(n) }, (_, i) => ({
  id: i,
  review: `${SAMPLE_REVIEWS[i % SAMPLE_REVIEWS.length]} (${i})`,
}));
const result = await halo
  .lazy(rows)
  .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
  .agent({
    prompt: "Summarize the review in a few words.\nReview: {{review}}",
    maxTokens: 6,
    output: "summary",
  })
  .collectRows({
    executor,
    calibrate: false,
    progress: false,
    onProgress: (e) => {
      if (e.label === "summary") process.stdout.write(`done ${e.done}\n`);
    },
  });
const run = halo.lastRun!;
process.stdout.write(
  `${JSON.stringify({ llmCalls: run.llmCalls, fromStore: run.callsFromStore, kept: run.callsKept, rows: result.rows })}\n`,
);
