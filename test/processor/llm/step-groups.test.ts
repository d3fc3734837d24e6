// Splitting a decode step's rows into forward calls by length (step-groups.ts): the cheapest
// partition under the cost model's step price, and a worker that splits gives the answers of one
// request at a time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { splitStep } from "../../../src/processor/llm/step-groups.ts";
import type { LlmWorkerOptions } from "../../../src/processor/llm/llm-worker.ts";
import type { GenerateRequest } from "../../../src/runtime/types.ts";
import type { ArrayPayload } from "../helpers/array-payload.ts";
import { ToyEngine, generateEachAlone } from "../helpers/toy-engine.ts";

/** `requests` through one worker with `options`: its engine, after the answers equal each alone. */
async function runAgainstAlone(
  requests: GenerateRequest[],
  options: LlmWorkerOptions<ArrayPayload>,
) {
  const engine = new ToyEngine();
  const worker = new LlmWorker(engine, { cache: false, ...options });
  const got = await Promise.all(requests.map((r) => worker.submit(r)));
  const alone = await generateEachAlone(requests);
  assert.equal(
    got.map((r) => r.tokens),
    alone.map((r) => r.tokens),
  );
  return { engine, worker };
}

// SmolLM2-135M's shape in fp32, as calibrated here: d_0 76 ms, d_row 2.06 ms, d_kv 0.0446 ms
const smollm = (batch: number, width: number) => 76 + 2.06 * batch + 0.0446 * batch * width;

test("rows of two length classes split into two calls; alike rows stay in one", () => {
  const widths = [...Array(13).fill(250), 700, 700];
  // 15 x 700 in one call: 675 ms; 13 x 250 + 2 x 700: 249 + 142 ms
  const groups = splitStep(widths, smollm);
  assert.equal(groups, [Array.from({ length: 13 }, (_, i) => i), [13, 14]]);
  assert.equal(splitStep(Array(15).fill(250), smollm), [Array.from({ length: 15 }, (_, i) => i)]);
  // a step's fixed cost far above its KV term: never worth a second call
  const fixed = (batch: number, width: number) => 5000 + 0.001 * batch * width;
  assert.is(splitStep(widths, fixed).length, 1);
  // one row, none
  assert.equal(splitStep([40], smollm), [[0]]);
  assert.equal(splitStep([], smollm), [[]]);
});

test("groups come out sorted by width and cover every row once", () => {
  const widths = [900, 30, 35, 880, 40, 32, 910, 33];
  const groups = splitStep(widths, smollm);
  assert.equal(
    groups.flat().sort((a, b) => a - b),
    widths.map((_, i) => i),
  );
  assert.equal(groups, [
    [1, 5, 7, 2, 4],
    [3, 0, 6],
  ]);
});

test("a worker that splits steps answers as one request at a time", async () => {
  // prompts of 6 and of 300 tokens: every step splits under a KV-heavy price
  const requests = Array.from({ length: 8 }, (_, i) => ({
    promptTokens: Array.from({ length: i % 2 === 0 ? 6 : 300 }, (_, j) => 1 + ((i * 7 + j) % 60)),
    sampling: { maxTokens: 10 },
  }));
  const { engine } = await runAgainstAlone(requests, {
    stepCost: (batch, width) => 10 + batch * width,
  });
  // after the one prefill call, decode calls of the 4 short and the 4 long rows apart
  assert.ok(
    engine.batchSizes.slice(1).every((b) => b <= 4),
    String(engine.batchSizes),
  );
  assert.ok(engine.batchSizes.slice(1).some((b) => b === 4));
});

test("a prefill round of short and long prompts runs as two calls, with the same answers", async () => {
  const requests = Array.from({ length: 6 }, (_, i) => ({
    promptTokens: Array.from({ length: i < 3 ? 5 : 400 }, (_, j) => 1 + ((i * 11 + j) % 60)),
    sampling: { maxTokens: 3 },
  }));
  const { engine, worker } = await runAgainstAlone(requests, {
    prefillCost: (batch, width) => 10 + batch * width,
  });
  assert.equal(engine.batchSizes.slice(0, 2), [3, 3], String(engine.batchSizes));
  assert.is(worker.stats.prefillCalls, 2);
});

test.run();
