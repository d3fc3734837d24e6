// The plan drawn as SVG: elkjs computes a layered layout (sources on top, the sink at the
// bottom, orthogonal edges), this file draws it. Nodes are coloured by kind family (the same
// colours as the timeline), labelled with the estimated cost and rows when the plan has them;
// merged or shared nodes get a double border and a "merged" tag.
import { createRequire } from "node:module";
import type { ELK as ElkLayouter, ELKConstructorArguments, ElkNode } from "elkjs/lib/elk-api.js";
import { formatCount, formatMs } from "./format.ts";
import { escapeHtml } from "./html.ts";
import { FAMILY_COLORS, kindFamily, type KindFamily } from "./palette.ts";
import type { PlanGraph, PlanGraphNode } from "./plan-graph-types.ts";
import { nextSvgIdPrefix } from "./svg-ids.ts";
import { fitText, textWidth } from "./text-width.ts";

// elkjs is CommonJS with typings that say `export default`, which NodeNext types as the module
// object; requiring it yields the constructor itself (the bundled build lays out in-thread).
const ELK = createRequire(import.meta.url)("elkjs/lib/elk.bundled.js") as new (
  args?: ELKConstructorArguments,
) => ElkLayouter;

const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
const LABEL_PX = 12;
const SMALL_PX = 10.5;
const PAD_X = 10;
const LINE_GAP = 4;
// Lines longer than this are cut with an ellipsis (the full text stays in the tooltip).
const MAX_LINE_PX = 340;

interface NodeBox {
  node: PlanGraphNode;
  family: KindFamily;
  lines: { text: string; size: number; bold: boolean; color: string }[];
  width: number;
  height: number;
}

/** "LlmCall sentiment": the kind first (colour alone is not enough), unless the label has it. */
function headline(n: PlanGraphNode): string {
  const label = n.label.trim();
  if (!label || label === n.kind) return n.kind;
  return label.toLowerCase().startsWith(n.kind.toLowerCase()) ? label : `${n.kind} ${label}`;
}

/** Number of logical nodes merged into this one, 0 when not merged (true counts as 2). */
export function mergedCount(n: PlanGraphNode): number {
  if (n.merged === true) return 2;
  if (typeof n.merged === "number" && n.merged > 1) return n.merged;
  return 0;
}

function statsLine(n: PlanGraphNode): string | undefined {
  const parts: string[] = [];
  if (n.estimatedMs !== undefined) parts.push(`≈ ${formatMs(n.estimatedMs)}`);
  if (n.rows !== undefined) parts.push(`${formatCount(n.rows)} row${n.rows === 1 ? "" : "s"}`);
  return parts.length ? parts.join(" · ") : undefined;
}

function boxFor(node: PlanGraphNode): NodeBox {
  const family = kindFamily(node.kind);
  const lines: NodeBox["lines"] = [
    {
      text: fitText(headline(node), LABEL_PX, MAX_LINE_PX, true),
      size: LABEL_PX,
      bold: true,
      color: "#222222",
    },
  ];
  if (node.detail) {
    const detail = fitText(node.detail.replace(/\s+/g, " ").trim(), SMALL_PX, MAX_LINE_PX);
    if (detail) lines.push({ text: detail, size: SMALL_PX, bold: false, color: "#444444" });
  }
  const stats = statsLine(node);
  if (stats) lines.push({ text: stats, size: SMALL_PX, bold: false, color: "#555555" });
  const textW = Math.max(
    ...lines.map((l) => textWidth(l.text, l.size, l.bold)),
    mergedCount(node) ? 150 : 60,
  );
  const textH = lines.reduce((h, l) => h + l.size + LINE_GAP, 0);
  return {
    node,
    family,
    lines,
    width: Math.ceil(textW + 2 * PAD_X),
    height: Math.ceil(textH + 12),
  };
}

/** Rejects graphs the drawing cannot mean anything for, naming the offending id. */
export function checkPlanGraph(graph: PlanGraph): void {
  if (!graph || !Array.isArray(graph.nodes) || !Array.isArray(graph.edges)) {
    throw new TypeError(
      "drawPlan: expected { nodes: [...], edges: [...] } as planGraph(dag) returns",
    );
  }
  const ids = new Set<number>();
  for (const n of graph.nodes) {
    if (!Number.isFinite(n.id))
      throw new TypeError(`drawPlan: node ${JSON.stringify(n.label)} has no numeric id`);
    if (ids.has(n.id))
      throw new TypeError(`drawPlan: node id ${n.id} appears twice; ids must be unique`);
    ids.add(n.id);
  }
  for (const e of graph.edges) {
    for (const end of [e.from, e.to]) {
      if (!ids.has(end)) {
        throw new TypeError(
          `drawPlan: edge ${e.from} -> ${e.to} names node ${end}, which is not in nodes`,
        );
      }
    }
  }
}

export interface PlanDrawing {
  svg: string;
  width: number;
  height: number;
}

/** Lays the plan out with elkjs and returns a standalone SVG document. */
export async function drawPlanSvg(graph: PlanGraph): Promise<PlanDrawing> {
  checkPlanGraph(graph);
  const boxes = new Map(graph.nodes.map((n) => [n.id, boxFor(n)]));
  const elk = new ELK();
  const root: ElkNode = {
    id: "plan",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "34",
      "elk.spacing.nodeNode": "26",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.padding": "[top=12,left=12,bottom=12,right=12]",
    },
    children: [...boxes.values()].map((b) => ({
      id: `n${b.node.id}`,
      width: b.width,
      height: b.height,
    })),
    edges: graph.edges.map((e, i) => ({
      id: `e${i}`,
      sources: [`n${e.from}`],
      targets: [`n${e.to}`],
    })),
  };
  const laid = await elk.layout(root);
  const prefix = nextSvgIdPrefix();
  const arrow = `${prefix}arrow`;
  const parts: string[] = [];

  for (const edge of laid.edges ?? []) {
    for (const s of edge.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
      const d = pts.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
      parts.push(
        `<path d="${d}" fill="none" stroke="#8a8a8a" stroke-width="1.3" marker-end="url(#${arrow})"/>`,
      );
    }
  }

  for (const child of laid.children ?? []) {
    const b = boxes.get(Number(child.id.slice(1)))!;
    const x = child.x ?? 0;
    const y = child.y ?? 0;
    const c = FAMILY_COLORS[b.family];
    const title = [
      `#${b.node.id} ${b.node.kind}`,
      b.node.label,
      b.node.detail ?? "",
      statsLine(b.node) ?? "",
    ]
      .filter(Boolean)
      .join("\n");
    parts.push(
      `<g class="plan-node" data-id="${b.node.id}" data-kind="${escapeHtml(b.node.kind)}">`,
    );
    parts.push(`<title>${escapeHtml(title)}</title>`);
    const merged = mergedCount(b.node);
    if (merged) {
      // Double border: an outer ring 3 px out, so merged nodes stand out without colour.
      parts.push(
        `<rect x="${x - 3}" y="${y - 3}" width="${b.width + 6}" height="${b.height + 6}" rx="8" fill="none" stroke="${c.stroke}" stroke-width="1.2"/>`,
      );
    }
    parts.push(
      `<rect x="${x}" y="${y}" width="${b.width}" height="${b.height}" rx="6" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.6"/>`,
    );
    let ty = y + 6;
    for (const l of b.lines) {
      ty += l.size;
      parts.push(
        `<text x="${x + PAD_X}" y="${ty.toFixed(1)}" font-size="${l.size}"${l.bold ? ' font-weight="bold"' : ""} fill="${l.color}">${escapeHtml(l.text)}</text>`,
      );
      ty += LINE_GAP;
    }
    if (merged) {
      // "merged" for a flag, "merged ×3" when the plan says how many nodes became this one.
      const tag = b.node.merged === true ? "merged" : `merged ×${merged}`;
      const tagW = Math.ceil(textWidth(tag, 9.5) + 12);
      parts.push(
        `<rect x="${x + b.width - tagW - 4}" y="${y - 8}" width="${tagW}" height="14" rx="7" fill="${c.stroke}"/>`,
        `<text x="${x + b.width - tagW / 2 - 4}" y="${y + 2.5}" font-size="9.5" fill="white" text-anchor="middle">${tag}</text>`,
      );
    }
    parts.push("</g>");
  }

  // Legend: the families present, plus the merged marker if any node has it.
  const families = [...new Set([...boxes.values()].map((b) => b.family))];
  const order: KindFamily[] = ["io", "sql", "http", "function", "llm", "relational", "other"];
  families.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const graphW = Math.max(laid.width ?? 0, 200);
  const legendY = (laid.height ?? 0) + 8;
  let lx = 12;
  const legend: string[] = [];
  for (const f of families) {
    const c = FAMILY_COLORS[f];
    legend.push(
      `<rect x="${lx}" y="${legendY}" width="12" height="12" rx="3" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.4"/>`,
      `<text x="${lx + 17}" y="${legendY + 10}" font-size="10.5" fill="#333333">${escapeHtml(c.name)}</text>`,
    );
    lx += 17 + textWidth(c.name, 10.5) + 16;
  }
  if (graph.nodes.some((n) => mergedCount(n) > 0)) {
    legend.push(
      `<rect x="${lx}" y="${legendY}" width="12" height="12" rx="3" fill="white" stroke="#555555" stroke-width="1.2"/>`,
      `<rect x="${lx - 2.5}" y="${legendY - 2.5}" width="17" height="17" rx="4" fill="none" stroke="#555555" stroke-width="1"/>`,
      `<text x="${lx + 19}" y="${legendY + 10}" font-size="10.5" fill="#333333">merged / shared</text>`,
    );
    lx += 19 + textWidth("merged / shared", 10.5) + 12;
  }
  const width = Math.ceil(Math.max(graphW, lx));
  const height = Math.ceil(legendY + 24);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">` +
    `<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
    `<path d="M0,0 L10,5 L0,10 z" fill="#8a8a8a"/></marker></defs>` +
    `<rect width="${width}" height="${height}" fill="white"/>` +
    parts.join("") +
    legend.join("") +
    `</svg>`;
  return { svg, width, height };
}
