// `LazyFrame` display: the explain text (what the optimizer decided, as Polars prints it) next
// to the plan drawn as a graph. text/plain carries the explain text alone.
import type { MimeBundle } from "./host.ts";
import { escapeHtml } from "./html.ts";
import { drawPlanSvg } from "./plan-drawing.ts";
import type { PlanGraph } from "./plan-graph-types.ts";

export async function explainBundle(text: string, graph: PlanGraph): Promise<MimeBundle> {
  if (typeof text !== "string") {
    throw new TypeError(`explainBundle: expected the explain text as a string, got ${typeof text}`);
  }
  const { svg } = await drawPlanSvg(graph);
  const html =
    `<div class="halo-explain" style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">` +
    `<pre style="margin:0;font-size:12px;line-height:1.35;white-space:pre;overflow-x:auto;max-width:100%">${escapeHtml(text)}</pre>` +
    `<div class="halo-plan">${svg}</div></div>`;
  return { "text/html": html, "image/svg+xml": svg, "text/plain": text };
}
