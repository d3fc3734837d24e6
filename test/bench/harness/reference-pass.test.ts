// The floor on the real stack: the shipped model (its tokenizer and onnxruntime), DuckDB with
// generated data and the HTTP tool server on 127.0.0.1. The reference pass sees every call a
// system makes, the floor sits below what halo and a real baseline computed, a "system" that
// answers from memory beats the floor and fails the run, and the table and JSON carry the floor
// and halo's gap to it.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateDataset } from "../../../bench/data/index.ts";
import { openLoadedDb } from "../../../bench/data/load.ts";
import { formatWorkloadTable, runFailures, toBenchJson } from "../../../bench/harness/report.ts";
import { runWorkload } from "../../../bench/harness/run-workload.ts";
import { leastDelayMs, startToolServer } from "../../../bench/http-tools/server.ts";
import { configureModels, profileOfDir } from "../../../bench/systems/models.ts";
import { halo } from "../../../bench/systems/halo.ts";
import { opwise } from "../../../bench/systems/opwise.ts";
import { getWorkload } from "../../../bench/workloads/index.ts";
import { generateInputs } from "../../../bench/workloads/inputs.ts";
import type { System, SystemOutput } from "../../../bench/harness/types.ts";

configureModels("tiny", process.env.HALO_BENCH_MODEL_DIR);
const SEED = 4;
const delays = { fastMeanMs: 2, slowMeanMs: 4 };
const db = await openLoadedDb([generateDataset("articles", { seed: SEED, scale: 0.2 })]);
const server = await startToolServer({ connection: db.connection, seed: SEED, delays });
const toolServer = {
  url: server.url,
  stats: async () => server.stats(),
  resetStats: async () => server.resetStats(),
};

// opwise, keeping its answers; then a "system" that hands them back at once, doing no work.
let remembered: SystemOutput | undefined;
const recordingOpwise: System = {
  name: "opwise",
  role: "baseline",
  async run(shape, inputs, ctx) {
    remembered = await opwise.run(shape, inputs, ctx);
    return remembered;
  },
};
const fromMemory: System = {
  name: "from-memory",
  role: "baseline",
  run: async () => remembered!,
};

const tracesDir = mkdtempSync(join(tmpdir(), "halo-traces-"));

test("lexicon-bridge, 4 queries: halo and opwise sit above the floor, answers from memory below", async () => {
  const shape = getWorkload("lexicon-bridge");
  const queries = 4;
  const r = await runWorkload({
    shape,
    inputs: generateInputs(shape, { queries, seed: SEED, repeatRate: 0.5 }),
    systems: [halo, recordingOpwise, fromMemory],
    db: db.connection,
    instance: db.instance,
    toolServer,
    seed: SEED,
    tracesDir,
    floor: {
      profile: profileOfDir,
      httpLatencyMs: (url, requests) => leastDelayMs(url, requests, SEED, delays),
    },
  });
  const [h, op, memory] = r.systems;
  assert.is(h!.error, undefined, h!.error);
  assert.is(op!.error, undefined, op!.error);
  assert.is(r.identicalOutputs, true);
  const floor = r.floor!;
  assert.ok(floor, "the floor was computed");

  // The pass saw every call the workload asks for, and merged equal ones.
  assert.is(floor.counts.llm, queries * shape.expected.llm);
  assert.is(floor.counts.tools, queries * shape.expected.tools);
  assert.ok(floor.counts.distinctLlm >= 1 && floor.counts.distinctLlm <= floor.counts.llm);
  assert.ok(floor.counts.distinctTools >= 1 && floor.counts.distinctTools <= floor.counts.tools);
  // What opwise computed (every call, prefix cache aside) bounds the floor's tokens from above:
  // it prefilled every distinct prompt position at least once and decoded every answer.
  const [model] = floor.models;
  assert.is(floor.models.length, 1, "every size runs on the shipped model");
  assert.ok(model!.prefillTokens > 0 && model!.prefillTokens <= op!.counters.prefillTokens!);
  assert.ok(model!.decodeTokens > 0 && model!.decodeTokens <= op!.counters.decodeTokens!);
  assert.ok(model!.rates.prefill.msPerToken > 0 && model!.rates.decode.msPerToken > 0);
  // The tool path: its HTTP steps at the server's least delay, the floor the larger term.
  assert.ok(floor.toolSeconds > 0 && floor.criticalPath.steps.length >= 1);
  assert.is(floor.seconds, Math.max(floor.llmSeconds, floor.toolSeconds));

  // Real systems are above the floor; the answers from memory are below it and fail the run.
  assert.ok(op!.seconds >= floor.seconds, `opwise ${op!.seconds} s, floor ${floor.seconds} s`);
  assert.ok(h!.seconds >= floor.seconds, `halo ${h!.seconds} s, floor ${floor.seconds} s`);

  // halo's trace against the floor: its parts add up to its seconds, and its work is at least
  // the floor's (every distinct prompt position prefilled, every answer decoded, step by step).
  const gap = h!.gap!;
  assert.ok(gap, "halo's gap profile");
  const parts =
    gap.llmBusySeconds +
    gap.toolWaitSeconds +
    gap.modelLoadSeconds +
    gap.idleSeconds +
    gap.outsideTraceSeconds;
  assert.ok(Math.abs(parts - h!.seconds) < 1e-6, `${parts} vs ${h!.seconds}`);
  assert.ok(gap.prefillTokens >= gap.floor.prefillTokens);
  assert.ok(gap.decodeTokens >= gap.floor.decodeTokens);
  assert.ok(floor.minDecodeSteps > 0 && gap.decodeSteps >= floor.minDecodeSteps);
  assert.is(op!.gap, undefined, "opwise keeps no trace");
  // --traces: halo's run trace, call by call, as the gap line summed it; none for opwise
  assert.equal(readdirSync(tracesDir), ["lexicon-bridge-halo.json"]);
  const written = JSON.parse(readFileSync(join(tracesDir, "lexicon-bridge-halo.json"), "utf8"));
  const prefills = written.tasks.filter((t: { kind: string }) => t.kind === "prefill");
  assert.is(prefills.length, gap.prefillCalls);
  assert.ok(memory!.seconds < floor.seconds);
  const failures = runFailures([r]);
  assert.is(failures.length, 1, failures.join("\n"));
  assert.match(failures[0]!, /^from-memory ran lexicon-bridge in \d+\.\d{3} s, below its floor of/);

  const table = formatWorkloadTable(r);
  assert.match(table, /^system\s+seconds\s+x floor\s+halo speedup/m);
  assert.match(table, /^opwise\s+\d+\.\d\d\s+\d+\.\d\dx\s/m);
  assert.match(table, /^floor: \d+\.\d{3} s, set by the (LLM work|tool path): LLM \d+\.\d{3} s/m);
  assert.match(table, /^ {2}LLM: prefill [\d,]+ tok at [\d,]+ tok\/s \(.+\) \+ decode [\d,]+ tok/m);
  assert.match(table, /^ {2}distinct calls: LLM \d+\/36, tools \d+\/12; reference pass/m);
  assert.match(table, /^halo against the floor: \d+\.\d\d s = model busy \d+\.\d\d s/m);

  const json = toBenchJson([r]).workloads[0]!;
  assert.is(json.floorSeconds, floor.seconds);
  assert.equal(Object.keys(json.floor!), [
    "llmSeconds",
    "toolSeconds",
    "bound",
    "prefillTokens",
    "decodeTokens",
    "models",
    "criticalPath",
    "calls",
    "referencePassSeconds",
  ]);
  assert.is(json.floor!.llmSeconds, floor.llmSeconds);
  assert.is(json.floor!.prefillTokens, model!.prefillTokens);
  assert.is(json.systems.opwise!.vsFloor, op!.seconds / floor.seconds);
  assert.ok(json.systems["from-memory"]!.vsFloor! < 1);
  assert.is(json.systems.halo!.gap!.decodeSteps, gap.decodeSteps);
  assert.is(json.systems.opwise!.gap, null);
});

test.after(async () => {
  await server.close();
  db.connection.closeSync();
  db.instance.closeSync();
});

test.run();
