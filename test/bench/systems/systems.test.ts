// The six workloads as Halo plans, and every system on the real stack (the shipped model, DuckDB
// with the generated data, the HTTP tool server on 127.0.0.1) giving identical outputs on a few
// queries. Small on purpose: the bench itself measures; this checks the systems agree.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateDataset } from "../../../bench/data/index.ts";
import { openLoadedDb } from "../../../bench/data/load.ts";
import { runWorkload } from "../../../bench/harness/run-workload.ts";
import { startToolServer } from "../../../bench/http-tools/server.ts";
import { DEFAULT_SYSTEMS, SYSTEMS } from "../../../bench/systems/index.ts";
import { configureModels } from "../../../bench/systems/models.ts";
import { buildFrame, workflowYaml } from "../../../bench/systems/plan.ts";
import { StepSet } from "../../../bench/systems/steps.ts";
import { countNodes } from "../../../bench/workloads/graph.ts";
import { getWorkload, WORKLOADS } from "../../../bench/workloads/index.ts";
import { generateInputs } from "../../../bench/workloads/inputs.ts";
import { PASS_NAMES } from "../../../src/plan/optimize.ts";
import { validateDag } from "../../../src/plan/validate.ts";

// The shipped model (models/halo-tiny); HALO_BENCH_MODEL_DIR points elsewhere while it lands.
configureModels("tiny", process.env.HALO_BENCH_MODEL_DIR);

const db = await openLoadedDb([
  generateDataset("imdb", { seed: 3, scale: 0.2 }),
  generateDataset("articles", { seed: 3, scale: 0.2 }),
  generateDataset("tpch", { seed: 3, scale: 0.01 }),
]);
const server = await startToolServer({
  connection: db.connection,
  seed: 3,
  delays: { fastMeanMs: 2, slowMeanMs: 4 },
});
const toolServer = {
  url: server.url,
  stats: async () => server.stats(),
  resetStats: async () => server.resetStats(),
};
const env = { instance: db.instance, toolServerUrl: server.url };

test("each workload's plan builds, validates, and has the shape's LLM and tool nodes", () => {
  for (const shape of WORKLOADS) {
    const inputs = generateInputs(shape, { queries: 4, seed: 3 }).rows;
    const yaml = workflowYaml(shape, server.url);
    assert.match(yaml, new RegExp(`name: ${shape.name}`));
    const { frame } = buildFrame(shape, inputs, env);
    const dag = frame.plan({ optimized: false });
    validateDag(dag);
    const kinds = dag.nodes.map((n) => n.kind);
    const llm = kinds.filter((k) => k === "LlmCall").length;
    const tools = kinds.filter((k) => k === "SqlCall" || k === "HttpCall" || k === "FnCall").length;
    assert.equal({ llm, tools }, countNodes(shape), shape.name);
    // Every LLM node runs on a bench model name; every SQL node on the bench database.
    for (const n of dag.nodes) {
      if (n.kind === "LlmCall") assert.match(n.args.modelKey, /^bench-(small|medium|large)$/);
      if (n.kind === "SqlCall") assert.match(n.args.dbKey, /^duckdb:bench-/);
    }
    // The baselines' steps come out of the same plan, in a topological order.
    const steps = new StepSet(shape, inputs, env).steps;
    assert.equal(steps.length, shape.nodes.length, shape.name);
    const seen = new Set<string>();
    for (const s of steps) {
      for (const d of s.deps) assert.ok(seen.has(d), `${shape.name}: ${s.id} before ${d}`);
      seen.add(s.id);
    }
  }
});

test("systems are named as issue 9 asks, one ablation per optimizer pass and Processor feature", () => {
  assert.equal(
    DEFAULT_SYSTEMS.map((s) => s.name),
    ["halo", "per-request", "opwise", "langgraph"],
  );
  const ablations = SYSTEMS.filter((s) => s.name.startsWith("halo-no-")).map((s) => s.name);
  assert.is(ablations.length, PASS_NAMES.length + 3);
  for (const name of [
    "halo-no-dedupe-calls",
    "halo-no-prefix-cache",
    "halo-no-continuous-batching",
    "halo-no-tool-cache",
  ])
    assert.ok(ablations.includes(name), name);
});

test("Processor ablations give halo's outputs (tpch-trident, 3 queries)", async () => {
  const shape = getWorkload("tpch-trident");
  const names = [
    "halo",
    "halo-no-prefix-cache",
    "halo-no-continuous-batching",
    "halo-no-tool-cache",
  ];
  const r = await runWorkload({
    shape,
    inputs: generateInputs(shape, { queries: 3, seed: 5, repeatRate: 0.5 }),
    systems: names.map((n) => SYSTEMS.find((s) => s.name === n)!),
    db: db.connection,
    instance: db.instance,
    toolServer,
    seed: 5,
  });
  for (const m of r.systems) assert.is(m.error, undefined, `${m.name}: ${m.error}`);
  assert.is(r.identicalOutputs, true, JSON.stringify(r.systems.map((m) => m.outputHash)));
});

for (const name of ["movies-diamond", "tpch-trident"]) {
  test(`${name}: halo, per-request, opwise and langgraph give identical outputs on 3 queries`, async () => {
    const shape = getWorkload(name);
    const inputs = generateInputs(shape, { queries: 3, seed: 3, repeatRate: 0.5 });
    const r = await runWorkload({
      shape,
      inputs,
      systems: DEFAULT_SYSTEMS,
      db: db.connection,
      instance: db.instance,
      toolServer,
      seed: 3,
    });
    for (const m of r.systems) {
      assert.is(m.error, undefined, `${m.name}: ${m.error}`);
      console.log(
        `measure: ${name} ${m.name} ${m.seconds.toFixed(2)} s, prefill ${m.counters.prefillTokens}, cached ${m.counters.cachedTokens}, decode ${m.counters.decodeTokens}, tools ${m.toolCallsExecuted}`,
      );
      // Baselines make every call of every query; halo's optimizer may merge equal ones.
      if (m.role === "baseline") assert.is(m.counters.llmCalls, 3 * shape.expected.llm, m.name);
      else assert.ok(m.counters.llmCalls! <= 3 * shape.expected.llm, m.name);
    }
    assert.is(r.identicalOutputs, true, JSON.stringify(r.systems.map((m) => m.outputHash)));
  });
}

test.after(async () => {
  await server.close();
  db.connection.closeSync();
  db.instance.closeSync();
});

test.run();
