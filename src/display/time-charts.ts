// How the run evolved: prefix-cache hit rate and LLM batch size over time. Both bin the run
// into about 40 round intervals (1, 2 or 5 x 10^k ms) computed here, so the spec only carries
// the points drawn: a 10,000-task trace still makes a small chart.
import type { RunTrace, TaskRecord } from "../processor/trace/trace.ts";
import type { VegaLiteSpec } from "./chart-bundle.ts";
import {
  CHART_WIDTH,
  niceBinMs,
  round2,
  styledSpec,
  subtitleLines,
  traceWallMs,
} from "./chart-style.ts";
import { formatCount, formatMs, formatPercent } from "./format.ts";
import { laneTitle, sortLanes } from "./lanes.ts";

const MAX_BINS = 40;

const wallOf = traceWallMs;

const isLlm = (t: TaskRecord) => t.kind === "prefill" || t.kind === "decode";

export function cacheHitSpec(trace: RunTrace, widthPx = CHART_WIDTH): VegaLiteSpec | undefined {
  const prefills = trace.tasks.filter(
    (t) => t.kind === "prefill" && (t.prefillTokens ?? 0) + (t.cachedTokens ?? 0) > 0,
  );
  if (prefills.length === 0) return undefined;
  const wall = wallOf(trace);
  const bin = niceBinMs(wall, MAX_BINS);
  const bins = new Map<number, { cached: number; total: number }>();
  let cached = 0;
  let total = 0;
  for (const t of prefills) {
    const b = Math.floor(t.startMs / bin);
    const e = bins.get(b) ?? { cached: 0, total: 0 };
    const c = t.cachedTokens ?? 0;
    const n = c + (t.prefillTokens ?? 0);
    e.cached += c;
    e.total += n;
    bins.set(b, e);
    cached += c;
    total += n;
  }
  // One or two points make no trend; the run summary already states the overall rate.
  if (bins.size < 3) return undefined;
  const rows = [...bins.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, e]) => ({
      t: round2((b + 0.5) * bin),
      rate: round2((100 * e.cached) / e.total),
      tokens: e.total,
      cached: e.cached,
    }));
  return styledSpec({
    title: {
      text: "Prefix cache hit rate over time",
      subtitle: subtitleLines(
        `share of prompt tokens reused from the KV cache, per ${formatMs(bin)} · overall ${formatPercent(cached / total)} (dashed) of ${formatCount(total)} prompt tokens · point size: tokens in the bin`.split(
          " · ",
        ),
      ),
    },
    width: widthPx,
    height: 160,
    data: { values: rows },
    encoding: {
      x: {
        field: "t",
        type: "quantitative",
        title: "time since run start (ms)",
        scale: { domain: [0, round2(wall)], nice: false },
      },
      y: {
        field: "rate",
        type: "quantitative",
        title: "cache hit rate (%)",
        scale: { domain: [0, 100] },
        axis: { tickCount: 5 },
      },
    },
    layer: [
      {
        mark: { type: "rule", strokeDash: [4, 4], color: "#999999" },
        data: { values: [{ overall: round2((100 * cached) / total) }] },
        encoding: { y: { field: "overall", type: "quantitative" }, x: null },
      },
      // Straight segments: smoothing would invent rates between bins.
      { mark: { type: "line", color: "#59a14f" } },
      {
        mark: { type: "point", filled: true, color: "#59a14f" },
        encoding: {
          size: {
            field: "tokens",
            type: "quantitative",
            scale: { range: [15, 120] },
            legend: null,
          },
          tooltip: [
            { field: "t", title: "bin centre (ms)", format: ",.0f" },
            { field: "rate", title: "hit rate (%)" },
            { field: "cached", title: "cached tokens", format: "," },
            { field: "tokens", title: "prompt tokens", format: "," },
          ],
        },
      },
    ],
  });
}

export function batchSizeSpec(trace: RunTrace, widthPx = CHART_WIDTH): VegaLiteSpec | undefined {
  const llm = trace.tasks.filter(isLlm);
  if (llm.length === 0) return undefined;
  const wall = wallOf(trace);
  const bin = niceBinMs(wall, MAX_BINS * 2);
  const nBins = Math.ceil(wall / bin);
  const lanes = sortLanes(llm.map((t) => t.lane));
  const rows: { t: number; lane: string; batch: number; busy: number }[] = [];
  for (const lane of lanes) {
    // Duration-weighted mean batch per bin: a 30 ms prefill of 32 weighs more than a 3 ms step.
    const sum = new Float64Array(nBins); // [bin] batch x ms
    const busy = new Float64Array(nBins); // [bin] ms
    for (const t of llm) {
      if (t.lane !== lane) continue;
      for (
        let b = Math.floor(t.startMs / bin);
        b <= Math.min(nBins - 1, Math.floor(t.endMs / bin));
        b++
      ) {
        const overlap = Math.min(t.endMs, (b + 1) * bin) - Math.max(t.startMs, b * bin);
        const w = Math.max(overlap, 1e-6);
        sum[b]! += t.batchSize * w;
        busy[b]! += w;
      }
    }
    for (let b = 0; b < nBins; b++) {
      // An idle bin is batch 0: the area drops to the axis, which reads as "nothing running".
      rows.push({
        t: round2(b * bin),
        lane: laneTitle(lane),
        batch: busy[b]! > 0 ? round2(sum[b]! / busy[b]!) : 0,
        busy: round2(busy[b]!),
      });
    }
  }
  const maxBatch = llm.reduce((m, t) => Math.max(m, t.batchSize), 0);
  const decode = llm.filter((t) => t.kind === "decode");
  const meanDecode = decode.length
    ? decode.reduce((s, t) => s + t.batchSize, 0) / decode.length
    : 0;
  const laneTitles = lanes.map(laneTitle);
  // One small area chart per worker: overlaid step lines of alternating workers read as noise.
  return styledSpec({
    title: {
      text: "LLM batch size over time",
      subtitle: subtitleLines(
        `sequences per forward pass, mean per ${formatMs(bin)} weighted by time · max ${maxBatch}, mean decode batch ${meanDecode.toFixed(1)} · 0: worker idle`.split(
          " · ",
        ),
      ),
    },
    data: { values: rows },
    facet: {
      row: {
        field: "lane",
        type: "nominal",
        title: null,
        sort: laneTitles,
        header: {
          labelAngle: 0,
          labelOrient: "top",
          labelAlign: "left",
          labelFontSize: 11,
          labelPadding: 2,
        },
      },
    },
    spacing: 6,
    spec: {
      width: widthPx,
      height: 64,
      mark: { type: "area", interpolate: "step-after", line: { strokeWidth: 1.2 }, opacity: 0.85 },
      encoding: {
        x: {
          field: "t",
          type: "quantitative",
          title: "time since run start (ms)",
          scale: { domain: [0, round2(wall)], nice: false },
        },
        y: {
          field: "batch",
          type: "quantitative",
          title: "sequences",
          scale: { domainMin: 0 },
          axis: { tickCount: 3 },
        },
        color: {
          field: "lane",
          type: "nominal",
          sort: laneTitles,
          scale: {
            domain: laneTitles,
            range: laneTitles.map((_, i) => LANE_COLORS[i % LANE_COLORS.length]!),
          },
          legend: null,
        },
        tooltip: [
          { field: "lane", title: "worker" },
          { field: "t", title: "bin start (ms)", format: ",.0f" },
          { field: "batch", title: "mean batch" },
          { field: "busy", title: "busy (ms)" },
        ],
      },
    },
  });
}

const LANE_COLORS = ["#4e79a7", "#76b7b2", "#edc948", "#af7aa1", "#ff9da7", "#9c755f"];
