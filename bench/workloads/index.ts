// The six workloads by name (issue 9's list, mirroring the Halo paper's six shapes).
import { lexiconBridge } from "./lexicon-bridge.ts";
import { lexiconLongchain } from "./lexicon-longchain.ts";
import { moviesDiamond } from "./movies-diamond.ts";
import { moviesTriplechain } from "./movies-triplechain.ts";
import { tpchFanout } from "./tpch-fanout.ts";
import { tpchTrident } from "./tpch-trident.ts";
import type { WorkflowShape } from "./types.ts";

export const WORKLOADS: readonly WorkflowShape[] = [
  moviesDiamond,
  moviesTriplechain,
  lexiconLongchain,
  lexiconBridge,
  tpchTrident,
  tpchFanout,
];

export const WORKLOAD_NAMES = WORKLOADS.map((w) => w.name);

export function getWorkload(name: string): WorkflowShape {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown workload '${name}': choose from ${WORKLOAD_NAMES.join(", ")}`);
  return w;
}
