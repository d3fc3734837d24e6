// A real browser renders what the displays emit: the notebook report page holding the run report,
// the plan drawing and a table, opened in Debian's chromium through playwright-core. Checks the
// SVGs lay out with visible marks (not just that the markup parses) and saves a screenshot to
// out/display-report.png to look at. The notebook-in-browser test needs the kernel (issue 8).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { explainBundle } from "../../src/display/explain.ts";
import { notebookReportHtml } from "../../src/display/notebook-report.ts";
import { runReportBundle } from "../../src/display/run-report.ts";
import { dataFrameBundle } from "../../src/display/table.ts";
import { hasCommand, needSystem } from "../helpers/system.ts";
import { pipelineTrace, planGraph } from "./fixtures.ts";
import { CHROMIUM, launchChromium } from "./chromium.ts";

test("chromium draws the report's charts, plan and table", async () => {
  if (!needSystem("chromium", () => hasCommand(CHROMIUM), "apt-get install -y chromium")) return;
  const report = await runReportBundle(pipelineTrace());
  const plan = await explainBundle("Sink\n  LlmCall sentiment", planGraph());
  const table = dataFrameBundle([{ id: 1, text: "<b>not bold</b>" }]);
  const html = notebookReportHtml({
    cells: [
      {
        cell_type: "code",
        source: "halo.lastRun",
        execution_count: 1,
        outputs: [{ output_type: "execute_result", data: report }],
      },
      {
        cell_type: "code",
        source: "frame",
        execution_count: 2,
        outputs: [{ output_type: "execute_result", data: plan }],
      },
      {
        cell_type: "code",
        source: "rows",
        execution_count: 3,
        outputs: [{ output_type: "execute_result", data: table }],
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), "halo-display-"));
  const page = join(dir, "report.html");
  writeFileSync(page, html);
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await tab.goto(pathToFileURL(page).href);
    const svgs = await tab.$$eval("svg", (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return {
          w: r.width,
          h: r.height,
          marks: e.querySelectorAll(".role-mark path, .role-mark rect").length,
          nodes: e.querySelectorAll(".plan-node").length,
        };
      }),
    );
    assert.is(svgs.length, 2, "run report and plan drawing");
    for (const s of svgs) assert.ok(s.w > 300 && s.h > 200, `svg laid out ${s.w}x${s.h}`);
    assert.ok(svgs[0]!.marks > 200, `${svgs[0]!.marks} chart marks`);
    assert.is(svgs[1]!.nodes, planGraph().nodes.length);
    // The clip paths resolve inside their own SVG: the timeline's bars are visible, not clipped
    // away (a bar's painted box has area).
    const visibleBars = await tab.$$eval(
      ".mark-rect.role-mark path",
      (els) =>
        els.filter((e) => {
          const r = e.getBoundingClientRect();
          return r.width > 0 && r.height > 0;
        }).length,
    );
    assert.ok(visibleBars > 100, `${visibleBars} visible timeline bars`);
    assert.is(await tab.$$eval("td b", (els) => els.length), 0, "cell text stays text");
    const out = fileURLToPath(new URL("../../out/", import.meta.url));
    mkdirSync(out, { recursive: true });
    await tab.screenshot({ path: join(out, "display-report.png"), fullPage: true });
    console.log(`measure: screenshot at ${join(out, "display-report.png")}`);
  } finally {
    await browser.close();
  }
});

test.run();
