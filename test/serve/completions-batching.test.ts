// halo serve's OpenAI routes and its workflows on one Processor: an OpenAI request and a workflow
// query in flight together are decoded in the same forward calls (the workflow run's trace shows
// steps it shared with sequences that are not its own), and both answers equal what each gets
// alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { workflow } from "../../src/frame/workflow.ts";
import type { RunReport } from "../../src/frame/run-report.ts";
import { Processor } from "../../src/processor/processor.ts";
import { closeModelThreads } from "../../src/processor/llm/thread/model-threads.ts";
import { getModel } from "../../src/runtime/index.ts";
import { createCompletionsService } from "../../src/serve/completions.ts";
import { ServerMetrics } from "../../src/serve/metrics.ts";
import { WorkflowSession } from "../../src/serve/workflow-session.ts";
import { SAMPLE_REVIEWS, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";

const YAML = `
name: summaries
nodes:
  - { id: in, type: input, columns: [review] }
  - id: summary
    type: llm
    prompt: ${JSON.stringify(SUMMARY_PROMPT)}
    maxTokens: 64
    output: summary
edges:
  - { from: in, to: summary }
`;

test.after(() => closeModelThreads());

test("an OpenAI request and a workflow query share the served model's forward calls", async () => {
  const processor = new Processor();
  const reports: RunReport[] = [];
  const session = new WorkflowSession("summaries", workflow(YAML), {
    processor,
    metrics: new ServerMetrics(),
    onReport: (r) => reports.push(r),
  });
  const service = createCompletionsService({ processor });
  const model = await getModel();
  const review = (i: number) => `${SAMPLE_REVIEWS[i % SAMPLE_REVIEWS.length]} Order ${i}.`;
  const queries = Array.from({ length: 12 }, (_, i) => ({ review: review(i) }));
  const prompts = Array.from({ length: 6 }, (_, i) =>
    model.encodeChat([{ role: "user", content: `${SUMMARY_PROMPT}\n${review(12 + i)}` }]),
  );
  const requests = prompts.map((promptTokens) => ({
    promptTokens,
    sampling: { maxTokens: 24 },
  }));
  // Warm the worker (the model thread starts once) so both kinds arrive at a running worker.
  await service.generate(requests.slice(0, 1), new AbortController().signal);
  // The OpenAI requests are sent once the workflow's first forward call ran: they arrive while
  // its rows decode.
  let started!: () => void;
  const firstForward = new Promise<void>((resolve) => (started = resolve));
  const observe = processor.cost.observe.bind(processor.cost);
  processor.cost.observe = (obs, ms) => {
    started();
    observe(obs, ms);
  };
  const workflowAnswers = Promise.all(session.submit(queries));
  await firstForward;
  const completions = await service.generate(requests, new AbortController().signal);
  const answers = await workflowAnswers;
  await service.close();

  const alone = await model.generate(requests);
  assert.equal(
    completions.map((c) => c.text),
    alone.map((a) => a.text),
  );
  for (const a of answers) assert.is(a.outcome, "ok", a.error);
  assert.is(reports.length, 1, "the twelve queries ran as one mini-batch");
  const shared = reports[0]!.tasks.filter((t) => t.kind === "decode" && t.sharedWith);
  console.log(
    `measure: workflow decode steps shared with OpenAI requests: ${shared.length}, widest ${Math.max(0, ...shared.map((t) => t.batchSize))}`,
  );
  assert.ok(
    shared.length > 0,
    "no decode step had both the workflow's and the OpenAI requests' sequences",
  );
  for (const t of shared)
    assert.ok(t.sharedWith!.sequences > 0 && t.sharedWith!.sequences < t.batchSize);
});

test.run();
