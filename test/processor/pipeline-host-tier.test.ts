// The Processor's default worker keeps a host KV tier: when the KV budget is exceeded, prefixes
// the cache evicts move there (and back on use) when the cost model says the round trip beats
// recomputing them, instead of being dropped. Shipped model, three agents per row, a budget of
// about three sequences: the same table as row by row, and far fewer tokens prefilled than
// without the tier.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo, type ProcessorSettings } from "../../src/index.ts";
import {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
  SUMMARY_PROMPT,
} from "../helpers/trained-prompts.ts";

// The shipped model keeps 2,048 bytes of KV per token; a request here reserves 80-140 tokens.
const kvBudgetBytes = 3 * 140 * 2048;
const SMALL_KV = { kv: { budgetBytes: kvBudgetBytes } };
const SMALL_KV_NO_HOST = { kv: { budgetBytes: kvBudgetBytes, hostBudgetBytes: 0 } };

const rows = Array.from({ length: 24 }, (_, id) => ({
  id,
  review: `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} Order ${id}.`,
}));

function workflow() {
  return halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .agent({ prompt: SUMMARY_PROMPT, output: "summary", maxTokens: 12 })
    .agent({ prompt: `${SENTIMENT_PROMPT}\nLabel: {{sentiment}}`, output: "check", maxTokens: 8 });
}

const options = { reuse: false, calibrate: false, progress: false } as const;

async function run(processor: ProcessorSettings) {
  halo.processor.dropCaches();
  const { rows } = await workflow().collectRows({ ...options, processor });
  const trace = halo.lastRun!;
  const moves = trace.tasks.filter((t) => t.kind === "kv-move");
  const out = moves.filter((t) => t.detail === "out").length;
  const moved = { out, in: moves.filter((t) => t.detail === "in").length };
  // The run's totals say the same as its trace, and the summary reports them.
  assert.equal({ out: trace.kvTierMoves.out, in: trace.kvTierMoves.in }, moved);
  if (out > 0) {
    assert.ok(trace.kvTierMoves.bytesOut >= out * 2048, "at least a token's KV per move");
    assert.match(trace.summary(), /KV tiers: \d+ moves out to host memory/);
  } else assert.not.match(trace.summary(), /KV tiers:/);
  return { rows, prefilled: trace.nodes.reduce((n, x) => n + x.prefillTokens, 0), ...moved };
}

test("over the KV budget, evicted prefixes go to the host tier and come back", async () => {
  const want = (await workflow().collectRows({ ...options, executor: "row-by-row" })).rows;
  const tiered = await run(SMALL_KV);
  const dropped = await run(SMALL_KV_NO_HOST);
  assert.equal(tiered.rows, want, "with a host tier");
  assert.equal(dropped.rows, want, "without");
  assert.ok(tiered.out > 0 && tiered.in > 0, `moves out ${tiered.out}, in ${tiered.in}`);
  assert.is(dropped.out + dropped.in, 0);
  assert.ok(
    tiered.prefilled < dropped.prefilled,
    `prefilled ${tiered.prefilled} with the tier, ${dropped.prefilled} without`,
  );
  console.log(
    `measure: 24 rows x 3 agents, KV budget ${kvBudgetBytes} B: prefilled ${tiered.prefilled} tokens with the host tier (${tiered.out} moves out, ${tiered.in} in), ${dropped.prefilled} without`,
  );
});

test.run();
