// schedule (an analysis, explain only): epochs that put a tool beside LLM work it does not depend
// on (prepared ahead), by DP for small graphs and by the greedy rule past the state budget; and
// the planner on a 2,048-query, 20-node workflow graph (its time is a benchmark figure, printed,
// not asserted).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explain, halo, lower } from "../../src/index.ts";
import { analyze, optimize } from "../../src/optimizer/index.ts";
import { optimizations } from "../../src/plan/optimize.ts";
import type { PlanDag } from "../../src/plan/types.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { testContext } from "./helpers/context.ts";

halo.models.register("fake", fakeModel());
const rows = Array.from({ length: 8 }, (_, i) => ({ id: i, text: `item ${i}` }));
const llm = (name: string, prompt: string, output: string) => ({
  name,
  prompt,
  output,
  model: "fake",
  maxTokens: 8,
});

/** Frame 1: A -> HTTP T -> C. Frame 2: B, independent of both. */
function twoFrames(): PlanDag {
  const src = halo.lazy(rows);
  const f1 = src
    .agent(llm("A", "Describe {{text}}", "a"))
    .http({ name: "T", url: "http://127.0.0.1:9/lookup?q={{a}}", output: "t" })
    .agent(llm("C", "Use {{t}}", "c"));
  const f2 = src.agent(llm("B", "Summarize {{text}}", "b"));
  return lower([f1.node, f2.node]);
}

const id = (dag: PlanDag, label: string) => dag.nodes.find((n) => n.label === label)!.id;

/** The plan optimized, then read by the analyses (what explain() shows). */
function analyzed(ctx: ReturnType<typeof testContext>): PlanDag {
  return analyze(optimize(twoFrames(), optimizations.all(), ctx).dag, ctx);
}

test("DP: the tool that feeds C runs beside B, prepared ahead", () => {
  const dag = analyzed(testContext());
  const plan = dag.nodes[dag.root]!.physical!.report!.schedule!;
  assert.is(plan.method, "dp");
  assert.equal(
    plan.epochs.map((e) => [e.llm.flatMap((l) => l.nodeIds), e.tools, e.prepared]),
    [
      [[id(dag, "A")], [], []],
      [[id(dag, "B")], [id(dag, "T")], [id(dag, "T")]],
      [[id(dag, "C")], [], []],
    ],
  );
  assert.ok(plan.makespanMs < plan.serialMs);
  assert.match(
    explain(dag, { report: true }),
    /analysis schedule: 3 epoch\(s\) by dp \(\d+ states\); 1 tool node\(s\) prepared ahead/,
  );
  assert.match(explain(dag, { report: true }), /#\d+ LlmCall B .*llm:0, epoch 1/);
  // An analysis decides nothing: no node carries an epoch, and collect() does not run it.
  assert.not.ok(dag.nodes.some((n) => "epoch" in (n.physical ?? {})));
  const planned = optimize(twoFrames(), optimizations.all(), testContext()).dag;
  assert.is(planned.nodes[planned.root]!.physical!.report!.schedule, undefined);
});

test("past the state budget the greedy rule gives the same epochs here", () => {
  const dag = analyzed(testContext({ dpStateBudget: 1 }));
  const plan = dag.nodes[dag.root]!.physical!.report!.schedule!;
  assert.is(plan.method, "greedy");
  assert.equal(
    plan.epochs.map((e) => e.llm.flatMap((l) => l.nodeIds).concat(e.tools)),
    [[id(dag, "A")], [id(dag, "B"), id(dag, "T")], [id(dag, "C")]],
  );
});

test("flags off: no annotations, the lowered plan as is", () => {
  const lowered = twoFrames();
  const { dag } = optimize(lowered, optimizations.none(), testContext());
  assert.equal(
    dag.nodes.map((n) => [n.kind, n.inputs, n.physical?.gather, n.physical?.prefix]),
    lowered.nodes.map((n) => [n.kind, n.inputs, undefined, undefined]),
  );
});

/** 2,048 queries through a 20-node multi-agent graph (3 frames sharing a classifier). */
function bigWorkflow(): PlanDag {
  const topics = ["billing", "shipping", "returns", "warranty", "accounts", "other"];
  const src = halo.lazy(
    Array.from({ length: 2048 }, (_, i) => ({
      id: i,
      topic: topics[i % topics.length],
      stars: i % 5,
      text: `Customer ${i % 300} writes about order ${i % 97}: the ${topics[i % 6]} issue is still open.`,
    })),
  );
  const system = "You are a support triage agent. Follow the policy strictly. ".repeat(4);
  const triage = src.agent({
    name: "triage",
    system,
    prompt: "Ticket: {{text}}\nUrgent?",
    choices: ["yes", "no"],
    output: "urgent",
    model: "fake",
  });
  const f1 = triage
    .filter(halo.col("stars").le(2))
    .agent({ ...llm("draft", "Ticket: {{text}}\nDraft a reply.", "draft"), system })
    .tool((d: unknown) => String(d).length, { name: "length", inputs: ["draft"], output: "len" })
    .agent({ ...llm("polish", "Ticket: {{text}}\nDraft: {{draft}}\nPolish it.", "reply"), system })
    .select(["id", "reply", "urgent"]);
  const f2 = triage
    .agent({ ...llm("route", "Topic {{topic}}. Ticket: {{text}}\nTeam?", "team"), system })
    .http({ name: "crm", url: "http://127.0.0.1:9/crm?team={{team}}", output: "crm" })
    .agent({ ...llm("summary", "Topic {{topic}}. CRM {{crm}}\nSummarize.", "summary"), system })
    .filter(halo.col("topic").ne("other"))
    .select(["id", "team", "summary"]);
  const f3 = src
    .filter(halo.col("stars").ge(4))
    .agent({ ...llm("thanks", "Ticket: {{text}}\nThank them.", "thanks"), system })
    .agent({ ...llm("tag", "Thanks: {{thanks}}\nTag?", "tag"), system })
    .select(["id", "thanks", "tag"]);
  return lower([f1.node, f2.node, f3.node]);
}

test("planner time on a 2,048-query, 20-node workflow graph", () => {
  const dag = bigWorkflow();
  assert.is(dag.nodes.length, 20);
  const ctx = testContext();
  analyze(optimize(dag, optimizations.all(), ctx).dag, ctx); // warm-up (JIT)
  const result = optimize(dag, optimizations.all(), ctx);
  const report = analyze(result.dag, ctx).nodes[result.dag.root]!.physical!.report!;
  console.log(
    `measure: planner ${result.plannerMs.toFixed(0)} ms for 2048 queries x ${dag.nodes.length} nodes (${report.passes.map((p) => `${p.name} ${p.ms.toFixed(0)}`).join(", ")} ms); analyses for explain ${report.analyses!.map((a) => `${a.name} ${a.ms.toFixed(0)}`).join(", ")} ms (schedule by ${report.schedule!.method})`,
  );
  assert.ok(report.schedule!.epochs.length > 0);
});

test.run();
