// `halo.lastRun` / `halo.profile()`: a run trace shown as a short summary plus every chart that
// has data (a run without LLM work has no token charts). In a notebook the report is one output
// (one vega-lite vconcat spec, so JupyterLab shows it interactive); `bundles()` gives one bundle
// per chart for reports that want them apart.
import type { RunTrace } from "../processor/trace/trace.ts";
import {
  chartBundle,
  normalizeSpec,
  renderChartSvg,
  VEGA_LITE_MIME,
  type VegaLiteSpec,
} from "./chart-bundle.ts";
import { CHART_CONFIG } from "./chart-style.ts";
import { formatCount, formatMs, formatPercent } from "./format.ts";
import { DISPLAY_SYMBOL, getDisplayHost, type DisplayHost, type MimeBundle } from "./host.ts";
import { escapeHtml } from "./html.ts";
import { laneTitle, sortLanes } from "./lanes.ts";
import { costSpec, tokensSpec } from "./node-charts.ts";
import { batchSizeSpec, cacheHitSpec } from "./time-charts.ts";
import { timelineSpec } from "./timeline-chart.ts";

export interface NamedSpec {
  name: "timeline" | "cost" | "tokens" | "cache-hit-rate" | "batch-size";
  spec: VegaLiteSpec;
}

/** Every chart the trace has data for, in reading order. */
export function runReportSpecs(trace: RunTrace): NamedSpec[] {
  checkTrace(trace);
  const out: NamedSpec[] = [];
  const add = (name: NamedSpec["name"], spec: VegaLiteSpec | undefined) => {
    if (spec) out.push({ name, spec });
  };
  if (trace.tasks.length > 0) add("timeline", timelineSpec(trace));
  add("cost", costSpec(trace));
  add("tokens", tokensSpec(trace));
  add("cache-hit-rate", cacheHitSpec(trace));
  add("batch-size", batchSizeSpec(trace));
  return out;
}

function checkTrace(trace: RunTrace): void {
  if (!trace || !Array.isArray(trace.tasks) || !Array.isArray(trace.nodes)) {
    throw new TypeError(
      "run report: expected a RunTrace ({ startedAt, wallMs, tasks: [], nodes: [] }); " +
        "run a collect() first, then show halo.lastRun",
    );
  }
}

/** All charts stacked in one spec (sub-charts keep their own scales and legends). */
export function runReportSpec(trace: RunTrace): VegaLiteSpec | undefined {
  const specs = runReportSpecs(trace);
  if (specs.length === 0) return undefined;
  const strip = ({ spec }: NamedSpec) => {
    const { $schema: _s, config: _c, ...rest } = spec;
    return rest;
  };
  return normalizeSpec({
    config: CHART_CONFIG,
    vconcat: specs.map(strip),
    spacing: 36,
    // Plot areas share one left edge, so time axes of the timeline and the rate charts line up.
    align: "each",
    resolve: { scale: { color: "independent", x: "independent", y: "independent" } },
  });
}

interface LaneUse {
  lane: string;
  busyMs: number;
}

function laneUse(trace: RunTrace): LaneUse[] {
  return sortLanes(trace.tasks.map((t) => t.lane)).map((lane) => {
    // Union of intervals: overlapping pool tasks must not count twice.
    const iv = trace.tasks
      .filter((t) => t.lane === lane)
      .map((t) => [t.startMs, t.endMs] as const)
      .sort((a, b) => a[0] - b[0]);
    let busy = 0;
    let s = -Infinity;
    let e = -Infinity;
    for (const [a, b] of iv) {
      if (a > e) {
        if (e > s) busy += e - s;
        s = a;
        e = b;
      } else e = Math.max(e, b);
    }
    if (e > s) busy += e - s;
    return { lane, busyMs: busy };
  });
}

/** Plain-text summary: wall time, tokens and cache, how busy each lane was. */
export function runSummaryText(trace: RunTrace): string {
  checkTrace(trace);
  const tok = trace.nodes.reduce(
    (a, n) => ({
      prefill: a.prefill + n.prefillTokens,
      cached: a.cached + n.cachedTokens,
      decode: a.decode + n.decodeTokens,
    }),
    { prefill: 0, cached: 0, decode: 0 },
  );
  const lines = [
    `Run at ${trace.startedAt}: ${formatMs(trace.wallMs)} wall` +
      (trace.plannerMs !== undefined ? `, planner ${formatMs(trace.plannerMs)}` : "") +
      `, ${formatCount(trace.tasks.length)} tasks, ${trace.nodes.length} plan nodes`,
  ];
  const prompt = tok.prefill + tok.cached;
  if (prompt + tok.decode > 0) {
    lines.push(
      `LLM tokens: ${formatCount(tok.prefill)} prefilled, ${formatCount(tok.cached)} reused from cache ` +
        `(${formatPercent(prompt ? tok.cached / prompt : 0)} of prompt), ${formatCount(tok.decode)} decoded`,
    );
  }
  const wall = Math.max(trace.wallMs, 1e-9);
  const use = laneUse(trace);
  if (use.length > 0) {
    lines.push(
      "Busy: " +
        use.map((u) => `${laneTitle(u.lane)} ${formatPercent(u.busyMs / wall)}`).join(", "),
    );
  }
  return lines.join("\n");
}

function summaryHtml(trace: RunTrace): string {
  const lines = runSummaryText(trace).split("\n");
  return `<div class="halo-run-summary" style="font-family:sans-serif;font-size:13px;margin:4px 0 10px">${lines
    .map((l, i) => (i === 0 ? `<b>${escapeHtml(l)}</b>` : escapeHtml(l)))
    .join("<br>")}</div>`;
}

/** Summary bundle first, then one chart bundle per chart. */
export async function runReportBundles(trace: RunTrace): Promise<MimeBundle[]> {
  const text = runSummaryText(trace);
  const out: MimeBundle[] = [{ "text/plain": text, "text/html": summaryHtml(trace) }];
  for (const { spec } of runReportSpecs(trace)) out.push(await chartBundle(spec));
  return out;
}

/** One bundle holding the summary and all charts (the vconcat spec and its SVG). */
export async function runReportBundle(trace: RunTrace): Promise<MimeBundle> {
  const text = runSummaryText(trace);
  const spec = runReportSpec(trace);
  if (!spec) return { "text/plain": text, "text/html": summaryHtml(trace) };
  const { svg } = await renderChartSvg(spec);
  return {
    [VEGA_LITE_MIME]: spec,
    "image/svg+xml": svg,
    "text/html": `${summaryHtml(trace)}<div class="halo-chart">${svg}</div>`,
    "text/plain": text,
  };
}

/** What `halo.lastRun` and `halo.profile()` return: shows itself as the report. */
export class RunReport {
  constructor(readonly trace: RunTrace) {
    checkTrace(trace);
  }

  /** The kernel's display calls this; it renders with vega, hence async (about 0.5-1 s). */
  [DISPLAY_SYMBOL](): Promise<MimeBundle> {
    return runReportBundle(this.trace);
  }

  bundles(): Promise<MimeBundle[]> {
    return runReportBundles(this.trace);
  }

  specs(): NamedSpec[] {
    return runReportSpecs(this.trace);
  }

  /** Displays summary and charts on a host (default: the current one) as separate outputs. */
  async show(host: DisplayHost = getDisplayHost()): Promise<void> {
    for (const b of await this.bundles()) host.display(b);
  }

  toString(): string {
    return runSummaryText(this.trace);
  }
}
