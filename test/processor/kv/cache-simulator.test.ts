import { test } from "uvu";
import * as assert from "uvu/assert";
import { CacheSimulator } from "../../../src/processor/kv/cache-simulator.ts";
import { LlmWorker } from "../../../src/processor/llm/llm-worker.ts";
import { ToyEngine } from "../helpers/toy-engine.ts";

test("predicted cached tokens equal what the worker gets, one request at a time", async () => {
  const prompts = [
    [1, 2, 3, 4, 5],
    [1, 2, 3, 9],
    [1, 2, 3, 4, 5], // all cached: the last token is recomputed
    [7, 8],
    [1, 2, 7],
  ];
  const sim = new CacheSimulator({ modelId: "toy", bytesPerToken: 10 });
  const worker = new LlmWorker(new ToyEngine(10));
  const real: number[] = [];
  for (const p of prompts) {
    // maxTokens 1: no answer token is fed back, so only the prompt gets cached.
    real.push((await worker.submit({ promptTokens: p, sampling: { maxTokens: 1 } })).cachedTokens);
  }
  assert.equal(real, [0, 3, 4, 0, 2]);
  assert.equal(sim.predict(prompts), real);
  assert.throws(() => new CacheSimulator({ modelId: "m", bytesPerToken: 0 }), /bytesPerToken/);
});

test.run();
