import { test } from "uvu";
import * as assert from "uvu/assert";
import { explainBundle } from "../../src/display/explain.ts";
import { drawPlanSvg } from "../../src/display/plan-drawing.ts";
import { kindFamily } from "../../src/display/palette.ts";
import { Resvg } from "@resvg/resvg-js";
import { planGraph } from "./fixtures.ts";
import { allElements, byClass, parseSvg, parseXml, type XmlElement } from "./xml-check.ts";

const rectOf = (g: XmlElement) => {
  // The node's own box is the last rect before its text (merged nodes draw a ring first).
  const rects = g.children.filter((c) => c.name === "rect");
  const r = rects.find((x) => x.attrs["rx"] === "6")!;
  return {
    x: Number(r.attrs["x"]),
    y: Number(r.attrs["y"]),
    w: Number(r.attrs["width"]),
    h: Number(r.attrs["height"]),
  };
};

test("explainBundle: explain text, SVG drawing, HTML with both", async () => {
  const text = "Sink\n  LlmCall sentiment <model> & more";
  const b = await explainBundle(text, planGraph());
  assert.equal(Object.keys(b).sort(), ["image/svg+xml", "text/html", "text/plain"]);
  assert.is(b["text/plain"], text);
  parseSvg(b["image/svg+xml"] as string);
  const html = b["text/html"] as string;
  assert.ok(html.includes(b["image/svg+xml"] as string));
  assert.match(html, /LlmCall sentiment &lt;model&gt; &amp; more/);
  parseXml(html);
});

test("one box per node, coloured by kind family, merged nodes marked, labels with cost and rows", async () => {
  const graph = planGraph();
  const svg = parseSvg((await drawPlanSvg(graph)).svg);
  const nodes = byClass(svg, "plan-node");
  assert.is(nodes.length, graph.nodes.length);
  const merged = nodes.filter((g) =>
    allElements(g).some((e) => e.name === "text" && e.text === "merged"),
  );
  assert.equal(
    merged.map((g) => Number(g.attrs["data-id"])),
    graph.nodes.filter((n) => n.merged).map((n) => n.id),
  );
  const fills = new Map(
    nodes.map((g) => [
      g.attrs["data-kind"],
      g.children.find((c) => c.attrs["rx"] === "6")!.attrs["fill"],
    ]),
  );
  assert.is(fills.get("LlmCall"), "#dbe6f1");
  assert.is(fills.get("SqlCall"), "#fde5cc");
  assert.not.equal(fills.get("HttpCall"), fills.get("FnCall"));
  const texts = allElements(svg)
    .filter((e) => e.name === "text")
    .map((e) => e.text);
  assert.ok(texts.includes("≈ 4.06 s · 140 rows"), texts.join(" | "));
  // The full detail (escaped) survives in the tooltip even when the drawn line is cut.
  const titles = allElements(svg)
    .filter((e) => e.name === "title")
    .map((e) => e.text);
  assert.ok(titles.some((t) => t.includes("<tag> & more")));
});

test("layered layout: every edge points down, and boxes do not overlap", async () => {
  const graph = planGraph();
  const svg = parseSvg((await drawPlanSvg(graph)).svg);
  const box = new Map(
    byClass(svg, "plan-node").map((g) => [Number(g.attrs["data-id"]), rectOf(g)]),
  );
  for (const e of graph.edges) {
    assert.ok(
      box.get(e.from)!.y + box.get(e.from)!.h <= box.get(e.to)!.y,
      `edge ${e.from}->${e.to}`,
    );
  }
  const all = [...box.values()];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i]!;
      const b = all[j]!;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      assert.ok(apart, `boxes ${i} and ${j} overlap`);
    }
  }
  const paths = allElements(svg).filter((e) => e.name === "path" && e.attrs["marker-end"]);
  assert.is(paths.length, graph.edges.length);
});

test("text fits inside its box at the drawn font size (DejaVu Sans widths, checked by rendering)", async () => {
  // Clipping each text line to the inside of its box (2 px in from the border) changes no pixel
  // beyond anti-aliasing noise (measured: at most 2 of 255) unless some text runs past the
  // border. Wide glyphs (W, M, m) on purpose.
  const { svg } = await drawPlanSvg({
    nodes: [
      {
        id: 1,
        label: "WWWWWWWWWWWWWWWWWWWWWWWW MMMMMMMM",
        kind: "LlmCall",
        detail: "m".repeat(56),
        estimatedMs: 1234,
        rows: 1e6,
      },
    ],
    edges: [],
  });
  const r = rectOf(byClass(parseSvg(svg), "plan-node")[0]!);
  const clippedTo = (w: number) =>
    svg
      .replace(
        "<defs>",
        `<defs><clipPath id="box"><rect x="${r.x + 2}" y="${r.y + 2}" width="${w}" height="${r.h - 4}"/></clipPath>`,
      )
      .replace(/<g class="plan-node"[\s\S]*?<\/g>/, (g) =>
        g.replace(/<text x="/g, '<text clip-path="url(#box)" x="'),
      );
  const pixels = (s: string) =>
    new Resvg(s, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render()
      .pixels;
  const changed = (a: Buffer, b: Buffer) => {
    let n = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 32) n++;
    return n;
  };
  const plain = pixels(svg);
  assert.is(changed(plain, pixels(clippedTo(r.w - 4))), 0, "text spills out of its box");
  // The check can fail: a box 30 px narrower than drawn cuts visible glyphs.
  assert.ok(changed(plain, pixels(clippedTo(r.w - 34))) > 50);
});

test("bad graphs are refused naming the problem", async () => {
  const nodes = [{ id: 1, label: "a", kind: "Source" }];
  for (const [graph, why] of [
    [
      { nodes: [...nodes, { id: 1, label: "b", kind: "Sink" }], edges: [] },
      /node id 1 appears twice/,
    ],
    [{ nodes, edges: [{ from: 1, to: 9 }] }, /edge 1 -> 9 names node 9, which is not in nodes/],
    [{ nodes }, /expected \{ nodes: \[\.\.\.\], edges: \[\.\.\.\] \}/],
  ] as const) {
    try {
      await drawPlanSvg(graph as never);
      assert.unreachable("accepted");
    } catch (e) {
      assert.match(String(e), why);
    }
  }
});

test("an empty plan still draws a valid SVG", async () => {
  parseSvg((await drawPlanSvg({ nodes: [], edges: [] })).svg);
});

test("kind families cover the plan's node kinds", () => {
  const cases: [string, string][] = [
    ["LlmCall", "llm"],
    ["SqlCall", "sql"],
    ["HttpCall", "http"],
    ["FnCall", "function"],
    ["Map", "relational"],
    ["Filter", "relational"],
    ["Join", "relational"],
    ["Source", "io"],
    ["SinkMultiple", "io"],
    ["Mystery", "other"],
  ];
  for (const [kind, family] of cases) assert.is(kindFamily(kind), family, kind);
});

test.run();
