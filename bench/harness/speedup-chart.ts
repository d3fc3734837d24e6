// The plot docs/benchmarks.md shows: halo's speedup over each baseline per workload (batch), and
// halo's saturation throughput over per-request serving (online), as a vega-lite chart rendered
// to SVG in-process (src/display/chart-bundle.ts). A rule at 1x marks "as fast as the baseline";
// the paper's figures (3.6x batch at best, 2.6x online) are drawn as the aims to beat.
import { normalizeSpec, renderChartSvg } from "../../src/display/chart-bundle.ts";
import type { BenchJson } from "./types.ts";

interface Bar {
  workload: string;
  versus: string;
  speedup: number;
}

/** One bar per workload and baseline (batch), plus per workload "online vs per-request". */
export function speedupBars(json: BenchJson): Bar[] {
  const bars: Bar[] = [];
  for (const w of json.workloads) {
    const halo = w.systems.halo?.seconds;
    if (!halo) continue;
    for (const [name, s] of Object.entries(w.systems))
      if (name !== "halo" && !name.startsWith("halo-"))
        bars.push({ workload: w.name, versus: `batch vs ${name}`, speedup: s.seconds / halo });
  }
  for (const o of json.online)
    if (o.throughputVsBest !== null)
      bars.push({ workload: o.name, versus: "online vs per-request", speedup: o.throughputVsBest });
  return bars;
}

export function speedupSpec(json: BenchJson, title: string): Record<string, unknown> {
  return normalizeSpec({
    title: { text: title, subtitle: "halo's speedup over each baseline (x); 1x: as fast" },
    width: 140,
    height: 220,
    data: { values: speedupBars(json) },
    facet: { column: { field: "workload", type: "nominal", title: null } },
    spec: {
      layer: [
        {
          mark: { type: "bar", tooltip: true },
          encoding: {
            x: { field: "versus", type: "nominal", axis: { title: null, labelAngle: -40 } },
            y: {
              field: "speedup",
              type: "quantitative",
              title: "speedup (x)",
              scale: { type: "log", domain: [0.25, 8] },
            },
            // Bars grow from 1x: up when halo is faster, down when slower (a log scale has no 0).
            y2: { datum: 1 },
            color: { field: "versus", type: "nominal", legend: null },
          },
        },
        { mark: { type: "rule", color: "#333" }, encoding: { y: { datum: 1 } } },
        {
          mark: { type: "text", dy: -6, fontSize: 10 },
          encoding: {
            x: { field: "versus", type: "nominal" },
            y: { field: "speedup", type: "quantitative" },
            text: { field: "speedup", type: "quantitative", format: ".2f" },
          },
        },
      ],
    },
  });
}

export async function speedupSvg(json: BenchJson, title: string): Promise<string> {
  return (await renderChartSvg(speedupSpec(json, title))).svg;
}
