// `halo bench planner [--queries N] [--workloads w]`: how long the optimizer takes to plan a
// workload's consolidated graph (issue 6's aim: 2,048 queries in under 2 s), pass by pass, without
// running the plan. The shipped model is loaded first (the passes tokenize with it), and the plan
// is made twice: the first includes JIT warm-up, the second is the steady figure.
import { DuckDBInstance } from "@duckdb/node-api";
import { defaultServices } from "../../src/frame/collect.ts";
import { prepareOptimizer } from "../../src/optimizer/index.ts";
import type { PlanReport } from "../../src/optimizer/physical.ts";
import { buildFrame } from "../systems/plan.ts";
import { getWorkload } from "../workloads/index.ts";
import { generateInputs } from "../workloads/inputs.ts";

export async function runPlannerBench(queries: number, workload: string): Promise<string[]> {
  const shape = getWorkload(workload);
  const inputs = generateInputs(shape, { queries, seed: 42, repeatRate: 0.5 });
  const instance = await DuckDBInstance.create(":memory:");
  try {
    // The tool server is never called: planning only renders requests.
    const { frame } = buildFrame(shape, inputs.rows, {
      instance,
      toolServerUrl: "http://127.0.0.1:9",
    });
    await prepareOptimizer(frame.plan({ optimized: false }), defaultServices.loadModel);
    const lines: string[] = [];
    for (const run of ["first", "second"]) {
      const dag = frame.plan({ optimized: true });
      const report = dag.nodes[dag.root]!.physical!.report as PlanReport;
      lines.push(
        `${workload}, ${queries} queries, ${dag.nodes.length} plan nodes, ${run} plan: ${report.plannerMs.toFixed(0)} ms (${report.passes.map((p) => `${p.name} ${p.ms.toFixed(0)}`).join(", ")})`,
      );
    }
    return lines;
  } finally {
    instance.closeSync();
  }
}
