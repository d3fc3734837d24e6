// The benchmark plot: one bar per workload and baseline (seconds ratio), one for online
// throughput, rendered to an SVG that parses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { speedupBars, speedupSvg } from "../../../bench/harness/speedup-chart.ts";
import type { BenchJson } from "../../../bench/harness/types.ts";
import { parseXml } from "../../display/xml-check.ts";

const sys = (seconds: number) => ({
  seconds,
  prefillTokens: null,
  decodeTokens: null,
  toolCalls: 0,
  peakRssMb: 1,
  vsFloor: null,
  gap: null,
});
const json: BenchJson = {
  machine: {},
  workloads: [
    {
      name: "w1",
      queries: 8,
      identicalOutputs: true,
      systems: { halo: sys(2), opwise: sys(5), "per-request": sys(1), "halo-no-x": sys(3) },
      speedupVsBest: 0.5,
      floorSeconds: null,
      floor: null,
    },
  ],
  online: [
    {
      name: "w1",
      queries: 8,
      offeredQps: [1, 2, 4],
      identicalOutputs: true,
      systems: {},
      throughputVsBest: 1.8,
      floorQps: null,
    },
  ],
  notes: [],
};

test("bars: seconds ratio per baseline (ablations left out), online ratio", () => {
  assert.equal(speedupBars(json), [
    { workload: "w1", versus: "batch vs opwise", speedup: 2.5 },
    { workload: "w1", versus: "batch vs per-request", speedup: 0.5 },
    { workload: "w1", versus: "online vs per-request", speedup: 1.8 },
  ]);
});

test("the chart renders to SVG with a bar per figure", async () => {
  const svg = await speedupSvg(json, "bench");
  parseXml(svg);
  assert.match(svg, /bench/);
  assert.ok((svg.match(/role-mark|<path/g) ?? []).length >= 3);
});

test.run();
