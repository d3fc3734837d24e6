import { test } from "uvu";
import * as assert from "uvu/assert";
import { chartBundle, renderChartSvg, VEGA_LITE_MIME } from "../../src/display/chart-bundle.ts";
import { pngFromSvg } from "../../src/display/png.ts";
import { prefixSvgIds } from "../../src/display/svg-ids.ts";
import { allElements, byClass, parseSvg } from "./xml-check.ts";

const bars = {
  title: "Rows per <region> & tier",
  data: {
    values: [
      { region: "north", n: 3 },
      { region: "south", n: 5 },
      { region: "east", n: 2 },
    ],
  },
  mark: "bar",
  encoding: {
    x: { field: "region", type: "nominal" },
    y: { field: "n", type: "quantitative", title: "rows" },
  },
};

test("chartBundle carries vega-lite JSON, SVG, HTML with the SVG inline, and text", async () => {
  const b = await chartBundle(bars);
  for (const mime of [VEGA_LITE_MIME, "image/svg+xml", "text/html", "text/plain"]) {
    assert.ok(mime in b, `missing ${mime}`);
  }
  const spec = b[VEGA_LITE_MIME] as Record<string, unknown>;
  assert.type(spec, "object", "the spec travels as a JSON object, not a string");
  assert.is(spec["$schema"], "https://vega.github.io/schema/vega-lite/v5.json");
  assert.equal(JSON.parse(JSON.stringify(spec)), spec, "spec survives JSON (no functions)");
  const svg = parseSvg(b["image/svg+xml"] as string);
  // One rect mark item per data row.
  const marks = byClass(svg, "mark-rect");
  assert.is(marks.length, 1);
  assert.is(marks[0]!.children.length, 3);
  const html = b["text/html"] as string;
  assert.ok(html.includes(b["image/svg+xml"] as string), "html inlines the same SVG");
  assert.ok(!/title="[^"]*[<>][^"]*"/.test(html), "the title attribute is escaped");
  assert.is(b["text/plain"], "Rows per <region> & tier");
  // The title text is escaped inside the SVG (the parser above would reject raw '<').
  assert.ok(
    allElements(svg).some((e) => e.text.includes("Rows per <region> & tier")),
    "title drawn",
  );
});

test("renderChartSvg reports no warnings for a clean spec and collects them for a bad one", async () => {
  assert.equal((await renderChartSvg(bars)).warnings, []);
  // A bar has no shape channel: vega-lite drops it with a warning.
  const odd = {
    ...bars,
    encoding: { ...bars.encoding, shape: { field: "region", type: "nominal" } },
  };
  const r = await renderChartSvg(odd);
  assert.ok(
    r.warnings.some((w) => /shape/.test(w)),
    r.warnings.join("\n"),
  );
  const bad = { ...bars, encoding: { ...bars.encoding, color: { field: "n", type: "wrong" } } };
  try {
    await renderChartSvg(bad);
    assert.unreachable("invalid type compiled");
  } catch (e) {
    assert.match(String(e), /vega-lite could not compile the spec: Invalid field type/);
  }
});

test("chartBundle rejects non-v5 schemas and non-objects with a clear message", async () => {
  await assert.not.throws(async () =>
    chartBundle({ ...bars, $schema: "https://vega.github.io/schema/vega-lite/v5.20.json" }),
  );
  try {
    await chartBundle({ ...bars, $schema: "https://vega.github.io/schema/vega-lite/v4.json" });
    assert.unreachable("v4 accepted");
  } catch (e) {
    assert.match(String(e), /not vega-lite 5/);
  }
  try {
    await chartBundle([] as unknown as Record<string, unknown>);
    assert.unreachable("array accepted");
  } catch (e) {
    assert.match(String(e), /expected a vega-lite spec object, got an array/);
  }
});

test("two charts in one page do not share SVG ids (vega names clip paths clip1, clip2...)", async () => {
  const layered = { ...bars, mark: { type: "bar", clip: true } };
  const a = (await renderChartSvg(layered)).svg;
  const b = (await renderChartSvg(layered)).svg;
  const ids = (s: string) => [...s.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(ids(a).length > 0, "clip path present");
  for (const id of ids(a)) assert.not.ok(ids(b).includes(id), `id ${id} in both charts`);
  // Every url(#...) reference points at an id of the same SVG.
  for (const s of [a, b]) {
    for (const m of s.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids(s).includes(m[1]!), m[1]);
  }
});

test("prefixSvgIds rewrites ids and their references only", () => {
  const out = prefixSvgIds(
    `<svg><clipPath id="c"/><g clip-path="url(#c)"/><use href="#c"/><a href="#other"/></svg>`,
    "p-",
  );
  assert.is(
    out,
    `<svg><clipPath id="p-c"/><g clip-path="url(#p-c)"/><use href="#p-c"/><a href="#other"/></svg>`,
  );
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test("pngFromSvg makes a PNG at the requested scale, with text drawn", async () => {
  const { svg } = await renderChartSvg(bars);
  const root = parseSvg(svg);
  const png = pngFromSvg(svg, { scale: 2 });
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), "PNG signature");
  // IHDR: width and height big-endian at bytes 16 and 20.
  assert.is(png.readUInt32BE(16), Math.round(Number(root.attrs["width"]) * 2));
  assert.is(png.readUInt32BE(20), Math.round(Number(root.attrs["height"]) * 2));
  // Fonts: if resvg found none, text would not be drawn and both images would be equal.
  const withText = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><text x="5" y="20" font-family="sans-serif" font-size="14">Halo 123</text></svg>`;
  const noText = withText.replace("Halo 123", "");
  assert.not.ok(
    pngFromSvg(withText).equals(pngFromSvg(noText)),
    "text rendered with a system font",
  );
  assert.throws(() => pngFromSvg("not svg"), /expected an SVG document/);
});

test.run();
