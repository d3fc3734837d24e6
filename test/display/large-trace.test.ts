// A long run (200k tasks) must still chart: no argument-spread overflow, and the SVG stays
// bounded because work is merged to the pixel and binned in time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderChartSvg } from "../../src/display/chart-bundle.ts";
import { runReportSpecs } from "../../src/display/run-report.ts";
import { timelineData } from "../../src/display/timeline-chart.ts";
import type { RunTrace, TaskRecord } from "../../src/processor/trace/trace.ts";
import { parseSvg } from "./xml-check.ts";

function bigTrace(): RunTrace {
  const tasks: TaskRecord[] = [];
  // 4 LLM workers: batches of 64 decode steps of 1.5 ms after a 20 ms prefill, 100 s in all.
  for (let w = 0; w < 4; w++) {
    let t = 0;
    while (t < 100_000) {
      tasks.push({
        lane: `llm:${w}`,
        kind: "prefill",
        nodeIds: [1],
        startMs: t,
        endMs: t + 20,
        batchSize: 16,
        prefillTokens: 800,
        cachedTokens: 2400,
      });
      t += 20;
      for (let s = 0; s < 64; s++, t += 1.5) {
        tasks.push({
          lane: `llm:${w}`,
          kind: "decode",
          nodeIds: [1],
          startMs: t,
          endMs: t + 1.5,
          batchSize: 16 - (s >> 2),
          decodeTokens: 16,
        });
      }
      t += 5;
    }
  }
  // An HTTP pool of 8 with 12k calls of 20 ms.
  for (let i = 0; i < 12_000; i++) {
    const start = Math.floor(i / 8) * 20.5;
    tasks.push({
      lane: "tool:http",
      kind: "http",
      nodeIds: [2],
      startMs: start,
      endMs: start + 20,
      batchSize: 1,
    });
  }
  const node = (nodeId: number, kind: string) => ({
    nodeId,
    label: kind,
    kind,
    rows: 1e5,
    calls: 1e5,
    measuredMs: 1,
    prefillTokens: 0,
    cachedTokens: 0,
    decodeTokens: 0,
  });
  return {
    startedAt: "2026-11-23T00:00:00Z",
    wallMs: 101_000,
    tasks,
    nodes: [node(1, "LlmCall"), node(2, "HttpCall")],
  };
}

test("200k tasks: every chart renders, the timeline stays small", async () => {
  const trace = bigTrace();
  assert.ok(trace.tasks.length > 200_000, `${trace.tasks.length} tasks`);
  const d = timelineData(trace);
  // Dense slots are drawn per pixel column: at most 640 bars per slot (4 workers + 8 HTTP slots).
  assert.ok(d.bars.length <= 12 * 640, `${d.bars.length} bars`);
  const llmBars = d.bars.filter((b) => b.lane.startsWith("llm:"));
  assert.ok(llmBars.length <= 4 * 640, `${llmBars.length} LLM bars`);
  assert.ok(
    llmBars.some((b) => /decode \d+%, prefill \d+%/.test(b.mix ?? "")),
    "mixed bars say so",
  );
  console.log(`measure: ${trace.tasks.length} tasks drawn as ${d.bars.length} bars`);
  assert.is(
    d.bars.reduce((s, b) => s + b.tasks, 0),
    trace.tasks.length,
    "every task counted once",
  );
  for (const { name, spec } of runReportSpecs(trace)) {
    const started = performance.now();
    const { svg, warnings } = await renderChartSvg(spec);
    console.log(
      `measure: ${name} of ${trace.tasks.length} tasks: ${(performance.now() - started).toFixed(0)} ms, ${(svg.length / 1024).toFixed(0)} KiB SVG`,
    );
    assert.equal(warnings, []);
    assert.ok(svg.length < 3_000_000, `${name}: ${svg.length} bytes`);
    parseSvg(svg);
  }
});

test.run();
