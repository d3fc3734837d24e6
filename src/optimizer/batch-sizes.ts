// batch-sizes (an analysis): how many sequences of each LLM node would best decode together by
// the cost model. Bigger batches amortize the per-step cost (decode_step = d_0 + d_row*B +
// d_kv*B*T) but every running sequence holds its own KV (prompt beyond the shared prefix, plus
// its output), and the shared prefix of the group stays cached while the group runs: the batch
// must fit the Processor's KV budget beside it. Among the sizes that fit (powers of two, the
// budget's limit, all calls), the cheapest. The worker does not take this size: its BatchSizer
// follows measured step times and its admission the KV it has, and capping each node at the
// planned size measured no better (docs/optimizer.md).
import { topologicalOrder } from "../plan/dag.ts";
import type { PlanDag } from "../plan/types.ts";
import type { Analysis } from "./analysis.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { llmShape, llmState, outputTokensOf, rowsAt } from "./llm-shape.ts";
import { costNode } from "./pass.ts";
import type { BatchSizing } from "./physical.ts";

function run(dag: PlanDag, ctx: OptimizerContext) {
  const views = instanceViews(dag);
  const cost = ctx.cost;
  const sizes: BatchSizing[] = [];
  for (const id of topologicalOrder(dag)) {
    const node = dag.nodes[id]!;
    if (node.kind !== "LlmCall") continue;
    const shape = llmShape(node, rowsAt(views.get(node.inputs[0]!)), ctx.cost);
    if (shape.calls === 0) continue;
    const model = node.args.modelKey;
    const output = outputTokensOf(node, ctx);
    const privateTokens = Math.max(1, shape.promptTokens - shape.sharedTokens + output);
    const room = ctx.processor.kv.budgetBytes - cost.kvBytes(shape.sharedTokens, model);
    const fit = Math.max(1, Math.floor(room / cost.kvBytes(privateTokens, model)));
    const limit = Math.min(fit, shape.calls);
    const candidates = new Set<number>([limit]);
    for (let b = 1; b < limit; b *= 2) candidates.add(b);
    let best: { size: number; ms: number } | undefined;
    for (const size of candidates) {
      // Without warm-up: it is paid once per session, and counting it here would keep a cold
      // process on small batches whose memory never grows (the batch serves every later run).
      const ms = cost.estimate(costNode(node), {
        ...llmState(node, shape, ctx),
        batchSize: size,
        warmup: false,
      }).ms;
      // Ties go to the larger batch: same predicted time, fewer rounds for the scheduler.
      if (!best || ms < best.ms || (ms === best.ms && size > best.size)) best = { size, ms };
    }
    const size = best!.size;
    sizes.push({
      nodeId: id,
      size,
      batches: Math.ceil(shape.calls / size),
      reason: size === shape.calls ? "all calls" : size === fit ? "kv budget" : "cheapest",
    });
  }
  const effect = sizes.map((b) => `#${b.nodeId} ${b.size}x${b.batches}`).join(", ") || "none";
  return { report: { batchSizes: sizes }, effect: `batch size x batches: ${effect}` };
}

export const batchSizes: Analysis = {
  name: "batch-sizes",
  guard: (dag) => dag.nodes.some((n) => n.kind === "LlmCall"),
  run,
};
