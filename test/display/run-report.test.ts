import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderChartSvg, VEGA_LITE_MIME } from "../../src/display/chart-bundle.ts";
import { DISPLAY_SYMBOL, type MimeBundle } from "../../src/display/host.ts";
import { costSpec, MAX_NODE_ROWS } from "../../src/display/node-charts.ts";
import {
  RunReport,
  runReportBundles,
  runReportSpecs,
  runSummaryText,
} from "../../src/display/run-report.ts";
import { timelineData } from "../../src/display/timeline-chart.ts";
import type { RunTrace } from "../../src/processor/trace/trace.ts";
import { pipelineTrace, smallTrace } from "./fixtures.ts";
import { byClass, parseSvg } from "./xml-check.ts";

function assertChartBundle(b: MimeBundle): void {
  for (const mime of [VEGA_LITE_MIME, "image/svg+xml", "text/html", "text/plain"]) {
    assert.ok(mime in b, `missing ${mime}`);
  }
  assert.type(b[VEGA_LITE_MIME], "object");
  parseSvg(b["image/svg+xml"] as string);
  assert.ok((b["text/html"] as string).includes("<svg"), "html carries the SVG");
}

test("a full pipeline trace yields all five charts, each compiling without warnings", async () => {
  const specs = runReportSpecs(pipelineTrace());
  assert.equal(
    specs.map((s) => s.name),
    ["timeline", "cost", "tokens", "cache-hit-rate", "batch-size"],
  );
  for (const { name, spec } of specs) {
    const { svg, warnings } = await renderChartSvg(spec);
    assert.equal(warnings, [], `${name}: ${warnings.join("; ")}`);
    const root = parseSvg(svg);
    // Charts stay about their set width: a long subtitle must not widen the SVG.
    assert.ok(Number(root.attrs["width"]) < 1200, `${name} is ${root.attrs["width"]} px wide`);
  }
});

test("timeline: lanes in reading order, pools packed, decode steps merged, idle gaps present", () => {
  const trace = pipelineTrace();
  const d = timelineData(trace);
  assert.equal(d.lanes, ["llm:0", "llm:1", "tool:sql", "tool:http", "tool:function", "cpu"]);
  assert.is(d.laneLabels[3], "HTTP pool (4 at once)");
  // Overlapping HTTP calls must not overlap as drawn: within a lane, bars in one sub-row are disjoint.
  const http = d.bars.filter((b) => b.lane === "tool:http");
  assert.is(new Set(http.map((b) => b.y)).size, 4);
  for (const row of new Set(http.map((b) => b.y))) {
    const rowBars = http.filter((b) => b.y === row).sort((a, b) => a.start - b.start);
    for (let i = 1; i < rowBars.length; i++) {
      assert.ok(rowBars[i]!.start >= rowBars[i - 1]!.end - 1.5, "bars in a sub-row overlap");
    }
  }
  assert.is(http.length, 60, "each HTTP call stays its own bar");
  // Decode steps of a batch merge; the total count of merged tasks is preserved.
  const decodeTasks = trace.tasks.filter((t) => t.kind === "decode").length;
  const decodeBars = d.bars.filter((b) => b.kind === "decode");
  assert.ok(decodeBars.length < decodeTasks / 5, `${decodeBars.length} decode bars`);
  assert.is(
    d.bars.reduce((s, b) => s + b.tasks, 0),
    trace.tasks.length,
  );
  // The LLM workers wait for HTTP results early on: idle gaps on both.
  for (const lane of ["llm:0", "llm:1"]) {
    assert.ok(d.idle.filter((g) => g.lane === lane).length >= 3, `${lane} idle gaps`);
  }
  // Idle never overlaps a busy bar of the same lane.
  for (const g of d.idle) {
    for (const b of d.bars.filter((x) => x.lane === g.lane)) {
      // Bars are widened to at least 1 px (3.28 s / 640 px = 5.1 ms), never more.
      assert.ok(b.end <= g.start + 5.2 || b.start >= g.end - 1e-6, "idle overlaps work");
    }
  }
});

test("timeline SVG draws one rect per bar and idle segment", async () => {
  const trace = pipelineTrace();
  const d = timelineData(trace);
  const spec = runReportSpecs(trace).find((s) => s.name === "timeline")!.spec;
  const svg = parseSvg((await renderChartSvg(spec)).svg);
  const rects = byClass(svg, "mark-rect");
  assert.is(rects.length, 1);
  assert.is(rects[0]!.children.length, d.bars.length + d.idle.length);
});

test("a run with no cost estimates draws measured cost only, and says so", () => {
  const spec = costSpec(smallTrace())!;
  const title = spec["title"] as { text: string; subtitle: string[] };
  assert.is(title.text, "Measured cost per plan node");
  assert.match(title.subtitle.join(" "), /no cost estimates/);
  // A single prefill makes no hit-rate trend: that chart is left out, the summary has the rate.
  assert.equal(
    runReportSpecs(smallTrace()).map((s) => s.name),
    ["timeline", "cost", "tokens", "batch-size"],
  );
  assert.match(runSummaryText(smallTrace()), /0% of prompt/);
});

test("plans with many nodes chart the costliest 24 and say so", () => {
  const nodes = Array.from({ length: 60 }, (_, i) => ({
    nodeId: i,
    label: `LlmCall n${i}`,
    kind: "LlmCall",
    rows: 10,
    calls: 10,
    measuredMs: i === 7 ? 5000 : i,
    estimatedMs: i,
    prefillTokens: i * 10,
    cachedTokens: i,
    decodeTokens: 1,
  }));
  const trace: RunTrace = { startedAt: "2026-11-23T00:00:00Z", wallMs: 6000, tasks: [], nodes };
  const cost = costSpec(trace)!;
  const shown = new Set((cost["data"] as { values: { node: string }[] }).values.map((r) => r.node));
  assert.is(shown.size, MAX_NODE_ROWS);
  assert.ok(shown.has("#7 LlmCall n7"), "the slowest node is kept");
  assert.ok(shown.has("#59 LlmCall n59"));
  assert.not.ok(shown.has("#8 LlmCall n8"));
  const sub = (cost["title"] as { subtitle: string[] }).subtitle.join(" ");
  assert.match(sub, /the 24 costliest of 60 nodes/);
  assert.match(sub, /measured 6\.\d+ s/, "totals count every node");
});

test("an empty trace shows the summary only; a run without LLM work has no token charts", async () => {
  const empty: RunTrace = { startedAt: "2026-11-23T00:00:00Z", wallMs: 0, tasks: [], nodes: [] };
  const bundles = await runReportBundles(empty);
  assert.is(bundles.length, 1);
  assert.match(bundles[0]!["text/plain"] as string, /0 tasks/);
  const toolsOnly: RunTrace = {
    startedAt: "2026-11-23T00:00:00Z",
    wallMs: 30,
    tasks: [{ lane: "tool:sql", kind: "sql", nodeIds: [1], startMs: 2, endMs: 20, batchSize: 1 }],
    nodes: [
      {
        nodeId: 1,
        label: "SqlCall q",
        kind: "SqlCall",
        rows: 5,
        calls: 1,
        measuredMs: 18,
        prefillTokens: 0,
        cachedTokens: 0,
        decodeTokens: 0,
      },
    ],
  };
  assert.equal(
    runReportSpecs(toolsOnly).map((s) => s.name),
    ["timeline", "cost"],
  );
});

test("runReportBundles: summary, then one full chart bundle per chart", async () => {
  const bundles = await runReportBundles(pipelineTrace());
  assert.is(bundles.length, 6);
  const summary = bundles[0]!["text/plain"] as string;
  assert.match(summary, /3\.28 s wall/);
  assert.match(summary, /73% of prompt/);
  assert.match(summary, /LLM worker 0 \d+%/);
  for (const b of bundles.slice(1)) assertChartBundle(b);
});

test("RunReport displays itself as one bundle with a vconcat vega-lite spec", async () => {
  const report = new RunReport(pipelineTrace());
  const b = await report[DISPLAY_SYMBOL]();
  assertChartBundle(b);
  const spec = b[VEGA_LITE_MIME] as { vconcat: unknown[]; $schema: string };
  assert.is(spec.vconcat.length, 5);
  assert.match(spec.$schema, /vega-lite\/v5/);
  assert.match(b["text/html"] as string, /halo-run-summary/);
  assert.is(String(report), runSummaryText(report.trace));
  const shown: MimeBundle[] = [];
  await report.show({ rich: true, display: (x) => void shown.push(x) });
  assert.is(shown.length, 6);
});

test("a RunReport of something that is not a trace says what to do", () => {
  assert.throws(() => new RunReport({} as RunTrace), /expected a RunTrace.*collect\(\)/);
});

test.run();
