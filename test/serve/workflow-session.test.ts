// `halo serve`'s mini-batches on one Processor, shipped model: a second batch that arrives while
// the first one decodes joins its continuous batch, and each batch's run report shows the forward
// calls it took part in, with what the other batch had in them. Every forward call teaches the
// Processor's cost model. Answers equal a batch collect's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { workflow } from "../../src/frame/workflow.ts";
import type { RunReport } from "../../src/frame/run-report.ts";
import { halo } from "../../src/index.ts";
import { Processor } from "../../src/processor/processor.ts";
import type { TaskRecord } from "../../src/processor/trace/trace.ts";
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
    maxTokens: 24
    output: summary
edges:
  - { from: in, to: summary }
`;

const queries = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    review: `${SAMPLE_REVIEWS[(from + i) % SAMPLE_REVIEWS.length]} Order ${from + i}.`,
  }));

test("two mini-batches in one forward call: the call is in both runs' traces", async () => {
  const reports: RunReport[] = [];
  const processor = new Processor();
  const learned: string[] = [];
  const observe = processor.cost.observe.bind(processor.cost);
  processor.cost.observe = (obs, ms) => {
    learned.push(obs.kind);
    observe(obs, ms);
  };
  const session = new WorkflowSession("summaries", workflow(YAML), {
    processor,
    metrics: new ServerMetrics(),
    maxInFlight: 2,
    onReport: (r) => reports.push(r),
  });
  const first = queries(0, 12);
  const second = queries(12, 12);
  const answers = session.submit(first);
  // The second batch is cut once the first one runs: it plans while the first one decodes.
  await new Promise((resolve) => setImmediate(resolve));
  answers.push(...session.submit(second));
  const got = await Promise.all(answers);

  const want = await halo
    .lazy([...first, ...second])
    .agent({ prompt: SUMMARY_PROMPT, maxTokens: 24, output: "summary" })
    .collectRows({ reuse: false, progress: false });
  assert.equal(
    got.map((a) => [a.outcome, a.row?.summary]),
    want.rows.map((r) => ["ok", r.summary]),
  );

  assert.is(reports.length, 2, "two mini-batches ran");
  const shared = reports.map((r) => r.tasks.filter((t) => t.sharedWith !== undefined));
  for (const [i, tasks] of shared.entries()) {
    assert.ok(tasks.length > 0, `batch ${i + 1}'s trace shows the calls it shared`);
    for (const t of tasks) {
      const own = t.kind === "decode" ? t.decodeTokens! : t.prefillTokens!;
      assert.ok(own > 0, "its own sequences computed in the call");
      assert.ok(t.sharedWith!.sequences > 0 && t.sharedWith!.sequences < t.batchSize);
    }
  }
  // A decode step both batches had sequences in: one record in each trace, whose own rows and
  // the rows it says the other batch had add up to the same forward call.
  const steps = shared.map((tasks) => tasks.filter((t) => t.kind === "decode"));
  const sizes = steps.map((s) => s.map((t) => t.batchSize));
  assert.ok(
    sizes[0]!.some((b) => sizes[1]!.includes(b)),
    "a decode step in both traces",
  );
  // Each forward call once, however many runs' traces it is in.
  const forwards = learned.filter((k) => k === "prefill" || k === "decode").length;
  const isForward = (t: TaskRecord) => t.kind === "prefill" || t.kind === "decode";
  const perRun = reports.map((r) => r.tasks.filter(isForward).length);
  const sharedCount = shared[0]!.length;
  assert.is(
    forwards,
    perRun[0]! + perRun[1]! - sharedCount,
    "the cost model saw every forward call",
  );
  console.log(
    `measure: 2 mini-batches of 12 summaries: ${steps[0]!.length} and ${steps[1]!.length} decode steps shared, widest ${Math.max(...sizes[0]!, ...sizes[1]!)} sequences`,
  );
});

test.run();
