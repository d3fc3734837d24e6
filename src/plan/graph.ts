// A generic graph of the plan for drawings (the display module lays it out with elkjs):
// no layout, no styling, just what each box says and which boxes connect.
import { topologicalOrder } from "./dag.ts";
import { describeNode, nodeFlags } from "./describe.ts";
import type { NodeKind, PlanDag } from "./types.ts";

export interface PlanGraphNode {
  id: number;
  label: string;
  kind: NodeKind;
  detail: string;
  /** Logical nodes merged into this one (1: none). */
  merged: number;
}

export interface PlanGraph {
  nodes: PlanGraphNode[];
  /** Data flows from `from` to `to`. */
  edges: { from: number; to: number }[];
}

export function planGraph(dag: PlanDag): PlanGraph {
  const order = topologicalOrder(dag);
  const nodes = order.map((id) => {
    const n = dag.nodes[id]!;
    const flags = nodeFlags(n);
    return {
      id,
      label: n.label || n.kind,
      kind: n.kind,
      detail: describeNode(n) + (flags.length ? ` [${flags.join("; ")}]` : ""),
      merged: n.merged,
    };
  });
  const edges = order.flatMap((id) => dag.nodes[id]!.inputs.map((from) => ({ from, to: id })));
  return { nodes, edges };
}
