// start-calls-early: a call node gets its row from the node just before it, but often reads
// none of what the nodes in between add. A workflow compiles to a chain (halo.workflow runs its
// nodes in one topological order), so in a diamond the HTTP call of one branch waits, row by row,
// for the LLM answer of another branch it never reads. For each call node this pass looks up the
// chain past call nodes (each adds its columns, and neither drops nor changes rows) to the first
// node that is not one (source, filter, map, join: the base), and records the base and the calls
// whose columns it reads as `physical.early`. The Processor then starts the call once the base's
// row and those calls' answers exist, and joins its answer to its own row when that arrives (an
// LLM node that gathers, gathers on those early rows). It is planned only where it waits for
// less than the whole chain above it.
//
// Results are identical: the request rendered from the early row is the one the later row would
// render, since nothing in between writes a column the call reads. Volatile calls (sampled LLM,
// non-GET HTTP, writing SQL) keep their place: the one thing that differs is a row whose call in
// between fails. It gets a null output either way, but an early call was already made for it.
//
// Which calls, by the cost model's profile: HTTP and LLM calls always (waiting on a remote API
// costs no CPU; an LLM call only joins the worker's queue sooner). SQL and function calls only
// when no model of the plan runs on the CPU. On a CPU provider they keep their place: tools and
// model share the cores, and a query beside a forward slows both. On movies-diamond and
// tpch-trident at 32 queries (2 cores, load 7-10) SQL started early was not faster, and with
// 8 SQL calls in flight it used 25-35% more CPU seconds (docs/benchmarks.md, "Profile").
import { requiredColumns, writtenColumns } from "../plan/columns.ts";
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import { CALL_KINDS, type PlanDag, type PlanNode } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { annotate, type Pass, type PassResult } from "./pass.ts";

/** Calls that use the local CPU while they run (HTTP waits on another machine). */
const CPU_CALLS: ReadonlySet<string> = new Set(["SqlCall", "FnCall"]);

/** A call node's columns (one input, rows in and out one to one); undefined for other nodes. */
function outputsOf(node: PlanNode): string[] | undefined {
  if (!CALL_KINDS.has(node.kind) || node.inputs.length !== 1) return undefined;
  return writtenColumns(node.kind, node.args);
}

export interface EarlyPlan {
  /** The nearest node upstream that is not such a call (a source, filter, map, join). */
  base: number;
  /** Call nodes between `base` and the node whose outputs it reads (the nearest writer of each). */
  deps: number[];
}

/**
 * What a call reads and where from, looking up its chain past call nodes, when it needs fewer
 * of them than the chain holds; undefined when it needs them all (nothing to start earlier).
 * `eligible` says which calls may start early at all; a dependency that may not runs in chain
 * order, so the call then needs everything above that dependency too.
 */
export function earlyPlan(
  dag: PlanDag,
  node: PlanNode,
  eligible: (node: PlanNode) => boolean,
  memo: Map<number, { plan?: EarlyPlan; needs: Set<number> }> = new Map(),
): EarlyPlan | undefined {
  return planOf(dag, node, eligible, memo).plan;
}

function planOf(
  dag: PlanDag,
  node: PlanNode,
  eligible: (node: PlanNode) => boolean,
  memo: Map<number, { plan?: EarlyPlan; needs: Set<number> }>,
): { plan?: EarlyPlan; needs: Set<number> } {
  const known = memo.get(node.id);
  if (known) return known;
  const segment: number[] = [];
  let at = node.inputs[0];
  while (at !== undefined && outputsOf(dag.nodes[at]!) !== undefined) {
    segment.push(at);
    at = dag.nodes[at]!.inputs[0];
  }
  const all = new Set(segment);
  let result: { plan?: EarlyPlan; needs: Set<number> } = { needs: all };
  if (at !== undefined && segment.length > 0 && outputsOf(node) !== undefined && eligible(node)) {
    const deps: number[] = [];
    for (const column of new Set(requiredColumns(node.kind, node.args)[0])) {
      const writer = segment.find((id) => outputsOf(dag.nodes[id]!)!.includes(column));
      if (writer !== undefined && !deps.includes(writer)) deps.push(writer);
    }
    // Everything the call waits for: its writers and what they wait for in turn.
    const needs = new Set<number>();
    for (const dep of deps) {
      needs.add(dep);
      const up = planOf(dag, dag.nodes[dep]!, eligible, memo);
      const theirs = up.plan ? up.needs : segment.slice(segment.indexOf(dep));
      for (const id of theirs) needs.add(id);
    }
    if (needs.size < segment.length)
      result = { plan: { base: at, deps: deps.sort((a, b) => a - b) }, needs };
  }
  memo.set(node.id, result);
  return result;
}

/** Whether some LLM node of the plan runs its model on the CPU provider (by its profile). */
function modelOnCpu(dag: PlanDag, ctx: OptimizerContext): boolean {
  return dag.nodes.some(
    (n) => n.kind === "LlmCall" && ctx.cost.profile(n.args.modelKey).provider === "cpu",
  );
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const notes: string[] = [];
  const cpuShared = modelOnCpu(out, ctx);
  const eligible = (n: PlanNode) =>
    n.volatility !== "volatile" && !(cpuShared && CPU_CALLS.has(n.kind));
  const memo = new Map<number, { plan?: EarlyPlan; needs: Set<number> }>();
  for (const id of topologicalOrder(out)) {
    const node = out.nodes[id]!;
    const plan = earlyPlan(out, node, eligible, memo);
    if (!plan) continue;
    annotate(node, "early", plan);
    notes.push(`#${id} from #${[plan.base, ...plan.deps].join("+#")}`);
  }
  return {
    dag: out,
    effect: notes.length
      ? `${notes.length} call node(s) start before their input row: ${notes.join(", ")}`
      : "none",
  };
}

export const startCallsEarly: Pass = {
  flag: "startCallsEarly",
  name: "start-calls-early",
  guard: (dag) => dag.nodes.some((n) => CALL_KINDS.has(n.kind)),
  rewrite,
};
