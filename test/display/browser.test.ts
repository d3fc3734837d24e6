// What a user sees: a real classic notebook server (Debian jupyter-notebook 6.4) with the Halo
// kernel, driven through Debian's chromium by playwright-core. A small notebook (an `.agent` with
// `choices` over six rows of the quickstart's reviews, `collect()`, `explain()`, `halo.lastRun`)
// is run with Cell > Run All, then the page is checked: the kernel's name in the toolbar, the
// result as an HTML table, the progress output replaced by its final state, the plan drawing and
// the run charts as SVG with marks (notebook 6 has no vega-lite renderer and no Debian extension
// adds one, so it shows the bundle's text/html, which holds vega's SVG inline; the spec itself
// must not leak out as raw JSON), and no error or stderr output. Every wait is on a DOM state.
// Screenshot of the charts: out/notebook-charts.png, and docs/img/notebook-charts.png when
// HALO_UPDATE_DOCS_IMG=1 (so a plain test run leaves the tracked image alone).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasCommand, needSystem } from "../helpers/system.ts";
import { CHROMIUM, errorOutputs, launchChromium, runAllCells } from "./chromium.ts";
import { hasClassicNotebook, startNotebookServer } from "./notebook-server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KERNEL_DISPLAY_NAME = "Halo (TypeScript)";
/** Cold kernel start (danfo import, model load) plus six rows and three charts: 10-20 s here. */
const RUN_TIMEOUT_MS = 90_000;

const CELLS = [
  `const reviews = (await dfd.readCSV("data/reviews.csv")).head(6);
reviews`,
  `const labelled = reviews.agent({
  name: "sentiment",
  prompt: "Classify the sentiment of this review as positive, negative or neutral.\\nReview: {{review}}",
  choices: ["positive", "negative", "neutral"],
  output: "sentiment",
});
const result = await labelled.collect();
result`,
  `console.log(labelled.explain());
labelled`,
  `halo.lastRun`,
];

function notebookJson(): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: "halo", display_name: KERNEL_DISPLAY_NAME, language: "typescript" },
        language_info: { name: "typescript" },
      },
      cells: CELLS.map((source, i) => ({
        id: `cell-${i}`,
        cell_type: "code",
        metadata: {},
        execution_count: null,
        outputs: [],
        source,
      })),
    },
    null,
    1,
  );
}

/** Both Debian packages present (else a skip notice; under CI=true a failure). */
function haveBrowserAndNotebook(): boolean {
  return (
    needSystem("chromium", () => hasCommand(CHROMIUM), "apt-get install -y chromium") &&
    needSystem("jupyter-notebook 6", hasClassicNotebook, "apt-get install -y jupyter-notebook")
  );
}

test("the classic notebook runs a Halo notebook and shows its table, plan and charts", async () => {
  if (!haveBrowserAndNotebook()) return;
  const server = await startNotebookServer();
  const browser = await launchChromium();
  const pageErrors: string[] = [];
  try {
    mkdirSync(join(server.notebookDir, "data"));
    copyFileSync(
      join(ROOT, "notebooks", "data", "reviews.csv"),
      join(server.notebookDir, "data", "reviews.csv"),
    );
    writeFileSync(join(server.notebookDir, "browser.ipynb"), notebookJson());

    const tab = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    tab.setDefaultTimeout(RUN_TIMEOUT_MS);
    tab.on("pageerror", (e) => pageErrors.push(e.message));
    await tab.goto(`${server.baseUrl}/notebooks/browser.ipynb?token=${server.token}`);

    // The toolbar names the kernel from its kernelspec, and the kernel comes up idle.
    await tab.waitForSelector("#kernel_indicator_icon.kernel_idle_icon");
    const kernelName = await tab.textContent("#kernel_indicator .kernel_indicator_name");
    assert.is(kernelName?.trim(), KERNEL_DISPLAY_NAME);
    assert.is(await tab.locator(".code_cell").count(), CELLS.length);

    // Run everything the way a user does: the Cell menu, then Run All.
    await runAllCells(tab, CELLS.length, RUN_TIMEOUT_MS);
    const prompts = await tab.$$eval(".code_cell .input_prompt", (els) =>
      els.map((e) => (e.textContent ?? "").replace(/\s+/g, " ").trim()),
    );
    assert.equal(
      prompts,
      CELLS.map((_, i) => `In [${i + 1}]:`),
    );

    // No error output anywhere, and nothing on stderr (a warning would show as a red box).
    const errors = await errorOutputs(tab);
    assert.equal(errors, [], "error or stderr outputs");

    const cell = (i: number) => tab.locator(".code_cell").nth(i);

    // Cell 1: the source rows as an HTML table with the shape.
    const sourceTable = cell(0).locator(".output_html table.dataframe");
    assert.is(await sourceTable.count(), 1, "source rows as an HTML table");
    assert.is(await sourceTable.locator("tbody tr").count(), 6);

    // Cell 2: the progress output was replaced in place by its final state (one bar, done), and
    // the result table has a sentiment column holding only the allowed labels.
    const progress = cell(1).locator(".halo-progress");
    assert.is(await progress.count(), 1, "one progress output, updated in place");
    const progressText = (await progress.textContent()) ?? "";
    assert.match(progressText, /done/);
    assert.not.match(progressText, /remaining/);
    const table = cell(1).locator(".output_html table.dataframe");
    assert.is(await table.count(), 1, "result as an HTML table");
    const headers = await table.locator("thead th").allTextContents();
    const sentimentCol = headers.findIndex((h) => h.trim() === "sentiment");
    assert.ok(sentimentCol > 0, `a sentiment column in ${headers.join(", ")}`);
    const labels = await table
      .locator(`tbody tr td:nth-child(${sentimentCol + 1})`)
      .allTextContents();
    assert.is(labels.length, 6);
    for (const l of labels) assert.ok(["positive", "negative", "neutral"].includes(l.trim()), l);

    // Cell 3: explain() text on stdout, and the frame displays its plan drawn as SVG.
    const explainText = (await cell(2).locator(".output_stdout").textContent()) ?? "";
    assert.match(explainText, /LlmCall/);
    const planNodes = await cell(2).locator(".halo-plan svg .plan-node").count();
    assert.ok(planNodes >= 2, `${planNodes} plan nodes drawn`);

    // Cell 4: the run charts as SVG with visible marks, not the vega-lite JSON or text fallback.
    const charts = cell(3).locator(".output_html .halo-chart svg");
    assert.ok((await charts.count()) >= 1, "run charts as SVG");
    const chart = await charts.first().evaluate((svg) => {
      const r = svg.getBoundingClientRect();
      const marks = [...svg.querySelectorAll(".role-mark path, .role-mark rect")];
      return {
        w: r.width,
        h: r.height,
        visibleMarks: marks.filter((m) => {
          const b = m.getBoundingClientRect();
          return b.width > 0 && b.height > 0;
        }).length,
        titles: [...svg.querySelectorAll(".role-title-text")].map((t) => t.textContent),
      };
    });
    assert.ok(chart.w > 300 && chart.h > 200, `chart laid out ${chart.w}x${chart.h}`);
    assert.ok(chart.visibleMarks > 10, `${chart.visibleMarks} visible chart marks`);
    assert.ok(chart.titles.length >= 2, `chart titles: ${chart.titles.join(" | ")}`);
    const chartOutputText = (await cell(3).locator(".output_area").allTextContents()).join("\n");
    assert.not.match(chartOutputText, /\$schema|vega-lite/, "no raw vega-lite JSON");
    assert.is(await cell(3).locator(".output_text").count(), 0, "no text/plain fallback shown");
    console.log(
      `measure: ${chart.visibleMarks} visible marks, ${planNodes} plan nodes; titles: ${chart.titles.join(" | ")}`,
    );

    // The charts as the user sees them, for a person to look at (and the README).
    const out = join(ROOT, "out");
    mkdirSync(out, { recursive: true });
    const shot = join(out, "notebook-charts.png");
    await cell(3).locator(".output_subarea").first().screenshot({ path: shot });
    // The notebook scrolls inside #site, so a full-page shot needs a window as tall as the
    // notebook, scrolled to its top (kernel name, tables, plan and charts in one picture).
    const height = await tab.$eval("#notebook-container", (e) => e.scrollHeight);
    await tab.setViewportSize({ width: 1280, height: Math.min(6000, height + 200) });
    await tab.$eval("#site", (e) => e.scrollTo(0, 0));
    await tab.screenshot({ path: join(out, "notebook-page.png") });
    console.log(`measure: screenshots at ${shot} and out/notebook-page.png`);
    if (process.env.HALO_UPDATE_DOCS_IMG === "1")
      copyFileSync(shot, join(ROOT, "docs", "img", "notebook-charts.png"));
  } catch (e) {
    console.log(`notebook server log:\n${server.log().slice(-4000)}`);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
  if (pageErrors.length) console.log(`notice: page errors: ${pageErrors.join("; ")}`);
});

test("the quickstart notebook itself runs in the browser: tables and charts as SVG, no errors", async () => {
  if (!haveBrowserAndNotebook()) return;
  const server = await startNotebookServer();
  const browser = await launchChromium();
  try {
    // The quickstart as shipped, beside its data (it reads data/reviews.csv relative to itself).
    mkdirSync(join(server.notebookDir, "data"));
    copyFileSync(
      join(ROOT, "notebooks", "data", "reviews.csv"),
      join(server.notebookDir, "data", "reviews.csv"),
    );
    copyFileSync(
      join(ROOT, "notebooks", "01-quickstart.ipynb"),
      join(server.notebookDir, "01-quickstart.ipynb"),
    );
    const tab = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    tab.setDefaultTimeout(RUN_TIMEOUT_MS);
    await tab.goto(`${server.baseUrl}/notebooks/01-quickstart.ipynb?token=${server.token}`);
    await tab.waitForSelector("#kernel_indicator_icon.kernel_idle_icon");
    assert.is(
      (await tab.textContent("#kernel_indicator .kernel_indicator_name"))?.trim(),
      KERNEL_DISPLAY_NAME,
    );
    const cells = await tab.locator(".code_cell").count();
    assert.ok(cells >= 4, `${cells} code cells`);
    await runAllCells(tab, cells, RUN_TIMEOUT_MS);
    const errors = await errorOutputs(tab);
    assert.equal(errors, [], "error or stderr outputs");
    assert.ok((await tab.locator(".output_html table.dataframe").count()) >= 1, "a result table");
    const marks = await tab.$$eval(".output_html .halo-chart svg", (svgs) =>
      svgs.map(
        (svg) =>
          [...svg.querySelectorAll(".role-mark path, .role-mark rect")].filter((m) => {
            const b = m.getBoundingClientRect();
            return b.width > 0 && b.height > 0;
          }).length,
      ),
    );
    assert.ok(marks.length >= 1, "the quickstart's charts render as SVG");
    assert.ok(
      marks.every((n) => n > 0),
      `every chart has visible marks: ${marks.join(", ")}`,
    );
    const text = (await tab.locator(".output_area").allTextContents()).join("\n");
    assert.not.match(text, /"\$schema"/, "no raw vega-lite JSON");
    console.log(
      `measure: quickstart in the browser: ${cells} cells, charts with ${marks.join(", ")} marks`,
    );
  } catch (e) {
    console.log(`notebook server log:\n${server.log().slice(-4000)}`);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});

test.run();
