// Shared look of every chart: one font stack (DejaVu is what Debian and resvg have; browsers
// fall back to their sans-serif), titles anchored left with a grey subtitle, no view border.
import type { VegaLiteSpec } from "./chart-bundle.ts";

export const CHART_WIDTH = 640;

export const CHART_CONFIG = {
  font: "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif",
  view: { stroke: null },
  title: { fontSize: 14, anchor: "start", subtitleColor: "#555555", subtitleFontSize: 11 },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal", titleColor: "#333333" },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal" },
} as const;

/** Wraps a chart body with $schema and the shared config. */
export function styledSpec(body: VegaLiteSpec): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    config: CHART_CONFIG,
    ...body,
  };
}

/** A round bin width giving at most about `maxBins` bins over `spanMs` (1, 2, 5 x 10^k ms). */
export function niceBinMs(spanMs: number, maxBins: number): number {
  const raw = Math.max(spanMs, 1e-3) / Math.max(1, maxBins);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * The run's span: wallMs, or the last task's end if a task outlived it. A loop, not
 * Math.max(...tasks): spreading 100k+ arguments overflows the call stack.
 */
export function traceWallMs(trace: { wallMs: number; tasks: { endMs: number }[] }): number {
  let wall = Math.max(trace.wallMs, 1e-3);
  for (const t of trace.tasks) if (t.endMs > wall) wall = t.endMs;
  return wall;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Joins subtitle parts with " · " into lines of at most `maxChars`. Vega sizes text headless at
 * 0.8 em per character (no canvas to measure), so one long subtitle line would widen the whole
 * SVG far past the plot; wrapped lines keep the chart its own width.
 */
export function subtitleLines(parts: string[], maxChars = 80): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const p of parts) {
    const next = cur ? `${cur} · ${p}` : p;
    if (cur && next.length > maxChars) {
      lines.push(cur);
      cur = p;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}
