// The Processor outlives its runs: a later run finds the prefixes an earlier one cached (shipped
// model), a run whose settings change the workers' shape gets workers of its own while the
// others keep theirs, dropping the workers starts cold, and the tool limits hold for all runs
// together (two runs at once share one function slot).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runPlans } from "../../src/frame/collect.ts";
import type { RunReport } from "../../src/frame/run-report.ts";
import { halo } from "../../src/index.ts";
import type { ProcessorSettings } from "../../src/processor/config.ts";
import { Processor } from "../../src/processor/processor.ts";
import { shippedModelPresent } from "../frame/fixtures/shipped-model.ts";
import { SAMPLE_REVIEWS, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";

const present = shippedModelPresent();
const rows = SAMPLE_REVIEWS.slice(0, 6).map((review, id) => ({ id, review }));
const summaries = () =>
  halo.lazy(rows).agent({ prompt: SUMMARY_PROMPT, output: "summary", maxTokens: 6 });

/** One run on `processor`: its rows and its report. */
async function runOn(
  processor: Processor,
  frame: ReturnType<typeof halo.lazy>,
  settings?: ProcessorSettings,
) {
  let report: RunReport | undefined;
  const [table] = await runPlans(
    [frame.node],
    { reuse: false, progress: false, calibrate: false, ...(settings && { processor: settings }) },
    { processor, onReport: (r) => (report = r) },
  );
  const cached = report!.nodes.reduce((n, s) => n + s.cachedTokens, 0);
  const prompt = cached + report!.nodes.reduce((n, s) => n + s.prefillTokens, 0);
  return { rows: table!.rows, cached, prompt };
}

test("runs share the Processor's workers: a later run finds the earlier one's prefixes", async () => {
  if (!present) return;
  const processor = new Processor();
  const first = await runOn(processor, summaries());
  const second = await runOn(processor, summaries());
  assert.equal(second.rows, first.rows);
  // Every prompt (and answer) is cached now; each recomputes only its last prompt token.
  assert.is(second.cached, second.prompt - rows.length, "all but the last token of each prompt");
  assert.ok(first.cached < second.cached);

  // Another KV budget is another worker shape: its own, cold, workers.
  const other = await runOn(processor, summaries(), { kv: { budgetBytes: 2 ** 24 } });
  assert.is(other.cached, first.cached, "a cold cache, as the first run had");
  // The configured shape's workers are still there, warm.
  assert.is((await runOn(processor, summaries())).cached, second.cached);

  processor.dropWorkers();
  assert.is((await runOn(processor, summaries())).cached, first.cached, "cold again");
});

test("tool limits are the Processor's, for all runs at once", async () => {
  const processor = new Processor({ settings: { tools: { limits: { function: 1 } } } });
  let running = 0;
  let most = 0;
  const slow = async (id: number) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return id * 2;
  };
  const frame = () => halo.lazy(rows).tool(slow, { inputs: ["id"], output: "double" });
  const [a, b] = await Promise.all([runOn(processor, frame()), runOn(processor, frame())]);
  assert.equal(a.rows, b.rows);
  assert.is(most, 1, "one call at a time across both runs");
  // A run may widen the limit for itself: that is a pool of its own.
  most = 0;
  await runOn(processor, frame(), { tools: { limits: { function: 3 } } });
  assert.is(most, 3);
});

test.run();
