// Run after lowering and after every optimizer pass: a rewrite that breaks an invariant fails
// here, naming the node, instead of producing wrong rows later.
import { deriveColumns, requiredColumns } from "./columns.ts";
import { topologicalOrder } from "./dag.ts";
import type { NodeKind, PlanDag } from "./types.ts";

const ARITY: Record<NodeKind, number | "many"> = {
  Source: 0,
  LlmCall: 1,
  SqlCall: 1,
  HttpCall: 1,
  FnCall: 1,
  Map: 1,
  Filter: 1,
  Join: 2,
  Sink: 1,
  SinkMultiple: "many",
};

export class PlanValidationError extends Error {}

/** Throws PlanValidationError listing every problem found. */
export function validateDag(dag: PlanDag): void {
  const problems: string[] = [];
  dag.nodes.forEach((node, i) => {
    if (node.id !== i) problems.push(`node at index ${i} has id ${node.id}`);
    const arity = ARITY[node.kind];
    if (arity === undefined) problems.push(`node #${i}: unknown kind '${node.kind}'`);
    else if (arity !== "many" && node.inputs.length !== arity)
      problems.push(
        `node #${i} (${node.kind}): expected ${arity} input(s), has ${node.inputs.length}`,
      );
    for (const input of node.inputs)
      if (!dag.nodes[input]) problems.push(`node #${i}: input #${input} does not exist`);
  });
  if (!dag.nodes[dag.root]) problems.push(`root #${dag.root} does not exist`);
  for (const s of dag.sinks)
    if (dag.nodes[s]?.kind !== "Sink") problems.push(`sink #${s} is not a Sink node`);
  if (problems.length === 0) {
    try {
      for (const id of topologicalOrder(dag)) {
        const node = dag.nodes[id]!;
        const inputCols = node.inputs.map((i) => dag.nodes[i]!.columns);
        const needed = requiredColumns(node.kind, node.args);
        needed.forEach((cols, k) => {
          const have = inputCols[k];
          if (!have) return;
          const missing = cols.filter((c) => !have.includes(c));
          if (missing.length)
            problems.push(
              `node #${id} (${node.kind} ${node.label}): reads missing column(s) ${missing.join(", ")} (input has ${have.join(", ")})`,
            );
        });
        const derived = deriveColumns(node.kind, node.args, inputCols);
        if (JSON.stringify(derived) !== JSON.stringify(node.columns))
          problems.push(
            `node #${id} (${node.kind}): columns ${JSON.stringify(node.columns)} but its inputs give ${JSON.stringify(derived)}`,
          );
      }
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new PlanValidationError(`invalid plan:\n  ${problems.join("\n  ")}`);
}
