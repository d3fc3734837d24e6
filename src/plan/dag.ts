// Small helpers over a PlanDag that every pass and executor needs.
import type { PlanDag, PlanNode } from "./types.ts";

/** Node ids reachable from the root, inputs before consumers. Throws on a cycle. */
export function topologicalOrder(dag: PlanDag): number[] {
  const state = new Map<number, "open" | "done">();
  const order: number[] = [];
  // Iterative DFS: plans from workflows with unrolled loops can be deep.
  const stack: [number, boolean][] = [[dag.root, false]];
  while (stack.length) {
    const [id, expanded] = stack.pop()!;
    if (expanded) {
      state.set(id, "done");
      order.push(id);
      continue;
    }
    const s = state.get(id);
    if (s === "done") continue;
    if (s === "open") throw new Error(`plan: cycle through node #${id}`);
    const node = dag.nodes[id];
    if (!node) throw new Error(`plan: node #${id} does not exist`);
    state.set(id, "open");
    stack.push([id, true]);
    for (let i = node.inputs.length - 1; i >= 0; i--) {
      const input = node.inputs[i]!;
      if (state.get(input) === "open") throw new Error(`plan: cycle through node #${input}`);
      if (state.get(input) !== "done") stack.push([input, false]);
    }
  }
  return order;
}

/** Consumers of each node (reverse edges). */
export function consumersOf(dag: PlanDag): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const node of dag.nodes) {
    for (const input of node.inputs) {
      const list = out.get(input) ?? [];
      list.push(node.id);
      out.set(input, list);
    }
  }
  return out;
}

/** A shallow copy a pass may rewrite without touching the original. */
export function copyDag(dag: PlanDag): PlanDag {
  return {
    nodes: dag.nodes.map((n) => ({ ...n, inputs: [...n.inputs] }) as PlanNode),
    root: dag.root,
    sinks: [...dag.sinks],
  };
}
