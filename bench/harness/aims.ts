// Issue 9's aims, checked against a run: at least 3.6x over the best baseline on some workload,
// at least 2x as a geometric mean over the workloads, and at least 2.6x online saturation
// throughput; and issue 19's: halo within a multiple of the floor on every workload. Each line says the figure and whether it meets its aim, so a shortfall is printed
// and written into the JSON's notes plainly, never left for a reader to work out.
import type { OnlineResult } from "./run-online.ts";
import type { WorkloadResult } from "./types.ts";

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

export function checkAims(
  results: readonly WorkloadResult[],
  online: readonly OnlineResult[],
  options: { floorMultiple?: number } = {},
): string[] {
  const lines: string[] = [];
  const batch = results.map((r) => r.speedupVsBest).filter((x): x is number => x !== null);
  if (batch.length > 0) {
    const best = Math.max(...batch);
    const mean = geomean(batch);
    lines.push(
      `aim 3.6x over the best baseline on some workload: best ${best.toFixed(2)}x (${best >= 3.6 ? "met" : "not met"})`,
      `aim 2x geometric mean over the best baseline: ${mean.toFixed(2)}x over ${batch.length} workloads (${mean >= 2 ? "met" : "not met"})`,
    );
  }
  const ratios = online.map((o) => o.throughputVsBest).filter((x): x is number => x !== null);
  if (ratios.length > 0) {
    const best = Math.max(...ratios);
    lines.push(
      `aim 2.6x online saturation throughput: best ${best.toFixed(2)}x, geometric mean ${geomean(ratios).toFixed(2)}x (${best >= 2.6 ? "met on some workload" : "not met"})`,
    );
  }
  const vsFloor = results.flatMap((r) => {
    if (options.floorMultiple === undefined) return [];
    const halo = r.systems.find((m) => m.role === "halo" && !m.error);
    return halo && r.floor ? [{ name: r.name, x: halo.seconds / r.floor.seconds }] : [];
  });
  if (options.floorMultiple !== undefined && vsFloor.length > 0) {
    const worst = vsFloor.reduce((a, b) => (b.x > a.x ? b : a));
    lines.push(
      `aim halo within ${options.floorMultiple}x of the floor on every workload: worst ${worst.x.toFixed(2)}x (${worst.name}), ` +
        `geometric mean ${geomean(vsFloor.map((v) => v.x)).toFixed(2)}x (${worst.x <= options.floorMultiple ? "met" : "not met"})`,
    );
  }
  return lines;
}
