// plan-batches: how many sequences of each LLM node decode together. Bigger batches amortize the
// per-step cost (decode_step = d_0 + d_row*B + d_kv*B*T) but every running sequence holds its own
// KV (prompt beyond the shared prefix, plus its output), and the shared prefix of the group
// stays cached while the group runs: the batch must fit the KV budget beside it. Among the sizes
// that fit (powers of two, the budget's limit, all calls), the cost model picks the cheapest.
//
// Gathering: the pipeline submits each row to the model as soon as its inputs exist, which keeps
// an accelerator busy while CPU tools run. When the model itself runs on the CPU (the profile's
// provider), there is nothing idle to overlap: the tools and the model share the cores, and rows
// trickling in split the node into small decode batches of mixed lengths mixed with other
// nodes' requests, paying d_0 per step for few rows. So on a CPU provider a node whose cheapest batch
// holds more than one call gathers its rows first and runs them as the batch planned here, unless
// an HTTP call feeds it (directly or through tools, not past another LLM node): waiting on a
// remote API costs no CPU, so streaming overlaps that wait with model work and is kept.
// Measured with `halo bench --queries 64` on the 2-core development machine (halo wall time,
// streamed -> gathered): lexicon-bridge 13.0 -> 7.8 s, tpch-fanout 13.0 -> 7.2 s,
// lexicon-longchain 11.2 -> 8.2 s, movies-triplechain 4.1 -> 3.1 s, movies-diamond 5.1 -> 4.9 s.
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import type { PlanDag } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { llmShape, llmState, rowsAt } from "./llm-shape.ts";
import { annotate, costNode, type Pass, type PassResult } from "./pass.ts";
import type { BatchPlan } from "./physical.ts";

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
    const room = ctx.processor.kv.budgetBytes - cost.kvBytes(shape.sharedTokens, model);
    const fit = Math.max(1, Math.floor(room / cost.kvBytes(privateTokens, model)));
    const limit = Math.min(fit, shape.calls);
    const sizes = new Set<number>([limit]);
    for (let b = 1; b < limit; b *= 2) sizes.add(b);
    let best: { size: number; ms: number } | undefined;
    for (const size of sizes) {
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
    const plan: BatchPlan = {
      size,
      batches: Math.ceil(shape.calls / size),
      reason: size === shape.calls ? "all calls" : size === fit ? "kv budget" : "cheapest",
      gather: size > 1 && cost.profile(model).provider === "cpu" && !waitsOnHttp(out, id),
    };
    annotate(node, "batch", plan);
    notes.push(`#${id} ${size}x${plan.batches}${plan.gather ? " gathered" : ""}`);
  }
  return { dag: out, effect: `batch size x batches: ${notes.join(", ") || "none"}` };
}

export const planBatches: Pass = {
  flag: "planBatches",
  name: "plan-batches",
  guard: (dag) => dag.nodes.some((n) => n.kind === "LlmCall"),
  rewrite,
};
