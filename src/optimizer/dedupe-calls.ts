// dedupe-calls: work that is the same runs once.
// - Nodes: two nodes with one signature (same operation over the same inputs) become one, its
//   result feeding every consumer. lower() already merges what the frames spelled the same way;
//   this catches what other rewrites made equal (a filter pushed down in one frame where another
//   frame wrote it first) across frames and cells collected together.
// - Instances: per-row calls of one node whose rendered request is equal (same prompt and
//   sampling, same SQL parameters, same URL and body, same function arguments) run once and the
//   result fans out to every such row. Expressed as an annotation (`physical.fanOut`) that the
//   executors honour at run time, because requests reading upstream outputs are only known then.
// Only calls whose signature is not volatile qualify (greedy or seeded LLM calls, read-only SQL,
// deterministic HTTP and functions), so a fanned-out result is the result each call would give.
import { copyDag, topologicalOrder } from "../plan/dag.ts";
import { CALL_KINDS, type PlanDag } from "../plan/types.ts";
import { instanceViews } from "./instances.ts";
import { annotate, type Pass, type PassResult } from "./pass.ts";
import { requestKey } from "./render.ts";
import { compact } from "./rewrite.ts";

const UNMERGED = new Set(["Sink", "SinkMultiple"]);

function duplicateCount(dag: PlanDag): number {
  const seen = new Set<string>();
  let dups = 0;
  for (const id of topologicalOrder(dag)) {
    const n = dag.nodes[id]!;
    if (UNMERGED.has(n.kind) || n.volatility === "volatile") continue;
    if (seen.has(n.signature)) dups++;
    else seen.add(n.signature);
  }
  return dups;
}

function fanOutCandidates(dag: PlanDag): number[] {
  return topologicalOrder(dag).filter((id) => {
    const n = dag.nodes[id]!;
    return CALL_KINDS.has(n.kind) && n.volatility !== "volatile";
  });
}

function rewrite(dag: PlanDag): PassResult {
  let out = copyDag(dag);
  // Node level: the first node (inputs first) with a signature stands for the later ones.
  const keep = new Map<string, number>();
  const replace = new Map<number, number>();
  for (const id of topologicalOrder(out)) {
    const n = out.nodes[id]!;
    n.inputs = n.inputs.map((i) => replace.get(i) ?? i);
    if (UNMERGED.has(n.kind) || n.volatility === "volatile") continue;
    const first = keep.get(n.signature);
    if (first === undefined) keep.set(n.signature, id);
    else {
      replace.set(id, first);
      out.nodes[first]!.merged += n.merged;
    }
  }
  if (replace.size) out = compact(out);

  // Instance level.
  const views = instanceViews(out);
  let rowsMerged = 0;
  let unknown = 0;
  const ids = fanOutCandidates(out);
  for (const id of ids) {
    const node = out.nodes[id]!;
    const view = views.get(node.inputs[0]!);
    if (!view) {
      annotate(node, "fanOut", { instances: null, distinct: null });
      unknown++;
      continue;
    }
    const keys = new Set<string>();
    // Rows whose request reads a run-time value, or a value with no text form (that row fails
    // alone when it runs; render.ts never throws here), count as calls of their own.
    let unrenderable = 0;
    for (const row of view.rows) {
      const key = requestKey(node, row);
      if (key === undefined) unrenderable++;
      else keys.add(key);
    }
    const exact = view.exact && unrenderable === 0;
    const distinct = keys.size + unrenderable;
    annotate(node, "fanOut", {
      instances: view.exact ? view.rows.length : null,
      distinct: exact ? distinct : null,
    });
    if (exact) rowsMerged += view.rows.length - distinct;
    else unknown++;
  }
  const later = unknown ? `; ${unknown} node(s) decided at run time` : "";
  return {
    dag: out,
    effect: `${replace.size} node(s) merged; ${rowsMerged} row call(s) merged over ${ids.length} call node(s)${later}`,
  };
}

export const dedupeCalls: Pass = {
  flag: "dedupeCalls",
  name: "dedupe-calls",
  guard: (dag) => duplicateCount(dag) > 0 || fanOutCandidates(dag).length > 0,
  rewrite,
};
