// Issue 9's aims against a run: each line names the figure and says met or not met.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkAims } from "../../../bench/harness/aims.ts";
import type { OnlineResult } from "../../../bench/harness/run-online.ts";
import type { WorkloadResult } from "../../../bench/harness/types.ts";

const batch = (speedupVsBest: number | null) => ({ speedupVsBest }) as WorkloadResult;
const online = (throughputVsBest: number | null) => ({ throughputVsBest }) as OnlineResult;

test("short of every aim: each says not met, with the figure", () => {
  const lines = checkAims([batch(1.2), batch(2.19), batch(null)], [online(1.5), online(2.09)]);
  assert.equal(lines, [
    "aim 3.6x over the best baseline on some workload: best 2.19x (not met)",
    "aim 2x geometric mean over the best baseline: 1.62x over 2 workloads (not met)",
    "aim 2.6x online saturation throughput: best 2.09x, geometric mean 1.77x (not met)",
  ]);
});

test("aims met say so; no figures, no lines", () => {
  const lines = checkAims([batch(4), batch(2)], [online(3)]);
  assert.match(lines[0]!, /best 4\.00x \(met\)/);
  assert.match(lines[1]!, /2\.83x over 2 workloads \(met\)/);
  assert.match(lines[2]!, /\(met on some workload\)/);
  assert.equal(checkAims([], []), []);
});

test("issue 19's floor aim: halo's worst seconds / floor against the multiple asked for", () => {
  const withFloor = (name: string, halo: number, floor: number) =>
    ({
      name,
      speedupVsBest: null,
      floor: { seconds: floor },
      systems: [{ name: "halo", role: "halo", seconds: halo }],
    }) as unknown as WorkloadResult;
  const runs = [withFloor("a", 3, 2), withFloor("b", 8, 2)];
  assert.equal(checkAims(runs, [], { floorMultiple: 2 }), [
    "aim halo within 2x of the floor on every workload: worst 4.00x (b), geometric mean 2.45x (not met)",
  ]);
  assert.match(checkAims(runs, [], { floorMultiple: 5 })[0]!, /worst 4\.00x \(b\).*\(met\)$/);
  // No multiple asked for: no line.
  assert.equal(checkAims(runs, []), []);
});

test.run();
