// plan-batches: how many sequences of each LLM node decode together. Bigger batches amortize the
// per-step cost (decode_step = d_0 + d_row*B + d_kv*B*T) but every running sequence holds its own
// KV (prompt beyond the shared prefix, plus its output), and the shared prefix of the group
// stays cached while the group runs: the batch must fit the KV budget beside it. Among the sizes
// that fit (powers of two, the budget's limit, all calls), the cost model picks the cheapest.
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import type { PlanDag } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { llmShape, llmState, rowsAt } from "./llm-shape.ts";
import { annotate, costNode, type Pass, type PassResult } from "./pass.ts";
import type { BatchPlan } from "./physical.ts";

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const views = instanceViews(out);
  const cost = ctx.cost;
  const notes: string[] = [];
  for (const id of topologicalOrder(out)) {
    const node = out.nodes[id]!;
    if (node.kind !== "LlmCall") continue;
    const shape = llmShape(node, rowsAt(views.get(node.inputs[0]!)));
    if (shape.calls === 0) continue;
    const model = node.args.modelKey;
    const promptTokens = shape.promptTokens;
    const output = cost.expectedOutputTokens(costNode(node));
    const privateTokens = Math.max(1, promptTokens - shape.sharedTokens + output);
    const room = cost.kvBudgetBytes(model) - cost.kvBytes(shape.sharedTokens, model);
    const fit = Math.max(1, Math.floor(room / cost.kvBytes(privateTokens, model)));
    const limit = Math.min(fit, shape.calls);
    const sizes = new Set<number>([limit]);
    for (let b = 1; b < limit; b *= 2) sizes.add(b);
    let best: { size: number; ms: number } | undefined;
    for (const size of sizes) {
      const ms = cost.estimate(costNode(node), { ...llmState(node, shape), batchSize: size }).ms;
      // Ties go to the larger batch: same predicted time, fewer rounds for the scheduler.
      if (!best || ms < best.ms || (ms === best.ms && size > best.size)) best = { size, ms };
    }
    const size = best!.size;
    const plan: BatchPlan = {
      size,
      batches: Math.ceil(shape.calls / size),
      reason: size === shape.calls ? "all calls" : size === fit ? "kv budget" : "cheapest",
    };
    annotate(node, "batch", plan);
    notes.push(`#${id} ${size}x${plan.batches}`);
  }
  return { dag: out, effect: `batch size x batches: ${notes.join(", ") || "none"}` };
}

export const planBatches: Pass = {
  flag: "planBatches",
  name: "plan-batches",
  guard: (dag) => dag.nodes.some((n) => n.kind === "LlmCall"),
  rewrite,
};
