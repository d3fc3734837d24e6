// The rows each node will see, as far as they are known before anything runs: sources are data,
// expression filters and selects can be applied, joins on known keys computed; a call's output
// is UNKNOWN until it runs. Passes use this to count instances, render prompts (up to the first
// unknown value) and predict merges. User closures (map, closure filters) are never called
// during planning: after a map the rows are unknown, after a closure filter they are an upper
// bound (`exact: false`).
import { joinRows } from "../executor/row-ops.ts";
import { writtenColumns } from "../plan/columns.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { evaluateExpr, exprColumns } from "../plan/expr.ts";
import type { PlanDag, Row } from "../plan/types.ts";

/** A value that only exists at run time (the output of a call). */
export const UNKNOWN: unique symbol = Symbol("unknown until run");

export interface InstanceView {
  rows: Row[];
  /** True when `rows` are exactly the rows the node will see (false: a superset). */
  exact: boolean;
}

/** Known rows per node id (absent: unknown). */
export function instanceViews(dag: PlanDag): Map<number, InstanceView> {
  const views = new Map<number, InstanceView>();
  for (const id of topologicalOrder(dag)) {
    const node = dag.nodes[id]!;
    const input = node.inputs[0] === undefined ? undefined : views.get(node.inputs[0]);
    let view: InstanceView | undefined;
    switch (node.kind) {
      case "Source":
        view = { rows: node.args.data.rows, exact: true };
        break;
      case "Filter": {
        if (!input) break;
        const p = node.args.predicate;
        if (p.type === "fn") {
          view = { rows: input.rows, exact: false };
          break;
        }
        const cols = [...exprColumns(p.expr)];
        let exact = input.exact;
        const rows = input.rows.filter((r) => {
          if (cols.some((c) => r[c] === UNKNOWN)) {
            exact = false;
            return true;
          }
          return Boolean(evaluateExpr(p.expr, r));
        });
        view = { rows, exact };
        break;
      }
      case "Map": {
        const op = node.args.op;
        if (!input || op.type !== "select") break;
        view = {
          rows: input.rows.map((r) => Object.fromEntries(op.columns.map((c) => [c, r[c] ?? null]))),
          exact: input.exact,
        };
        break;
      }
      case "LlmCall":
      case "SqlCall":
      case "HttpCall":
      case "FnCall": {
        if (!input) break;
        const outs = writtenColumns(node.kind, node.args);
        const unknown = Object.fromEntries(outs.map((c) => [c, UNKNOWN]));
        view = { rows: input.rows.map((r) => ({ ...r, ...unknown })), exact: input.exact };
        break;
      }
      case "Join": {
        const [l, r] = node.inputs.map((i) => views.get(i));
        if (!l || !r) break;
        const on = node.args.on;
        const unknownKey = (rows: Row[]) => rows.some((row) => on.some((c) => row[c] === UNKNOWN));
        if (unknownKey(l.rows) || unknownKey(r.rows)) break;
        const left = { columns: dag.nodes[node.inputs[0]!]!.columns, rows: l.rows };
        const right = { columns: dag.nodes[node.inputs[1]!]!.columns, rows: r.rows };
        view = { rows: joinRows(left, right, node.args), exact: l.exact && r.exact };
        break;
      }
      case "Sink":
        view = input;
        break;
      case "SinkMultiple":
        break;
    }
    if (view) views.set(id, view);
  }
  return views;
}

/** True when the value is known at planning time (not produced by a call). */
export function isKnown(v: unknown): boolean {
  return v !== UNKNOWN;
}
