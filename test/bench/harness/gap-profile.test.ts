// Where a system's time goes against the floor, from a hand-built trace whose parts are known.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatGap, gapProfile } from "../../../bench/harness/gap-profile.ts";
import type { Floor } from "../../../bench/harness/floor.ts";
import type { RunTrace, TaskRecord } from "../../../src/processor/trace/trace.ts";

const task = (
  lane: string,
  kind: TaskRecord["kind"],
  startMs: number,
  endMs: number,
  more: Partial<TaskRecord> = {},
): TaskRecord => ({
  lane,
  kind,
  startMs,
  endMs,
  nodeIds: [],
  batchSize: 1,
  ...more,
});

// 0-10 prefill, 10-20 decode (batch 4), 15-40 a SQL call (5 ms of it beside the decode),
// 40-50 decode (batch 2), 55-57 a KV move; the run's clock stops at 60 ms.
const trace: RunTrace = {
  startedAt: "",
  wallMs: 60,
  plannerMs: 5,
  nodes: [],
  tasks: [
    task("llm:0", "prefill", 0, 10, { prefillTokens: 100, batchSize: 3 }),
    task("llm:0", "decode", 10, 20, { decodeTokens: 4, batchSize: 4 }),
    task("tool:sql", "sql", 15, 40),
    task("llm:0", "decode", 40, 50, { decodeTokens: 2, batchSize: 2 }),
    task("llm:0", "kv-move", 55, 57),
  ],
};

const floor = {
  seconds: 0.01,
  llmSeconds: 0.01,
  models: [{ prefillTokens: 80, decodeTokens: 5 }],
  minDecodeSteps: 2,
} as unknown as Floor;

test("the parts: model busy, waiting on tools, nothing running, outside the trace", () => {
  const g = gapProfile(trace, 0.08, floor);
  assert.is(g.llmBusySeconds, 0.032); // 0-20, 40-50, 55-57 (the KV move is on the model's lane)
  assert.is(g.prefillSeconds, 0.01);
  assert.is(g.decodeSeconds, 0.02);
  assert.is(g.toolWaitSeconds, 0.02); // 20-40
  assert.is(g.idleSeconds, 0.008); // 50-55, 57-60
  assert.ok(Math.abs(g.outsideTraceSeconds - 0.02) < 1e-12);
  assert.is(g.plannerSeconds, 0.005);
  assert.is(g.kvMoveSeconds, 0.002);
  assert.equal(
    [g.prefillCalls, g.prefillTokens, g.decodeSteps, g.decodeTokens, g.meanDecodeBatch],
    [1, 100, 2, 6, 3],
  );
  assert.equal(g.floor, { llmSeconds: 0.01, prefillTokens: 80, decodeTokens: 5, decodeSteps: 2 });
  const text = formatGap("halo", g);
  assert.match(
    text,
    /^halo against the floor: 0\.08 s = model busy 0\.03 s \(40%; floor's LLM 0\.01 s\) \+ waiting on tools 0\.02 s \(25%\)/,
  );
  assert.match(
    text,
    /not saved 20\); decode 6 tok in 2 steps, mean batch 3\.0 .*at least 2 steps\)$/,
  );
  assert.is(g.modelLoadSeconds, 0);
  assert.not.match(text, /loading the model/);
});

test("a worker waiting for its model to load is its own part, not model busy", () => {
  // The same run, after 30 ms of loading the model (5 ms of it beside a SQL call).
  const shift = (t: TaskRecord): TaskRecord => ({
    ...t,
    startMs: t.startMs + 30,
    endMs: t.endMs + 30,
  });
  const loaded: RunTrace = {
    ...trace,
    wallMs: 90,
    tasks: [
      task("tool:sql", "sql", 0, 5),
      task("llm:0", "model-load", 0, 30),
      ...trace.tasks.map(shift),
    ],
  };
  const g = gapProfile(loaded, 0.11, floor);
  assert.is(g.llmBusySeconds, 0.032);
  assert.is(g.prefillCalls, 1);
  assert.is(g.modelLoadSeconds, 0.025); // 5-30: the SQL call's 0-5 is waiting on tools
  assert.is(g.toolWaitSeconds, 0.025);
  assert.is(g.idleSeconds, 0.008);
  const parts =
    g.llmBusySeconds +
    g.toolWaitSeconds +
    g.modelLoadSeconds +
    g.idleSeconds +
    g.outsideTraceSeconds;
  assert.ok(Math.abs(parts - 0.11) < 1e-12, String(parts));
  assert.match(
    formatGap("halo", g),
    / \+ loading the model 0\.03 s \(23%\) \+ nothing traced running/,
  );
});

test.run();
