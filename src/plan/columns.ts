// What each node reads and what it outputs, in one place: verbs use it to reject bad arguments
// at once, `lower()` to recompute schemas from the data actually read, the validator after every
// rewrite.
import { exprColumns } from "./expr.ts";
import { templateColumns, valueTemplateColumns } from "./template.ts";
import { CALL_KINDS, type NodeArgsByKind, type NodeKind } from "./types.ts";

export function addColumn(columns: string[] | null, output: string): string[] | null {
  if (columns === null) return null;
  return columns.includes(output) ? columns : [...columns, output];
}

/**
 * The columns a call node writes: its `output`, or the properties an LLM call's object schema
 * spreads into (`columns`). Empty for nodes that are not calls.
 */
export function writtenColumns<K extends NodeKind>(kind: K, args: NodeArgsByKind[K]): string[] {
  if (!CALL_KINDS.has(kind)) return [];
  const a = args as { output?: string; columns?: string[] };
  return a.columns ?? [a.output!];
}

/** Output name of each right-side column of a join (keys are dropped: they equal the left's). */
export function joinRightNames(
  left: string[],
  right: string[],
  on: string[],
  suffix: string,
): [string, string][] {
  return right
    .filter((c) => !on.includes(c))
    .map((c) => [c, left.includes(c) ? `${c}${suffix}` : c] as [string, string]);
}

/** Output columns of a node from its inputs' columns (null: unknown). */
export function deriveColumns<K extends NodeKind>(
  kind: K,
  args: NodeArgsByKind[K],
  inputs: (string[] | null)[],
): string[] | null {
  const a = args as NodeArgsByKind[NodeKind];
  switch (kind) {
    case "Source":
      return [...(a as NodeArgsByKind["Source"]).data.columns];
    case "LlmCall":
    case "SqlCall":
    case "HttpCall":
    case "FnCall":
      return writtenColumns(kind, args).reduce<string[] | null>(
        (cols, c) => addColumn(cols, c),
        inputs[0] ?? null,
      );
    case "Map": {
      const m = a as NodeArgsByKind["Map"];
      return m.op.type === "select" ? [...m.op.columns] : m.columns ? [...m.columns] : null;
    }
    case "Filter":
    case "Sink":
      return inputs[0] ?? null;
    case "Join": {
      const j = a as NodeArgsByKind["Join"];
      const [left, right] = inputs;
      if (!left || !right) return null;
      return [...left, ...joinRightNames(left, right, j.on, j.suffix).map(([, out]) => out)];
    }
    case "SinkMultiple":
      return null;
  }
  return null;
}

/** Columns a node reads from each of its inputs. */
export function requiredColumns<K extends NodeKind>(kind: K, args: NodeArgsByKind[K]): string[][] {
  const a = args as NodeArgsByKind[NodeKind];
  switch (kind) {
    case "LlmCall": {
      const l = a as NodeArgsByKind["LlmCall"];
      return [valueTemplateColumns([l.system ?? "", l.prompt])];
    }
    case "SqlCall":
      return [valueTemplateColumns((a as NodeArgsByKind["SqlCall"]).params)];
    case "HttpCall": {
      const h = a as NodeArgsByKind["HttpCall"];
      return [valueTemplateColumns([h.url, h.headers, h.body ?? null])];
    }
    case "FnCall":
      return [[...(a as NodeArgsByKind["FnCall"]).inputs]];
    case "Map": {
      const m = a as NodeArgsByKind["Map"];
      return [m.op.type === "select" ? [...m.op.columns] : []];
    }
    case "Filter": {
      const p = (a as NodeArgsByKind["Filter"]).predicate;
      return [p.type === "expr" ? [...exprColumns(p.expr)] : []];
    }
    case "Join": {
      const on = (a as NodeArgsByKind["Join"]).on;
      return [on, on];
    }
    default:
      return [];
  }
}

export { templateColumns };
