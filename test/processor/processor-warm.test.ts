// A model thread loads a session of its own the first time a worker needs it. The first collect
// waits for it, and its trace says so ("model-load" on the LLM lane, outside every prefill and
// outside the nodes' LLM time); `halo.processor.warm` does the load before any collect, for each
// worker the settings ask for. On the shipped model, in this file's own process (so the first
// test really is the process's first load).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";
import { listModelThreads } from "../../src/processor/llm/thread/model-threads.ts";
import { rejects } from "./helpers/rejects.ts";

const rows = Array.from({ length: 6 }, (_, id) => ({ id, review: `Order ${id} was fine.` }));
const options = { reuse: false, calibrate: false, progress: false } as const;

async function collectOnce() {
  const { rows: out } = await halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .collectRows(options);
  const run = halo.lastRun!;
  const loads = run.tasks.filter((t) => t.kind === "model-load");
  return { out, run, loads };
}

test("the first collect waits for the model thread's load, traced as model-load", async () => {
  const { out, run, loads } = await collectOnce();
  assert.is(out.length, 6);
  assert.is(loads.length, 1, "one worker, one load");
  assert.ok(loads[0]!.lane.startsWith("llm:"));
  const load = loads[0]!;
  const llm = run.tasks.filter((t) => t.kind === "prefill" || t.kind === "decode");
  assert.ok(llm.length > 0);
  assert.ok(
    llm.every((t) => t.startMs >= load.endMs),
    "no forward runs before the model is loaded",
  );
  // the node's LLM time is its forwards' only
  const node = run.nodes.find((n) => n.kind === "LlmCall")!;
  const forwardsMs = llm.reduce((ms, t) => ms + t.endMs - t.startMs, 0);
  assert.ok(node.llmMs! <= forwardsMs + 1e-6, `${node.llmMs} vs ${forwardsMs}`);
  // the thread stays loaded: a second collect has nothing to wait for
  assert.is((await collectOnce()).loads.length, 0);
});

test("halo.processor.warm loads every worker's model before the collect needs it", async () => {
  halo.processor.configure({ llm: { workersPerModel: 2 } });
  try {
    assert.is(listModelThreads().length, 1, "the first test's thread");
    await halo.processor.warm(); // the shipped model: replica 1's thread starts and loads
    const threads = listModelThreads();
    assert.is(threads.length, 2);
    assert.ok(
      threads.every((t) => t.alive && t.timing.startMs > 0),
      "both loaded",
    );
    halo.processor.dropCaches(); // new workers, same threads: still loaded
    const { out, loads } = await collectOnce();
    assert.is(out.length, 6);
    assert.is(loads.length, 0, JSON.stringify(loads));
  } finally {
    halo.processor.reset();
  }
});

test("halo.processor.warm names a model it does not know, and a bad worker count", async () => {
  await rejects(
    halo.processor.warm("no-such-model"),
    /halo\.processor\.warm: model 'no-such-model' is neither a registered name/,
  );
  await rejects(
    halo.processor.warm(undefined, { workers: 0 }),
    /workers must be an integer from 1 to 8, got 0/,
  );
});

test("halo.processor.warm({ workers }) loads that many sessions of the model", async () => {
  assert.is(listModelThreads().length, 2);
  await halo.processor.warm(undefined, { workers: 3 });
  assert.is(listModelThreads().length, 3, "replica 2 added; 0 and 1 were loaded");
  assert.ok(listModelThreads().every((t) => t.alive));
});

test.run();
