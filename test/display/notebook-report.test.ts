import { test } from "uvu";
import * as assert from "uvu/assert";
import { bundleFor } from "../../src/display/auto-bundle.ts";
import { chartBundle } from "../../src/display/chart-bundle.ts";
import { DISPLAY_SYMBOL } from "../../src/display/host.ts";
import { notebookReportHtml, type NotebookLike } from "../../src/display/notebook-report.ts";
import { RunReport } from "../../src/display/run-report.ts";
import { pipelineTrace } from "./fixtures.ts";
import { allElements, parseXml } from "./xml-check.ts";

test("the report shows every chart as inline SVG, text escaped, errors without ANSI codes", async () => {
  const chart = await chartBundle({
    title: "n per kind",
    data: { values: [{ k: "a", n: 1 }] },
    mark: "bar",
    encoding: { x: { field: "k", type: "nominal" }, y: { field: "n", type: "quantitative" } },
  });
  const svgOnly = { "image/svg+xml": chart["image/svg+xml"], "text/plain": "chart" };
  const nb: NotebookLike = {
    cells: [
      { cell_type: "markdown", source: ["# Title <script>x</script>"] },
      {
        cell_type: "code",
        source: "df.collect()",
        execution_count: 1,
        outputs: [
          { output_type: "stream", name: "stderr", text: "collect 4/4 rows & done\n" },
          { output_type: "display_data", data: chart },
          { output_type: "execute_result", data: svgOnly, execution_count: 1 },
          { output_type: "display_data", data: { "text/plain": "1 < 2" } },
          {
            output_type: "error",
            ename: "Error",
            evalue: "boom",
            traceback: ["\u001b[31mError\u001b[0m: boom"],
          },
        ],
      },
    ],
  };
  const html = notebookReportHtml(nb);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.is((html.match(/<svg /g) ?? []).length, 2, "both chart outputs visible as SVG");
  assert.not.match(html, /<script>/);
  assert.match(html, /1 &lt; 2/);
  assert.match(html, /collect 4\/4 rows &amp; done/);
  assert.not.ok(html.includes("\u001b"), "ANSI codes stripped");
  assert.match(html, /In \[1\]:/);
  // The body is well-formed markup (the <!DOCTYPE> and void <meta> aside).
  const body = html.slice(html.indexOf("<body>"), html.indexOf("</html>"));
  const root = parseXml(body);
  assert.ok(allElements(root).some((e) => e.name === "svg"));
});

test("bundleFor: display symbol (sync or async), tables, plain values", async () => {
  assert.equal(await bundleFor({ [DISPLAY_SYMBOL]: () => ({ "text/plain": "hi" }) }), {
    "text/plain": "hi",
  });
  const report = await bundleFor(new RunReport(pipelineTrace()));
  assert.ok(report && "application/vnd.vegalite.v5+json" in report);
  const { tableFromArrays } = await import("apache-arrow");
  const t = await bundleFor(tableFromArrays({ a: Int32Array.from([1, 2]) }));
  assert.match(t!["text/plain"] as string, /2 rows × 1 column/);
  assert.is(await bundleFor(42), undefined);
  assert.is(await bundleFor({ a: 1 }), undefined);
  try {
    await bundleFor({ [DISPLAY_SYMBOL]: () => "text" });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /must return a mime bundle object/);
  }
});

test.run();
