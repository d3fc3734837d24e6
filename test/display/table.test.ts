import { test } from "uvu";
import * as assert from "uvu/assert";
import { tableFromArrays } from "apache-arrow";
import { dataFrameBundle, formatCell, tableView } from "../../src/display/table.ts";
import { allElements, parseXml } from "./xml-check.ts";

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: i, name: `row ${i}`, score: i / 7 }));

function htmlRows(html: string) {
  const root = parseXml(html);
  return allElements(root).filter((e) => e.name === "tr");
}

test("short tables show every row and the shape", () => {
  const b = dataFrameBundle(rows(3));
  assert.equal(Object.keys(b).sort(), ["text/html", "text/plain"]);
  assert.is(htmlRows(b["text/html"] as string).length, 1 + 3);
  assert.match(b["text/html"] as string, /3 rows × 3 columns/);
  const text = b["text/plain"] as string;
  assert.match(text, /^\s+id\s+name\s+score$/m);
  assert.match(text, /^2\s+2\s+row 2\s+0\.285714$/m);
  assert.match(text, /3 rows × 3 columns$/);
});

test("long tables show head and tail with the elided count", () => {
  const b = dataFrameBundle(rows(1000), { headRows: 4, tailRows: 2 });
  const html = b["text/html"] as string;
  const trs = htmlRows(html);
  assert.is(trs.length, 1 + 4 + 1 + 2);
  assert.match(html, /… 994 more rows …/);
  assert.match(html, /1,000 rows × 3 columns/);
  const text = (b["text/plain"] as string).split("\n");
  assert.match(text[4]!, /^3 /);
  assert.match(text[5]!, /^…/);
  assert.match(text[6]!, /^998 /);
});

test("cell values, column names and the shape are HTML-escaped", () => {
  const evil = [{ "<th>": `<script>alert("x")</script>`, "a&b": "'quoted' & <b>", n: null }];
  const html = dataFrameBundle(evil)["text/html"] as string;
  assert.not.match(html, /<script>/);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(html, /<th>&lt;th&gt;<\/th>/);
  assert.match(html, /<th>a&amp;b<\/th>/);
  // The whole fragment is well-formed markup (raw '<' or '&' would fail here).
  const cells = allElements(parseXml(html)).filter((e) => e.name === "td");
  assert.equal(
    cells.map((c) => c.text),
    [`<script>alert("x")</script>`, "'quoted' & <b>", "null"],
  );
});

test("long cells are cut in HTML with the full value in the title; text cells stay narrow", () => {
  const long = "x".repeat(500);
  const b = dataFrameBundle([{ t: long, u: "a\r\nb" }], { maxCellChars: 50, maxTextCellChars: 10 });
  const td = allElements(parseXml(b["text/html"] as string)).find((e) => e.name === "td")!;
  assert.is(td.text.length, 50);
  assert.is(td.attrs["title"], long);
  const text = b["text/plain"] as string;
  assert.ok(
    text.split("\n").every((l) => l.length < 40),
    "narrow text table",
  );
  assert.not.ok(text.includes("\r"), "control characters do not reach the text table");
});

test("apache-arrow tables: reads only the rows shown", () => {
  const n = 200_000;
  const t = tableFromArrays({
    k: Int32Array.from({ length: n }, (_, i) => i),
    v: Float64Array.from({ length: n }, (_, i) => i / 4),
  });
  const started = performance.now();
  const view = tableView(t);
  console.log(
    `measure: table view of a ${n}-row arrow table in ${(performance.now() - started).toFixed(2)} ms`,
  );
  assert.equal(view.columns, ["k", "v"]);
  assert.is(view.numRows, n);
  assert.is(view.rows.length, 15);
  assert.equal(view.rows.at(-1), [n - 1, (n - 1) / 4]);
  assert.match(dataFrameBundle(t)["text/html"] as string, /200,000 rows × 2 columns/);
});

test("danfojs DataFrames: columns, index and values", async () => {
  const dfd = await import("danfojs-node");
  const df = new dfd.DataFrame(
    { city: ["Oslo", "Lima", "Pune"], pop: [0.7, 10.1, 3.1] },
    { index: ["a", "b", "c"] },
  );
  const b = dataFrameBundle(df);
  const text = b["text/plain"] as string;
  assert.match(text, /^\s+city\s+pop$/m);
  assert.match(text, /^b\s+Lima\s+10\.1$/m);
  assert.match(b["text/html"] as string, /3 rows × 2 columns/);
});

test("arrays of arrays get numbered columns; mixed or scalar input is refused clearly", () => {
  const b = dataFrameBundle([
    [1, "a"],
    [2, "b", true],
  ]);
  assert.match(b["text/plain"] as string, /^\s+0\s+1\s+2$/m);
  assert.throws(
    () => dataFrameBundle(42),
    /cannot show a number as a table; pass a danfojs DataFrame/,
  );
  assert.throws(() => dataFrameBundle([{ a: 1 }, 3]), /array mixing rows/);
});

test("formatCell: numbers to 6 significant digits, bigint, dates, nested values", () => {
  assert.is(formatCell(1 / 3), "0.333333");
  assert.is(formatCell(12345678), "12345678");
  assert.is(formatCell(10n ** 20n), "100000000000000000000");
  assert.is(formatCell(new Date("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05.000Z");
  assert.is(formatCell({ a: [1, 2n] }), '{"a":[1,"2"]}');
  assert.is(formatCell(undefined), "null");
});

test.run();
