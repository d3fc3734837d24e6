// Every decision an optimizer pass writes is carried out by the Processor: change the decision on
// the optimized plan, run it on the shipped model, and what the Processor does changes (which
// forward calls run on which lane, with which nodes' sequences, how many, how many tokens each),
// while the table stays the same. Every annotation a pass leaves is either one of these decisions
// or a prediction for explain() and halo.lastRun (listed below); a new kind of annotation fails
// here until it is one or the other, so no pass can decide something nothing executes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CostModel } from "../../src/cost/cost-model.ts";
import { priorProfile } from "../../src/cost/profile.ts";
import { defaultServices } from "../../src/frame/collect.ts";
import { halo } from "../../src/index.ts";
import { optimize, optimizerContext, prepareOptimizer } from "../../src/optimizer/index.ts";
import type { NodePhysical } from "../../src/optimizer/physical.ts";
import { copyDag } from "../../src/plan/dag.ts";
import { lower } from "../../src/plan/lower.ts";
import { optimizations } from "../../src/plan/optimize.ts";
import type { PlanDag, PlanNode } from "../../src/plan/types.ts";
import { Processor } from "../../src/processor/processor.ts";
import type { RunTrace } from "../../src/processor/trace/trace.ts";
import { shippedModelPresent } from "../frame/fixtures/shipped-model.ts";
import {
  SAMPLE_REVIEWS,
  SENTIMENT_CHOICES,
  SENTIMENT_PROMPT,
  SUMMARY_PROMPT,
} from "../helpers/trained-prompts.ts";

const present = shippedModelPresent();

// Twelve rows, every review twice (dedupe fans answers out), the batch limit pinned (the sizer's
// probes move it with measured step times), and a KV budget for about four running sequences, so
// the order requests arrive in changes what stays cached. One worker per model: two would
// interleave their forward calls by timing, and the plan's lane still picks one (a lane the plan
// does not list is another worker).
const rows = Array.from({ length: 12 }, (_, id) => ({
  id,
  review: SAMPLE_REVIEWS[id % 6]!,
}));
const settings = {
  // No host tier: whether a prefix moves there or back is priced by the cost model, which every
  // forward call refits, so two runs of one plan would move different prefixes.
  kv: { budgetBytes: 4 * 150 * 2048, hostBudgetBytes: 0 },
  batch: { initial: 8, min: 8, max: 8 },
  llm: { workersPerModel: 1 },
};

/** A label and a summary side by side (the summary starts early), and a check of the label. */
function frame() {
  return halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .agent({ prompt: SUMMARY_PROMPT, output: "summary", maxTokens: 8 })
    .agent({ prompt: `${SENTIMENT_PROMPT}\nLabel: {{sentiment}}`, output: "check", maxTokens: 4 });
}

type Decision = (node: PlanNode) => boolean;

/**
 * The decisions, each with a change of it: the change applies to the nodes carrying it and says
 * whether it applied. Keys are `physical` fields, or `field.subfield`.
 */
const DECISIONS: Record<string, Decision> = {
  // dedupe-calls: equal requests share one answer.
  fanOut: (n) => n.physical?.fanOut !== undefined && (delete n.physical.fanOut, true),
  // start-calls-early: the call starts from an earlier row.
  early: (n) => n.physical?.early !== undefined && (delete n.physical.early, true),
  // group-shared-prefixes: the order a gathered node's rows reach the worker.
  "prefix.order": (n) => {
    const p = n.physical?.prefix;
    if (!p || p.order.length < 2) return false;
    n.physical = { ...n.physical, prefix: { ...p, order: [...p.order].reverse() } };
    return true;
  },
  // plan-batches: rows gathered before any is sent (or streamed as they arrive).
  gather: (n) => n.physical?.gather === true && (delete n.physical.gather, true),
  // place-work: the worker (lane) the node runs on.
  "placement.lane": (n) => {
    const p = n.physical?.placement;
    if (!p) return false;
    const lane = p.lane === "llm:0" ? "llm:1" : "llm:0";
    n.physical = { ...n.physical, placement: { ...p, lane } };
    return true;
  },
};

/** What passes write that no executor acts on: predictions and reports, shown by explain. */
const PREDICTIONS = new Set([
  "estimate",
  "report",
  "prefix.inputRows", // when `order` applies (checked with it)
  "prefix.groups",
  "prefix.promptTokens",
  "prefix.estimatedTokens",
  "prefix.uniqueTokens",
  "prefix.predictedCachedTokens",
  "prefix.rowOrderCachedTokens",
  "prefix.exact",
  "prefix.modelTokens",
  "placement.worker", // the lane's index in the report's workers
  "placement.model",
  "placement.switchMs",
  "placement.affinityTokens",
]);

/** Every annotation field the plan carries, as `field` or `field.subfield`. */
function annotationKeys(dag: PlanDag): Set<string> {
  const keys = new Set<string>();
  for (const n of dag.nodes)
    for (const [k, v] of Object.entries(n.physical ?? ({} as NodePhysical))) {
      const nested = v && typeof v === "object" && !Array.isArray(v) && !(k in DECISIONS);
      if (nested && k !== "report" && k !== "estimate")
        for (const sub of Object.keys(v)) keys.add(`${k}.${sub}`);
      else keys.add(k);
    }
  return keys;
}

let processor: Processor;
let planned: PlanDag;

test.before(async () => {
  if (!present) return;
  // The prior profile with the shipped model's real KV size: the plan's KV arithmetic is the
  // worker's (2,048 bytes per token). It learns nothing here: the Processor's own choices priced
  // by it (splitting a padded step by length, step-groups.ts) would follow each forward's measured
  // time, and two runs of one plan would split differently on a loaded machine.
  const cost = new CostModel(priorProfile("shipped", { kvBytesPerToken: 2048 }));
  cost.observe = () => {};
  processor = new Processor({ settings, cost });
  const dag = lower([frame().node]);
  await prepareOptimizer(dag, defaultServices.loadModel);
  planned = optimize(
    dag,
    optimizations.all(),
    optimizerContext(processor.cost, processor.config, dag),
  ).dag;
});

/** Runs a plan on the Processor with cold caches: its table, and what its workers did, per lane. */
async function run(dag: PlanDag) {
  processor.dropWorkers();
  const trace: RunTrace = { startedAt: "", wallMs: 0, tasks: [], nodes: [] };
  const [table] = await processor.execute(dag, {
    onError: "raise",
    trace,
    services: defaultServices,
  });
  // Per lane, in order: the two workers run side by side, so only each one's order is fixed.
  const lanes = new Map<string, string[]>();
  for (const t of trace.tasks) {
    if (!t.lane.startsWith("llm") && !t.lane.startsWith("kv")) continue;
    if (t.kind === "model-load") continue; // the first run's thread start: no decision of the plan's
    const line = `${t.kind} [${t.nodeIds.join(",")}] x${t.batchSize} p${t.prefillTokens ?? "-"} c${t.cachedTokens ?? "-"}`;
    lanes.set(t.lane, [...(lanes.get(t.lane) ?? []), line]);
  }
  return { rows: table!.rows, behaviour: JSON.stringify([...lanes].sort()) };
}

test("every annotation is a decision the Processor executes or a prediction", () => {
  if (!present) return;
  const unknown = [...annotationKeys(planned)].filter(
    (k) => !(k in DECISIONS) && !PREDICTIONS.has(k),
  );
  assert.equal(unknown, [], "annotations neither executed nor listed as predictions");
  for (const decision of Object.keys(DECISIONS))
    assert.ok(
      planned.nodes.some((n) => {
        const [k, sub] = decision.split(".");
        const v = n.physical?.[k as keyof NodePhysical] as Record<string, unknown> | undefined;
        return v !== undefined && (sub === undefined || v[sub] !== undefined);
      }),
      `the test plan exercises ${decision}`,
    );
});

test("changing any decision changes what the Processor does, never the table", async () => {
  if (!present) return;
  const base = await run(planned);
  const again = await run(planned);
  assert.is(again.behaviour, base.behaviour, "the Processor is deterministic on this plan");
  for (const [name, change] of Object.entries(DECISIONS)) {
    const dag = copyDag(planned);
    // copyDag copies nodes, not their annotations: the changes must not reach `planned`.
    for (const n of dag.nodes) if (n.physical) n.physical = { ...n.physical };
    const changed = dag.nodes.filter((n) => change(n));
    assert.ok(changed.length > 0, `${name}: the plan carries it`);
    const got = await run(dag);
    assert.equal(got.rows, base.rows, `${name}: the same table`);
    assert.is.not(got.behaviour, base.behaviour, `${name}: the Processor ignored the decision`);
  }
});

test.run();
