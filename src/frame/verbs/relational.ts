// The cheap CPU verbs: map, filter, select, join.
import { functionKey } from "../../plan/canonical.ts";
import { Expr, exprColumns } from "../../plan/expr.ts";
import { joinRightNames } from "../../plan/columns.ts";
import { makeLogical, type LogicalNode } from "../../plan/logical.ts";
import type { JoinHow, Predicate, Row } from "../../plan/types.ts";
import {
  checkColumnsExist,
  checkFunction,
  checkSpec,
  checkString,
  checkStringList,
  describe,
} from "./check.ts";

export interface MapOptions {
  name?: string;
  /** The columns the function returns, so later verbs can check their placeholders. */
  columns?: string[];
  /** Identity for signatures (default: the function's source text). */
  key?: string;
}

export function mapVerb(
  input: LogicalNode,
  fn: (row: Row) => Row | Promise<Row>,
  options: MapOptions = {},
): LogicalNode {
  const where = ".map(fn, options?)";
  checkFunction(where, "fn", fn);
  const s = checkSpec(where, options, ["name", "columns", "key"], []);
  const columns = s.columns === undefined ? null : checkStringList(where, "columns", s.columns);
  const fnKey = s.key === undefined ? functionKey(fn) : `key:${checkString(where, "key", s.key)}`;
  const label = s.name === undefined ? fn.name || "map" : checkString(where, "name", s.name);
  const op = { type: "fn" as const, fn: keepUndefinedCells(fn), fnKey };
  return makeLogical("Map", [input], { op, columns }, columns, label);
}

/** A returned `{ x: undefined }` keeps its column, as null: JSON (a served answer) would drop it. */
function keepUndefinedCells(
  fn: (row: Row) => Row | Promise<Row>,
): (row: Row) => Row | Promise<Row> {
  const fill = (out: Row): Row => {
    if (!out || typeof out !== "object" || Array.isArray(out)) return out; // the executor says why
    if (!Object.values(out).includes(undefined)) return out;
    // A copy: the function's own object (it may hold on to it) is left as it was.
    const filled: Row = {};
    for (const [k, v] of Object.entries(out)) filled[k] = v === undefined ? null : v;
    return filled;
  };
  return (row) => {
    const out = fn(row);
    return out instanceof Promise ? out.then(fill) : fill(out);
  };
}

export function filterVerb(
  input: LogicalNode,
  predicate: Expr | ((row: Row) => unknown),
  options: { name?: string; key?: string } = {},
): LogicalNode {
  const where = ".filter(predicate)";
  const s = checkSpec(where, options, ["name", "key"], []);
  let p: Predicate;
  if (predicate instanceof Expr) {
    checkColumnsExist(where, [...exprColumns(predicate.node)], input.columns);
    p = { type: "expr", expr: predicate.node };
  } else if (typeof predicate === "function") {
    const fnKey =
      s.key === undefined ? functionKey(predicate) : `key:${checkString(where, "key", s.key)}`;
    p = { type: "fn", fn: predicate, fnKey };
  } else
    throw new TypeError(
      `${where}: expected a column expression such as halo.col("label").eq("negative") or a function (row) => boolean, got ${describe(predicate)}`,
    );
  const label = s.name === undefined ? "filter" : checkString(where, "name", s.name);
  return makeLogical("Filter", [input], { predicate: p }, input.columns, label);
}

export function selectVerb(input: LogicalNode, columns: string[]): LogicalNode {
  const where = ".select(columns)";
  const list = checkStringList(where, "columns", columns, { single: true });
  checkColumnsExist(where, list, input.columns);
  return makeLogical(
    "Map",
    [input],
    { op: { type: "select", columns: list }, columns: null },
    list,
    "select",
  );
}

export interface JoinOptions {
  /** "inner" (default) keeps matching rows; "left" keeps every left row. */
  how?: JoinHow;
  /** Appended to right-side columns whose names clash with the left's; default "_right". */
  suffix?: string;
}

export function joinVerb(
  left: LogicalNode,
  right: LogicalNode,
  on: string | string[],
  options: JoinOptions = {},
): LogicalNode {
  const where = ".join(other, on, options?)";
  const keys = checkStringList(where, "on", on, { single: true });
  const s = checkSpec(where, options, ["how", "suffix"], []);
  const how = (s.how ?? "inner") as JoinHow;
  if (how !== "inner" && how !== "left")
    throw new TypeError(`${where}: how must be "inner" or "left", got ${describe(s.how)}`);
  const suffix = s.suffix === undefined ? "_right" : checkString(where, "suffix", s.suffix);
  checkColumnsExist(`${where} left side`, keys, left.columns);
  checkColumnsExist(`${where} right side`, keys, right.columns);
  const columns =
    left.columns && right.columns
      ? [
          ...left.columns,
          ...joinRightNames(left.columns, right.columns, keys, suffix).map(([, n]) => n),
        ]
      : null;
  return makeLogical(
    "Join",
    [left, right],
    { on: keys, how, suffix },
    columns,
    `join ${keys.join(", ")}`,
  );
}
