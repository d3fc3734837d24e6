// Per-node estimates before and after the passes: explain's "predicted cost before/after", and
// after the passes the figures `lf.estimate()`, a budget and `halo.lastRun` read (time, calls,
// prompt, cached and generated tokens, dollars at the model's price). Before: the calls the
// lowered plan makes (every row, nothing cached, the cost model's default batching). After: what
// the annotations say (fan-out, cached prefixes, planned batches), and nothing for the nodes the
// session keeps tables of (the executors' reuse walk, with the same lookup).
import type { OptimizerContext } from "./context.ts";
import type { Estimate } from "../cost/cost-model.ts";
import { usdOf } from "../cost/price.ts";
import { reuseWalk } from "../executor/row-steps.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { CALL_KINDS, type LlmArgs, type PlanDag, type PlanNode } from "../plan/types.ts";
import { instanceViews } from "./instances.ts";
import { annotate, costNode } from "./pass.ts";
import { callsAt, llmShape, llmState, rowsAt } from "./llm-shape.ts";
import type { NodeEstimate, PlanTotals } from "./physical.ts";

interface CallEstimate extends Estimate {
  rows: number;
  /** Answered by a kept node table: nothing runs. */
  kept: boolean;
}

function estimateNode(
  node: PlanNode,
  rows: number,
  ctx: OptimizerContext,
  after: boolean,
): Estimate {
  if (node.kind === "LlmCall") {
    const bare: PlanNode = { ...node, physical: undefined };
    const subject = after ? node : bare;
    return ctx.cost.estimate(
      costNode(subject),
      llmState(subject, llmShape(subject, rows, ctx.cost), ctx),
    );
  }
  const calls = after ? callsAt(node, rows, ctx.cost) : rows;
  return ctx.cost.estimate(costNode(node), { calls });
}

/** The estimate per call node, keyed by the node's `args` object (shared by every copy of it). */
export function estimateCalls(
  dag: PlanDag,
  ctx: OptimizerContext,
  after: boolean,
): Map<object, CallEstimate> {
  const views = instanceViews(dag);
  const kept =
    after && ctx.kept ? reuseWalk(dag, (s) => (ctx.kept!(s) ? true : undefined)) : undefined;
  const out = new Map<object, CallEstimate>();
  for (const id of topologicalOrder(dag)) {
    const node = dag.nodes[id]!;
    if (!CALL_KINDS.has(node.kind)) continue;
    const rows = rowsAt(views.get(node.inputs[0]!));
    if (kept && (kept.reused.has(id) || !kept.needed.has(id))) {
      const zero = ctx.cost.estimate(costNode(node), { calls: 0 });
      out.set(node.args, { ...zero, rows, kept: true });
      continue;
    }
    out.set(node.args, { ...estimateNode(node, rows, ctx, after), rows, kept: false });
  }
  return out;
}

const TOOL_KINDS = { SqlCall: "sql", HttpCall: "http", FnCall: "function" } as const;

/**
 * Writes each call node's estimate (`physical.estimate`) on the optimized plan and returns the
 * plan's totals. Time is the sum over nodes (each node's own work; what overlaps is docs/
 * cost-model.md's to say).
 */
export function annotateEstimates(
  dag: PlanDag,
  before: Map<object, CallEstimate>,
  after: Map<object, CallEstimate>,
  ctx: OptimizerContext,
): PlanTotals {
  const totals: PlanTotals = {
    ms: 0,
    llmCalls: 0,
    toolCalls: { sql: 0, http: 0, function: 0 },
    promptTokens: 0,
    cachedTokens: 0,
    decodeTokens: 0,
  };
  for (const node of dag.nodes) {
    const a = after.get(node.args);
    if (a === undefined) continue;
    const price =
      node.kind === "LlmCall" ? ctx.priceOf((node.args as LlmArgs).modelKey) : undefined;
    const usd = price
      ? usdOf(price, { prompt: a.promptTokens, cached: a.cachedTokens, decode: a.decodeTokens })
      : undefined;
    const estimate: NodeEstimate = {
      beforeMs: before.get(node.args)?.ms ?? a.ms,
      afterMs: a.ms,
      ...(a.footprintBytes > 0 ? { footprintBytes: a.footprintBytes } : {}),
      rows: a.rows,
      calls: a.calls,
      promptTokens: a.promptTokens,
      cachedTokens: a.cachedTokens,
      decodeTokens: a.decodeTokens,
      ...(usd !== undefined && { usd }),
      ...(a.kept && { kept: true }),
    };
    annotate(node, "estimate", estimate);
    totals.ms += a.ms;
    if (node.kind === "LlmCall") totals.llmCalls += a.calls;
    else totals.toolCalls[TOOL_KINDS[node.kind as keyof typeof TOOL_KINDS]] += a.calls;
    totals.promptTokens += a.promptTokens;
    totals.cachedTokens += a.cachedTokens;
    totals.decodeTokens += a.decodeTokens;
    if (usd !== undefined) totals.usd = (totals.usd ?? 0) + usd;
  }
  return totals;
}
