// pushdown-filters: an analysable predicate (`halo.col(...)` expression) that reads only columns
// already present below an LLM or tool call moves before that call, so rows it drops are never
// sent to the model or the tool. Repeats until no filter can move (past several calls, and past
// selects on the way). Results are identical: a call adds its columns and never drops rows, so
// filtering before or after keeps the same rows with the same values.
//
// Guard for each swap: the filter is an expression; every column it reads exists in the call's
// input and is not the call's output; the call feeds only this filter (moving a filter below a
// call that other nodes also read would drop rows they need); and the cost model says the call
// costs something per row (a zero-cost node gains nothing from fewer rows).
import { deriveColumns, writtenColumns } from "../plan/columns.ts";
import { copyDag, consumersOf } from "../plan/dag.ts";
import { exprColumns } from "../plan/expr.ts";
import { CALL_KINDS, type PlanDag, type PlanNode } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { costNode, type Pass, type PassResult } from "./pass.ts";
import { compact, resign } from "./rewrite.ts";

function movable(dag: PlanDag, filter: PlanNode, ctx: OptimizerContext): PlanNode | undefined {
  if (filter.kind !== "Filter" || filter.args.predicate.type !== "expr") return undefined;
  const below = dag.nodes[filter.inputs[0]!]!;
  const reads = [...exprColumns(filter.args.predicate.expr)];
  if (CALL_KINDS.has(below.kind)) {
    const outs = writtenColumns(below.kind, below.args);
    const inputCols = dag.nodes[below.inputs[0]!]!.columns;
    if (!inputCols || reads.some((c) => outs.includes(c) || !inputCols.includes(c)))
      return undefined;
    if (ctx.cost.estimate(costNode(below), { calls: 1 }).ms <= 0) return undefined;
    return below;
  }
  // A select keeps values as they are; moving past it lets the filter reach the call beneath.
  const beneath = below.inputs[0] === undefined ? undefined : dag.nodes[below.inputs[0]];
  if (
    below.kind === "Map" &&
    below.args.op.type === "select" &&
    beneath &&
    CALL_KINDS.has(beneath.kind)
  ) {
    const inputCols = dag.nodes[below.inputs[0]!]!.columns;
    if (!inputCols || reads.some((c) => !inputCols.includes(c))) return undefined;
    return below;
  }
  return undefined;
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const passedCalls = new Set<number>();
  const moved = new Set<number>();
  for (let changed = true; changed; ) {
    changed = false;
    const consumers = consumersOf(out);
    for (const filter of out.nodes) {
      const below = movable(out, filter, ctx);
      if (!below || (consumers.get(below.id) ?? []).length !== 1) continue;
      // F(X(Y)) becomes X(F(Y)): the filter takes the call's input, the call reads the filter,
      // and whoever read the filter now reads the call. Ids stay with their operations.
      const fConsumers = consumers.get(filter.id) ?? [];
      filter.inputs = [below.inputs[0]!];
      below.inputs = [filter.id];
      for (const c of fConsumers) {
        const node = out.nodes[c]!;
        node.inputs = node.inputs.map((i) => (i === filter.id ? below.id : i));
      }
      if (out.root === filter.id) out.root = below.id;
      filter.columns = deriveColumns(filter.kind, filter.args, [
        out.nodes[filter.inputs[0]!]!.columns,
      ]);
      below.columns = deriveColumns(below.kind, below.args, [filter.columns]);
      if (CALL_KINDS.has(below.kind)) passedCalls.add(below.id);
      moved.add(filter.id);
      changed = true;
      break;
    }
  }
  resign(dag, out);
  // Calls saved: rows the moved filters drop before each call they passed (when rows are known).
  const before = instanceViews(dag);
  const after = instanceViews(out);
  let saved = 0;
  let known = true;
  for (const id of passedCalls) {
    const b = before.get(dag.nodes[id]!.inputs[0]!);
    const a = after.get(out.nodes[id]!.inputs[0]!);
    if (b && a) saved += b.rows.length - a.rows.length;
    else known = false;
  }
  return {
    dag: compact(out),
    effect: `${moved.size} filter(s) moved before ${passedCalls.size} call node(s); ${known ? saved : `at least ${saved}`} call(s) saved`,
  };
}

export const pushdownFilters: Pass = {
  flag: "pushdownFilters",
  name: "pushdown-filters",
  guard(dag, ctx) {
    const consumers = consumersOf(dag);
    return dag.nodes.some((n) => {
      const below = movable(dag, n, ctx);
      return below !== undefined && (consumers.get(below.id) ?? []).length === 1;
    });
  },
  rewrite,
};
