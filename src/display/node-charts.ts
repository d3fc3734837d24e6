// Per plan node: estimated vs measured cost (is the cost model right?), and tokens (prefilled,
// reused from the prefix cache, decoded: where did LLM work go and how much did caching save?).
// Bars run horizontally so long node labels sit on the y axis and never overlap.
import type { NodeStats, RunTrace } from "../processor/trace/trace.ts";
import type { VegaLiteSpec } from "./chart-bundle.ts";
import { CHART_WIDTH, round2, styledSpec, subtitleLines } from "./chart-style.ts";
import { formatCompact, formatMs, formatPercent } from "./format.ts";
import { truncate } from "./html.ts";

const ROW_PX = 22;

/** "#3 LlmCall sentiment": ids keep two nodes with one label apart on the axis. */
export function nodeTitle(n: NodeStats): string {
  return truncate(`#${n.nodeId} ${n.label}`, 40);
}

/** Plans can have dozens of nodes; past this many rows a bar chart stops reading at a glance. */
export const MAX_NODE_ROWS = 24;

/** The `max` heaviest nodes, kept in plan order. */
function heaviest(nodes: NodeStats[], weight: (n: NodeStats) => number, max: number): NodeStats[] {
  if (nodes.length <= max) return nodes;
  const keep = new Set([...nodes].sort((a, b) => weight(b) - weight(a)).slice(0, max));
  return nodes.filter((n) => keep.has(n));
}

/** What a node's estimate is compared with: an LLM node's own share of the worker, else its span. */
function measuredOf(n: NodeStats): number {
  return n.llmMs ?? n.measuredMs;
}

export function costSpec(trace: RunTrace, widthPx = CHART_WIDTH): VegaLiteSpec | undefined {
  const all = [...trace.nodes].sort((a, b) => a.nodeId - b.nodeId);
  if (all.length === 0) return undefined;
  const nodes = heaviest(all, (n) => Math.max(measuredOf(n), n.estimatedMs ?? 0), MAX_NODE_ROWS);
  const hasEstimates = nodes.some((n) => n.estimatedMs !== undefined);
  const rows: Record<string, unknown>[] = [];
  for (const n of nodes) {
    const node = nodeTitle(n);
    if (hasEstimates) {
      rows.push({
        node,
        series: "estimated",
        ms: n.estimatedMs === undefined ? null : round2(n.estimatedMs),
        label: n.estimatedMs === undefined ? "no estimate" : formatMs(n.estimatedMs),
      });
    }
    rows.push({
      node,
      series: "measured",
      ms: round2(measuredOf(n)),
      label: formatMs(measuredOf(n)),
    });
  }
  const est = all.reduce((s, n) => s + (n.estimatedMs ?? 0), 0);
  const meas = all.reduce((s, n) => s + measuredOf(n), 0);
  const subtitle =
    (hasEstimates
      ? `busy time summed over each node's tasks · total estimated ${formatMs(est)}, measured ${formatMs(meas)}`
      : "busy time summed over each node's tasks · no cost estimates recorded for this run") +
    (nodes.length < all.length ? ` · the ${nodes.length} costliest of ${all.length} nodes` : "");
  const order = nodes.map(nodeTitle);
  const y = { field: "node", type: "nominal", sort: order, title: null, axis: { labelLimit: 360 } };
  const series = hasEstimates ? ["estimated", "measured"] : ["measured"];
  return styledSpec({
    title: {
      text: hasEstimates
        ? "Estimated vs measured cost per plan node"
        : "Measured cost per plan node",
      subtitle: subtitleLines(subtitle.split(" · ")),
    },
    width: widthPx,
    height: { step: hasEstimates ? ROW_PX / 1.4 : ROW_PX },
    data: { values: rows },
    encoding: {
      y,
      yOffset: { field: "series", type: "nominal", sort: series },
      x: {
        field: "ms",
        type: "quantitative",
        title: "time (ms)",
        // Room to the right for the value labels of the longest bar.
        scale: { domainMax: round2(maxOf(nodes) * 1.15) },
        axis: { grid: true, gridColor: "#eeeeee" },
      },
    },
    layer: [
      {
        mark: { type: "bar", height: { band: 0.9 } },
        encoding: {
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: series, range: hasEstimates ? ["#bab0ac", "#4e79a7"] : ["#4e79a7"] },
            legend: { orient: "top", direction: "horizontal" },
          },
          tooltip: [
            { field: "node", title: "node" },
            { field: "series", title: "series" },
            { field: "label", title: "time" },
          ],
        },
      },
      {
        mark: { type: "text", align: "left", dx: 3, fontSize: 9, color: "#444444" },
        encoding: {
          text: { field: "label" },
          x: { field: "ms", type: "quantitative", impute: null },
        },
        transform: [{ calculate: "datum.ms === null ? 0 : datum.ms", as: "ms" }],
      },
    ],
  });
}

function maxOf(nodes: NodeStats[]): number {
  let m = 1;
  for (const n of nodes) m = Math.max(m, measuredOf(n), n.estimatedMs ?? 0);
  return m;
}

const TOKEN_SERIES = ["prefilled", "reused from cache", "decoded"];
const TOKEN_COLORS = ["#4e79a7", "#59a14f", "#a0cbe8"];

export function tokensSpec(trace: RunTrace, widthPx = CHART_WIDTH): VegaLiteSpec | undefined {
  const withTokens = [...trace.nodes]
    .filter((n) => n.prefillTokens + n.cachedTokens + n.decodeTokens > 0)
    .sort((a, b) => a.nodeId - b.nodeId);
  if (withTokens.length === 0) return undefined;
  const nodes = heaviest(
    withTokens,
    (n) => n.prefillTokens + n.cachedTokens + n.decodeTokens,
    MAX_NODE_ROWS,
  );
  const rows: Record<string, unknown>[] = [];
  const totals: Record<string, unknown>[] = [];
  // The overall rate counts every node, shown or not.
  const prompt = withTokens.reduce((a, n) => a + n.prefillTokens + n.cachedTokens, 0);
  const cached = withTokens.reduce((a, n) => a + n.cachedTokens, 0);
  for (const n of nodes) {
    const node = nodeTitle(n);
    const values = [n.prefillTokens, n.cachedTokens, n.decodeTokens];
    TOKEN_SERIES.forEach((series, i) => rows.push({ node, series, order: i, tokens: values[i] }));
    const total = values[0]! + values[1]! + values[2]!;
    const promptTokens = n.prefillTokens + n.cachedTokens;
    totals.push({
      node,
      total,
      label: `${formatCompact(total)} · ${formatPercent(promptTokens ? n.cachedTokens / promptTokens : 0)} of prompt cached`,
    });
  }
  const maxTotal = totals.reduce((m, t) => Math.max(m, t.total as number), 1);
  const order = nodes.map(nodeTitle);
  return styledSpec({
    title: {
      text: "LLM tokens per plan node",
      subtitle: subtitleLines([
        "prompt tokens prefilled vs reused from the prefix cache, and tokens decoded",
        `${formatPercent(prompt ? cached / prompt : 0)} of all prompt tokens came from the cache`,
        ...(nodes.length < withTokens.length
          ? [`the ${nodes.length} largest of ${withTokens.length} LLM nodes`]
          : []),
      ]),
    },
    width: widthPx,
    height: { step: ROW_PX + 6 },
    encoding: {
      y: { field: "node", type: "nominal", sort: order, title: null, axis: { labelLimit: 360 } },
    },
    layer: [
      {
        data: { values: rows },
        mark: { type: "bar", height: { band: 0.7 } },
        encoding: {
          x: {
            field: "tokens",
            type: "quantitative",
            stack: "zero",
            title: "tokens",
            // Room for the total label right of the longest bar.
            scale: { domainMax: Math.ceil(maxTotal * 1.45) },
            axis: { format: ",.0f", grid: true, gridColor: "#eeeeee" },
          },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: TOKEN_SERIES, range: TOKEN_COLORS },
            legend: { orient: "top", direction: "horizontal" },
          },
          order: { field: "order" },
          tooltip: [
            { field: "node", title: "node" },
            { field: "series", title: "tokens" },
            { field: "tokens", title: "count", format: "," },
          ],
        },
      },
      {
        data: { values: totals },
        mark: { type: "text", align: "left", dx: 4, fontSize: 10, color: "#444444" },
        encoding: {
          x: { field: "total", type: "quantitative" },
          text: { field: "label" },
        },
      },
    ],
  });
}
