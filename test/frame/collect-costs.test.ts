// collect() on the shipped model plans with its calibrated profile (measured once per machine,
// cached under $HALO_CACHE_DIR/profiles) and leaves estimated beside measured ms per node in
// halo.lastRun; measured times and output tokens feed the cost model for the next plan.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CostModel } from "../../src/cost/cost-model.ts";
import { priorProfile } from "../../src/cost/profile.ts";
import { calibrationEnabled } from "../../src/frame/cost-profiles.ts";
import { halo } from "../../src/index.ts";
import { session } from "../../src/frame/session.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const PROMPT = "Summarize in one short sentence: {{text}}";
const rows = Array.from({ length: 12 }, (_, i) => ({
  id: i,
  text: `Order ${i} arrived ${i % 3 === 0 ? "late" : "on time"} and the box was ${i % 2 ? "damaged" : "fine"}.`,
}));

test("HALO_CALIBRATE and the option decide whether collect calibrates", () => {
  assert.is(calibrationEnabled(undefined, {}), true);
  assert.is(calibrationEnabled(undefined, { HALO_CALIBRATE: "0" }), false);
  assert.is(calibrationEnabled(undefined, { HALO_CALIBRATE: "off" }), false);
  assert.is(calibrationEnabled(undefined, { HALO_CALIBRATE: "1" }), true);
  assert.is(calibrationEnabled(true, { HALO_CALIBRATE: "0" }), true);
  assert.is(calibrationEnabled(false, {}), false);
});

test("collect({ calibrate: false }) plans with the prior profile", async () => {
  if (!present) return;
  const saved = session.processor.cost;
  session.processor.cost = new CostModel(priorProfile("shipped"));
  try {
    await halo
      .lazy(rows.slice(0, 2))
      .agent({ prompt: PROMPT, output: "summary", maxTokens: 4 })
      .collectRows({ reuse: false, calibrate: false });
    assert.is(session.processor.cost.profile("shipped").source, "prior");
    const bad = await halo
      .lazy(rows)
      .collectRows({ calibrate: "yes" as unknown as boolean })
      .catch((e: unknown) => e);
    assert.match(String(bad), /calibrate must be true or false/);
  } finally {
    session.processor.cost = saved;
  }
});

test("a collect calibrates lazily, fills estimatedMs for LLM nodes and learns online", async () => {
  if (!present) return;
  const lf = halo.lazy(rows).agent({ prompt: PROMPT, output: "summary", maxTokens: 24 });
  // The Processor runs the plan's batches, the shape the estimate is made for.
  await lf.collectRows({ reuse: false, calibrate: true, executor: "processor" });
  const profile = session.processor.cost.profile("shipped");
  assert.is(profile.source, "calibrated", "the shipped model's calibrated profile planned");
  const run = halo.lastRun!;
  const llm = run.nodes.filter((n) => n.kind === "LlmCall");
  assert.ok(llm.length > 0, "the run has an LLM node");
  for (const n of llm) {
    assert.ok(
      n.estimatedMs !== undefined && Number.isFinite(n.estimatedMs) && n.estimatedMs > 0,
      `node #${n.nodeId} has an estimate (${n.estimatedMs})`,
    );
    assert.ok(n.measuredMs > 0, `node #${n.nodeId} was measured`);
  }
  assert.ok(run.estimateError !== undefined, "the run reports its median estimate error");
  assert.match(run.summary(), /\(est \d+\.\dms\)/);
  const first = llm[0]!.estimatedMs!;

  // The second plan knows the node's real output length (not maxTokens) and the refit constants.
  await lf.collectRows({ reuse: false, executor: "processor" });
  const again = halo.lastRun!;
  const second = again.nodes.find((n) => n.kind === "LlmCall")!.estimatedMs!;
  assert.ok(second !== first, `the estimate moved after observing a run (${first} -> ${second})`);
  const errors = [run.estimateError!, again.estimateError!];
  console.log(
    `measure: LLM node estimated vs measured on the shipped model (${rows.length} rows, ${run.executor}): ` +
      `run 1 est ${first.toFixed(1)} ms / meas ${llm[0]!.measuredMs.toFixed(1)} ms, ` +
      `run 2 est ${second.toFixed(1)} ms / meas ${again.nodes.find((n) => n.kind === "LlmCall")!.measuredMs.toFixed(1)} ms; ` +
      `median relative error ${errors.map((e) => `${(e * 100).toFixed(0)}%`).join(", ")}`,
  );
  // Loose: a wrong unit or a missing term is off by 10x; load on 2 shared cores is not.
  assert.ok(again.estimateError! < 5, `median relative error ${again.estimateError}`);
});

test("two chained LLM nodes: each is measured by its own share of the worker, not its span", async () => {
  if (!present) return;
  await halo
    .lazy(rows)
    .agent({ prompt: PROMPT, output: "summary", maxTokens: 12 })
    .agent({
      prompt: "Is this summary about a delay? {{summary}}",
      output: "late",
      choices: ["yes", "no"],
    })
    .collectRows({ reuse: false, executor: "processor" });
  const run = halo.lastRun!;
  const llm = run.nodes.filter((n) => n.kind === "LlmCall");
  assert.is(llm.length, 2);
  const busy = run.tasks
    .filter((t) => t.lane.startsWith("llm"))
    .reduce((a, t) => a + t.endMs - t.startMs, 0);
  const own = llm.reduce((a, n) => a + n.llmMs!, 0);
  assert.ok(
    Math.abs(own - busy) <= 1e-6 * busy,
    `shares add up to the worker's time (${own} vs ${busy})`,
  );
  for (const n of llm) {
    assert.ok(
      n.llmMs! > 0 && n.llmMs! <= n.measuredMs + 1e-6,
      `#${n.nodeId}: share within its span`,
    );
  }
  const records = session.processor.cost.estimatedVsMeasured().records;
  for (const n of llm) {
    const r = records.find((x) => x.nodeId === n.nodeId)!;
    assert.is(r.measuredMs, n.llmMs, `#${n.nodeId}'s estimate is compared with its own share`);
  }
  console.log(); // uvu's progress dot ends no line
  const err = (m: (n: (typeof llm)[number]) => number) =>
    llm.map((n) => `${((Math.abs(n.estimatedMs! - m(n)) / m(n)) * 100).toFixed(0)}%`).join(", ");
  console.log(
    `measure: 2 chained LLM nodes, ${rows.length} rows: error of the estimate vs span ${err((n) => n.measuredMs)}, vs own share ${err((n) => n.llmMs!)}`,
  );
});

test.run();
