// Where a local model's worker runs: in a model thread by default, in-process on request; each
// replica in a thread of its own without a second session on the main thread; a stopped thread
// replaced on the next use. Answers are the same everywhere.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { getModel, shippedModelDir, type Model } from "../../../src/runtime/index.ts";
import type { GenerateRequest } from "../../../src/runtime/types.ts";
import { Processor } from "../../../src/processor/processor.ts";
import type { LlmSubmitter } from "../../../src/processor/llm/llm-submitter.ts";
import { modelReplica, threadReplica } from "../../../src/processor/llm/engine-factory.ts";
import {
  closeModelThreads,
  listModelThreads,
} from "../../../src/processor/llm/thread/model-threads.ts";
import { GRAPHS } from "../../helpers/graph-fixtures.ts";
import { SAMPLE_REVIEWS, SENTIMENT_PROMPT } from "../../helpers/trained-prompts.ts";

let model: Model;
let requests: GenerateRequest[];
let want: string[];

test.before(async () => {
  model = await getModel(shippedModelDir());
  requests = SAMPLE_REVIEWS.slice(0, 6).map((review) => ({
    promptTokens: model.encodeChat([{ role: "user", content: `${SENTIMENT_PROMPT}\n${review}` }]),
    sampling: { maxTokens: 8 },
  }));
  want = [];
  for (const r of requests) want.push((await model.generate([r]))[0]!.text);
});

test.after(() => closeModelThreads());

async function answers(submitter: LlmSubmitter): Promise<string[]> {
  return (await Promise.all(requests.map((r) => submitter.submit(r)))).map((r) => r.text);
}

function worker(processor: Processor, replica = 0): Promise<LlmSubmitter> {
  return processor.llmWorker(model, "shipped", replica, processor.config);
}

test("the default worker runs its model in a thread; modelThreads: false runs it in-process", async () => {
  const before = listModelThreads().length;
  assert.equal(await answers(await worker(new Processor())), want);
  const threads = listModelThreads();
  assert.is(threads.length, before + 1);
  const thread = threads.at(-1)!;
  assert.ok(thread.timing.forwards > 0, "the forwards ran in the thread");
  const forwards = thread.timing.forwards;
  const inProcess = new Processor({ settings: { llm: { modelThreads: false } } });
  assert.equal(await answers(await worker(inProcess)), want);
  assert.is(listModelThreads().length, before + 1, "no thread for the in-process worker");
  assert.is(thread.timing.forwards, forwards, "nor any forward in the thread");
  // Another Processor's worker of the same model session reuses its thread.
  assert.equal(await answers(await worker(new Processor())), want);
  assert.is(listModelThreads().length, before + 1);
});

test("a replica gets a thread of its own, and no session on the main thread", async () => {
  const replica = threadReplica(model, 1);
  assert.ok(replica !== model);
  assert.is(replica.id, model.id);
  assert.ok(replica.session === model.session, "the main thread loads no second session");
  assert.is(threadReplica(model, 1), replica, "one per index");
  const before = listModelThreads().length;
  assert.equal(await answers(await worker(new Processor(), 1)), want);
  assert.is(listModelThreads().length, before + 1);
  // In-process replicas load their own session.
  const own = (await modelReplica(model, 1)) as Model;
  assert.ok(own.session !== model.session);
});

test("a stopped thread is replaced on next use", async () => {
  const processor = new Processor();
  assert.equal(await answers(await worker(processor)), want);
  await closeModelThreads();
  assert.is(listModelThreads().length, 0);
  assert.equal(await answers(await worker(processor)), want);
  assert.is(listModelThreads().length, 1);
});

test("a replica of a non-default dtype is that dtype, in-process and as a thread's view", async () => {
  const half = await getModel(join(GRAPHS, "qwen2"), { dtype: "fp16" });
  const inProcess = (await modelReplica(half, 1)) as Model;
  assert.is.not(inProcess, half);
  assert.is(inProcess.graph.dtype, "fp16");
  assert.is(inProcess.session.shape.kvType, "float16");
  assert.is(inProcess.id, half.id);
  const view = threadReplica(half, 1);
  assert.is(view.graph, half.graph);
  assert.equal(view.loadOptions, half.loadOptions);
});

test.run();
