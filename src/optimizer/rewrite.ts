// Helpers for passes that change the graph: signatures after inputs move, and renumbering.
import { hashOf } from "../plan/canonical.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { normalizedArgs } from "../plan/lower.ts";
import type { PlanDag, PlanNode } from "../plan/types.ts";

/** lower()'s signature formula for a node with no extra (nonce, run, database state) parts. */
function formula(node: PlanNode, inputSigs: string[]): string {
  return hashOf({ kind: node.kind, args: normalizedArgs(node.kind, node.args), inputs: inputSigs });
}

/**
 * Recomputes signatures of `after` whose inputs changed since `before` (same ids = same
 * operation). A node lower() hashed with the plain formula gets exactly the signature lower()
 * would give the rewritten plan, so two frames that become equal merge (dedupe-calls) and
 * session reuse keeps working. A node whose signature carried extras (volatile nonce, run, DB
 * state) cannot be rebuilt from its fields: it gets a hash of its old signature and new inputs,
 * stable but never equal to another node's.
 */
export function resign(before: PlanDag, after: PlanDag): void {
  for (const id of topologicalOrder(after)) {
    const node = after.nodes[id]!;
    const old = before.nodes[id];
    const inputSigs = node.inputs.map((i) => after.nodes[i]!.signature);
    if (old && old.kind === node.kind && old.signature === node.signature) {
      const oldSigs = old.inputs.map((i) => before.nodes[i]!.signature);
      if (oldSigs.join() === inputSigs.join()) continue;
      node.signature =
        formula(old, oldSigs) === old.signature
          ? formula(node, inputSigs)
          : hashOf({ rewritten: old.signature, inputs: inputSigs });
    }
  }
}

/** Keeps only nodes reachable from the root, numbered in topological order. */
export function compact(dag: PlanDag): PlanDag {
  const order = topologicalOrder(dag);
  if (order.length === dag.nodes.length && order.every((id, i) => id === i)) return dag;
  const newId = new Map<number, number>();
  order.forEach((id, i) => newId.set(id, i));
  const nodes = order.map(
    (id, i) =>
      ({
        ...dag.nodes[id]!,
        id: i,
        inputs: dag.nodes[id]!.inputs.map((x) => newId.get(x)!),
      }) as PlanNode,
  );
  return {
    nodes,
    root: newId.get(dag.root)!,
    sinks: dag.sinks.map((s) => newId.get(s)!),
  };
}
