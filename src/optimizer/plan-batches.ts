// plan-batches: whether an LLM node's rows gather before any reaches the model. The pipeline
// submits each row to the model as soon as its inputs exist, which keeps an accelerator busy while
// CPU tools run. When the model itself runs on the CPU (the profile's provider), there is nothing
// idle to overlap: the tools and the model share the cores, and rows trickling in split the node
// into small decode batches of mixed lengths mixed with other nodes' requests, paying d_0 per
// step for few rows. So on a CPU provider a node with more than one call, whose KV budget holds
// more than one of its sequences at once, gathers its rows first and sends them together (in
// group-shared-prefixes' order), unless an HTTP call feeds it (directly or through tools, not
// past another LLM node): waiting on a remote API costs no CPU, so streaming overlaps that wait
// with model work and is kept.
// Measured with `halo bench --queries 64` on the 2-core development machine (halo wall time,
// streamed -> gathered): lexicon-bridge 13.0 -> 7.8 s, tpch-fanout 13.0 -> 7.2 s,
// lexicon-longchain 11.2 -> 8.2 s, movies-triplechain 4.1 -> 3.1 s, movies-diamond 5.1 -> 4.9 s.
// The pass once also chose a batch size per node that nothing executed; that is now the
// batch-sizes analysis (explain only), since capping each node at it measured no better.
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import type { PlanDag } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { kvBoundBatch, llmShape, rowsAt } from "./llm-shape.ts";
import { annotate, type Pass, type PassResult } from "./pass.ts";

/** Whether an HTTP call lies upstream of node `id` before any other LLM node (or the source). */
function waitsOnHttp(dag: PlanDag, id: number): boolean {
  const seen = new Set<number>();
  const stack = [...dag.nodes[id]!.inputs];
  while (stack.length > 0) {
    const n = dag.nodes[stack.pop()!]!;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    if (n.kind === "HttpCall") return true;
    if (n.kind !== "LlmCall") stack.push(...n.inputs);
  }
  return false;
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const views = instanceViews(out);
  const gathered: number[] = [];
  for (const id of topologicalOrder(out)) {
    const node = out.nodes[id]!;
    if (node.kind !== "LlmCall") continue;
    const shape = llmShape(node, rowsAt(views.get(node.inputs[0]!)), ctx.cost);
    const together = Math.min(shape.calls, kvBoundBatch(node, shape, ctx));
    const cpu = ctx.cost.profile(node.args.modelKey).provider === "cpu";
    if (together > 1 && cpu && !waitsOnHttp(out, id)) {
      annotate(node, "gather", true);
      gathered.push(id);
    }
  }
  return {
    dag: out,
    effect: `rows gathered before the model: ${gathered.map((id) => `#${id}`).join(", ") || "none"}`,
  };
}

export const planBatches: Pass = {
  flag: "planBatches",
  name: "plan-batches",
  guard: (dag) => dag.nodes.some((n) => n.kind === "LlmCall"),
  rewrite,
};
