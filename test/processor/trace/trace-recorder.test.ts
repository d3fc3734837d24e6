import { test } from "uvu";
import * as assert from "uvu/assert";
import { TraceRecorder, busyMsByLane } from "../../../src/processor/trace/trace-recorder.ts";

test("tasks are timed on one run clock; node stats add up", () => {
  let t = 100;
  const trace = new TraceRecorder(() => t);
  t = 105;
  const a = trace.begin("llm:0", "prefill", [2]);
  t = 112;
  a.end({ batchSize: 4, prefillTokens: 80, cachedTokens: 20 });
  a.end(); // idempotent
  trace.record({
    lane: "tool:http",
    kind: "http",
    nodeIds: [3],
    startMs: 1,
    endMs: 9,
    batchSize: 1,
  });
  trace.addNodeStats(2, { label: "summary", kind: "LlmCall" }, { rows: 4, prefillTokens: 80 });
  trace.addNodeStats(2, { label: "summary", kind: "LlmCall" }, { rows: 2, estimatedMs: 7 });
  trace.addNodeStats(2, { label: "summary", kind: "LlmCall" }, { estimatedMs: 9 });
  trace.plannerMs = 3;
  t = 130;
  const run = trace.finish();
  assert.is(run.wallMs, 30);
  assert.equal(
    run.tasks.map((x) => [x.lane, x.startMs, x.endMs]),
    [
      ["tool:http", 1, 9],
      ["llm:0", 5, 12],
    ],
  );
  assert.equal(run.tasks[1], {
    batchSize: 4,
    prefillTokens: 80,
    cachedTokens: 20,
    nodeIds: [2],
    lane: "llm:0",
    kind: "prefill",
    startMs: 5,
    endMs: 12,
  });
  assert.equal(run.nodes[0]!.rows, 6);
  assert.equal(run.nodes[0]!.estimatedMs, 9);
  assert.is(run.plannerMs, 3);
  assert.throws(
    () => trace.record({ lane: "x", kind: "sql", nodeIds: [], startMs: 5, endMs: 1, batchSize: 1 }),
    /ends .* before it starts/,
  );
});

test("busy time per lane counts overlapping tasks once", () => {
  const task = (lane: string, startMs: number, endMs: number) => ({
    lane,
    kind: "http" as const,
    nodeIds: [],
    startMs,
    endMs,
    batchSize: 1,
  });
  const busy = busyMsByLane([
    task("a", 0, 10),
    task("a", 5, 15),
    task("a", 20, 25),
    task("b", 3, 4),
  ]);
  assert.is(busy.get("a"), 20);
  assert.is(busy.get("b"), 1);
});

test.run();
