// Per-node estimates before and after the passes, for explain's "predicted cost before/after".
// Before: the calls the lowered plan makes (every row, nothing cached, the cost model's default
// batching). After: what the annotations say (fan-out, cached prefixes, planned batches).
import type { OptimizerContext } from "./context.ts";
import type { Estimate } from "../cost/cost-model.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { CALL_KINDS, type PlanDag, type PlanNode } from "../plan/types.ts";
import { instanceViews } from "./instances.ts";
import { costNode } from "./pass.ts";
import { llmShape, llmState, rowsAt } from "./llm-shape.ts";

function estimateNode(
  node: PlanNode,
  rows: number,
  ctx: OptimizerContext,
  after: boolean,
): Estimate {
  if (node.kind === "LlmCall") {
    const bare: PlanNode = { ...node, physical: undefined };
    const subject = after ? node : bare;
    return ctx.cost.estimate(costNode(subject), llmState(subject, llmShape(subject, rows), ctx));
  }
  const calls = after ? (node.physical?.fanOut?.distinct ?? rows) : rows;
  return ctx.cost.estimate(costNode(node), { calls });
}

/** The estimate per call node, keyed by the node's `args` object (shared by every copy of it). */
export function estimateCalls(
  dag: PlanDag,
  ctx: OptimizerContext,
  after: boolean,
): Map<object, Estimate> {
  const views = instanceViews(dag);
  const out = new Map<object, Estimate>();
  for (const id of topologicalOrder(dag)) {
    const node = dag.nodes[id]!;
    if (!CALL_KINDS.has(node.kind)) continue;
    out.set(node.args, estimateNode(node, rowsAt(views.get(node.inputs[0]!)), ctx, after));
  }
  return out;
}
