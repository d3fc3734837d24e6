// The KV memory budget changes how much is batched and cached, never the answers: the same
// two-agent workflow over 16 rows on the shipped model gives exactly the row-by-row executor's
// rows with a budget of 0, one token, one sequence, three sequences, 16 MiB and the default
// (a quarter of free memory), each set for its run (`collect({ processor })`) and from a cold
// prefix cache (greedy decoding).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
  SUMMARY_PROMPT,
} from "../helpers/trained-prompts.ts";

// The shipped model keeps 2,048 bytes of KV per token; a request here reserves 80-140 tokens.
const TOKEN = 2048;
const BUDGETS: [string, number | undefined][] = [
  ["0", 0],
  ["one token", TOKEN],
  ["one sequence", 140 * TOKEN],
  ["three sequences", 3 * 140 * TOKEN],
  ["16 MiB", 16 * 2 ** 20],
  ["default", undefined],
];

const rows = Array.from({ length: 16 }, (_, id) => ({
  id,
  review: `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} Order ${id % 5}.`,
}));

const workflow = () =>
  halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .agent({ prompt: SUMMARY_PROMPT, output: "summary", maxTokens: 12 });

const options = { reuse: false, calibrate: false, progress: false } as const;

test("every KV budget from 0 to the default gives the row-by-row rows", async () => {
  const started = performance.now();
  const want = (await workflow().collectRows({ ...options, executor: "row-by-row" })).rows;
  const prefilled: string[] = [];
  for (const [name, budgetBytes] of BUDGETS) {
    halo.processor.dropCaches();
    const processor = budgetBytes === undefined ? undefined : { kv: { budgetBytes } };
    const { rows: got } = await workflow().collectRows({ ...options, processor });
    assert.equal(got, want, `KV budget ${name}`);
    const run = halo.lastRun!;
    prefilled.push(`${name}: ${run.nodes.reduce((n, x) => n + x.prefillTokens, 0)}`);
  }
  console.log(
    `measure: KV budgets: ${BUDGETS.length} budgets from 0 to the default x ${rows.length} rows x 2 agents, outputs identical to row by row; prompt tokens prefilled per budget (${prefilled.join(", ")}); ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

test.run();
