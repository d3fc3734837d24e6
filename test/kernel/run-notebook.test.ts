import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const halo = fileURLToPath(new URL("../../bin/halo.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "halo-run-"));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [halo, "run", ...args], { encoding: "utf8" });

interface Cell {
  cell_type: string;
  execution_count?: number | null;
  outputs?: {
    output_type: string;
    text?: string;
    data?: Record<string, unknown>;
    ename?: string;
  }[];
}

test("halo run executes a fixture notebook and writes the notebook and the report", () => {
  const file = join(out, "basic.ipynb");
  const r = run(join(fixtures, "basic.ipynb"), "--out", file, "--report");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`wrote ${file}`));
  const nb = JSON.parse(readFileSync(file, "utf8")) as {
    cells: Cell[];
    metadata: { kernelspec: { name: string } };
  };
  assert.is(nb.metadata.kernelspec.name, "halo");
  const code = nb.cells.filter((c) => c.cell_type === "code");
  assert.equal(
    code.map((c) => c.execution_count),
    code.map((_, i) => i + 1),
  );
  assert.is(code[0]!.outputs![0]!.text, "2 rows\n");
  assert.is(code[1]!.outputs![0]!.data!["text/plain"], "4");
  // the update replaced the progress display in place
  const progress = code[4]!.outputs!;
  assert.is(progress.length, 1);
  assert.is(progress[0]!.data!["text/plain"], "100%");
  const html = readFileSync(join(out, "basic.html"), "utf8");
  assert.match(html, /<h1>Fixture<\/h1>/);
  // the inline SVG and the Vega-Lite chart drawn to SVG
  assert.ok((html.match(/<svg/g) ?? []).length >= 2);
  assert.match(html, /100%/);
});

test("halo run exits 1 at a failing cell and does not run the cells after it", () => {
  const file = join(out, "failing.ipynb");
  const r = run(join(fixtures, "failing.ipynb"), "--out", file);
  assert.is(r.status, 1);
  assert.match(r.stderr, /cell 2 failed: Error: this cell fails/);
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: Cell[] };
  assert.is(nb.cells[1]!.outputs![0]!.output_type, "error");
  assert.equal(nb.cells[2]!.outputs, []);
});

test("halo run without a notebook explains itself", () => {
  const r = run();
  assert.is(r.status, 1);
  assert.match(r.stderr, /missing NOTEBOOK/);
});

test.run();
