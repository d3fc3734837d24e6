// The display module's public surface: mime bundles for charts, run reports, tables, progress and
// plan drawings. Everything here works without Jupyter; the kernel only installs a DisplayHost.
export { DISPLAY_SYMBOL, getDisplayHost, setDisplayHost } from "./host.ts";
export type { DisplayHost, MimeBundle } from "./host.ts";
export { bundleFor } from "./auto-bundle.ts";
export {
  chartBundle,
  renderChartSvg,
  VEGA_LITE_MIME,
  type ChartBundleOptions,
  type VegaLiteSpec,
} from "./chart-bundle.ts";
export { pngFromSvg, type PngOptions } from "./png.ts";
export { timelineSpec } from "./timeline-chart.ts";
export { costSpec, tokensSpec } from "./node-charts.ts";
export { batchSizeSpec, cacheHitSpec } from "./time-charts.ts";
export {
  RunReport,
  runReportBundle,
  runReportBundles,
  runReportSpec,
  runReportSpecs,
  runSummaryText,
} from "./run-report.ts";
export { dataFrameBundle, type TableOptions } from "./table.ts";
export {
  ProgressReporter,
  type ProgressOptions,
  type ProgressOutcome,
  type ProgressSnapshot,
} from "./progress.ts";
export { explainBundle } from "./explain.ts";
export { drawPlanSvg } from "./plan-drawing.ts";
export type { PlanGraph, PlanGraphEdge, PlanGraphNode } from "./plan-graph-types.ts";
export { notebookReportHtml, type NotebookLike } from "./notebook-report.ts";
