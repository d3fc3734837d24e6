// Edges derived from templates, topological order, and the validator every shape passes: each
// column a node reads exists (an input column or an upstream output), ids and outputs are
// unique, there is no cycle, every node reaches the final one, and the LLM/tool counts match
// issue 9's list.
import { FUNCTIONS } from "./functions.ts";
import { nodeReads } from "./templates.ts";
import type { Edge, WorkflowNode, WorkflowShape } from "./types.ts";

export function edgesOf(shape: WorkflowShape): Edge[] {
  const producer = new Map<string, string>();
  for (const c of shape.inputColumns) producer.set(c, "input");
  for (const n of shape.nodes) producer.set(n.output, n.id);
  const edges: Edge[] = [];
  for (const n of shape.nodes)
    for (const column of nodeReads(n)) {
      const from = producer.get(column);
      if (from !== undefined) edges.push({ from, to: n.id, column });
    }
  return edges;
}

export function countNodes(shape: WorkflowShape): { llm: number; tools: number } {
  const llm = shape.nodes.filter((n) => n.type === "llm").length;
  return { llm, tools: shape.nodes.length - llm };
}

/** Node ids in an order where every node comes after the nodes it reads from (Kahn; ties in
 * declaration order so the order is stable). Throws on a cycle. */
export function topoOrder(shape: WorkflowShape): WorkflowNode[] {
  const deps = new Map<string, Set<string>>(shape.nodes.map((n) => [n.id, new Set<string>()]));
  for (const e of edgesOf(shape)) if (e.from !== "input") deps.get(e.to)!.add(e.from);
  const done = new Set<string>();
  const out: WorkflowNode[] = [];
  while (out.length < shape.nodes.length) {
    const next = shape.nodes.find(
      (n) => !done.has(n.id) && [...deps.get(n.id)!].every((d) => done.has(d)),
    );
    if (!next) {
      const stuck = shape.nodes.filter((n) => !done.has(n.id)).map((n) => n.id);
      throw new Error(`workflow ${shape.name} has a cycle among: ${stuck.join(", ")}`);
    }
    done.add(next.id);
    out.push(next);
  }
  return out;
}

/** Every problem found, as messages naming the node and what to fix; empty when valid. */
export function validateShape(shape: WorkflowShape): string[] {
  const errors: string[] = [];
  const ids = new Set<string>();
  const outputs = new Set<string>(shape.inputColumns);
  for (const n of shape.nodes) {
    if (ids.has(n.id)) errors.push(`${shape.name}: node id '${n.id}' is used twice`);
    ids.add(n.id);
    if (outputs.has(n.output))
      errors.push(
        `${shape.name}: node '${n.id}' writes column '${n.output}', which already exists`,
      );
    outputs.add(n.output);
    if (n.type === "function" && !(n.fn in FUNCTIONS))
      errors.push(
        `${shape.name}: node '${n.id}' calls unknown function '${n.fn}' (known: ${Object.keys(FUNCTIONS).join(", ")})`,
      );
    if (n.type === "sql")
      for (const p of Object.keys(n.params))
        if (!n.query.includes(`$${p}`))
          errors.push(`${shape.name}: node '${n.id}' binds $${p}, which its query never uses`);
  }
  for (const n of shape.nodes)
    for (const c of nodeReads(n))
      if (!outputs.has(c))
        errors.push(
          `${shape.name}: node '${n.id}' reads column '${c}', which no node or input provides`,
        );
  if (!ids.has(shape.final))
    errors.push(`${shape.name}: final node '${shape.final}' does not exist`);
  if (errors.length > 0) return errors;
  try {
    topoOrder(shape);
  } catch (e) {
    errors.push((e as Error).message);
    return errors;
  }
  // Every node must feed the final answer, or it is dead work no system would run.
  const edges = edgesOf(shape);
  const reaches = new Set<string>([shape.final]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of edges)
      if (reaches.has(e.to) && e.from !== "input" && !reaches.has(e.from)) {
        reaches.add(e.from);
        changed = true;
      }
  }
  for (const n of shape.nodes)
    if (!reaches.has(n.id))
      errors.push(`${shape.name}: node '${n.id}' does not feed the final node '${shape.final}'`);
  const counts = countNodes(shape);
  if (counts.llm !== shape.expected.llm || counts.tools !== shape.expected.tools)
    errors.push(
      `${shape.name}: has ${counts.llm} LLM / ${counts.tools} tool nodes, expected ${shape.expected.llm} / ${shape.expected.tools}`,
    );
  return errors;
}
