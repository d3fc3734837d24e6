// Column expressions: `halo.col("label").eq("negative")`. Unlike closures they are data, so the
// optimizer can see which columns a predicate reads and move it (pushdown), and they have a
// canonical form for signatures.
import { showValue } from "./show-value.ts";
import type { Row } from "./types.ts";

export type ExprNode =
  | { op: "col"; name: string }
  | { op: "lit"; value: string | number | boolean | null }
  | { op: "eq" | "ne" | "gt" | "ge" | "lt" | "le"; left: ExprNode; right: ExprNode }
  | { op: "and" | "or"; left: ExprNode; right: ExprNode }
  | { op: "not"; arg: ExprNode }
  | { op: "isNull"; arg: ExprNode }
  | { op: "isIn"; arg: ExprNode; values: (string | number | boolean | null)[] }
  | { op: "contains" | "startsWith" | "endsWith"; arg: ExprNode; text: string };

type Scalar = string | number | boolean | null;
type ExprLike = Expr | Scalar;

function isScalar(v: unknown): v is Scalar {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}

function toNode(v: ExprLike, what: string): ExprNode {
  if (v instanceof Expr) return v.node;
  if (isScalar(v)) return { op: "lit", value: v };
  throw new TypeError(
    `${what}: expected a halo.col(...) expression or a string, number, boolean or null, got ${showValue(v)}`,
  );
}

/** An analysable expression over a row's columns. Immutable; every method returns a new one. */
export class Expr {
  readonly node: ExprNode;
  constructor(node: ExprNode) {
    this.node = node;
  }
  eq(v: ExprLike): Expr {
    return new Expr({ op: "eq", left: this.node, right: toNode(v, "eq") });
  }
  ne(v: ExprLike): Expr {
    return new Expr({ op: "ne", left: this.node, right: toNode(v, "ne") });
  }
  gt(v: ExprLike): Expr {
    return new Expr({ op: "gt", left: this.node, right: toNode(v, "gt") });
  }
  ge(v: ExprLike): Expr {
    return new Expr({ op: "ge", left: this.node, right: toNode(v, "ge") });
  }
  lt(v: ExprLike): Expr {
    return new Expr({ op: "lt", left: this.node, right: toNode(v, "lt") });
  }
  le(v: ExprLike): Expr {
    return new Expr({ op: "le", left: this.node, right: toNode(v, "le") });
  }
  and(v: Expr): Expr {
    return new Expr({ op: "and", left: this.node, right: toNode(v, "and") });
  }
  or(v: Expr): Expr {
    return new Expr({ op: "or", left: this.node, right: toNode(v, "or") });
  }
  not(): Expr {
    return new Expr({ op: "not", arg: this.node });
  }
  isNull(): Expr {
    return new Expr({ op: "isNull", arg: this.node });
  }
  isIn(values: Scalar[]): Expr {
    if (!Array.isArray(values) || !values.every(isScalar))
      throw new TypeError("isIn: expected an array of strings, numbers, booleans or null");
    return new Expr({ op: "isIn", arg: this.node, values: [...values] });
  }
  contains(text: string): Expr {
    return new Expr({ op: "contains", arg: this.node, text: checkText(text, "contains") });
  }
  startsWith(text: string): Expr {
    return new Expr({ op: "startsWith", arg: this.node, text: checkText(text, "startsWith") });
  }
  endsWith(text: string): Expr {
    return new Expr({ op: "endsWith", arg: this.node, text: checkText(text, "endsWith") });
  }
  toString(): string {
    return formatExpr(this.node);
  }
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== "string")
    throw new TypeError(`${what}: expected a string, got ${showValue(text)}`);
  return text;
}

/** `halo.col("name")`: a reference to a column. */
export function col(name: string): Expr {
  if (typeof name !== "string" || name === "")
    throw new TypeError("halo.col(name): expected a non-empty column name");
  return new Expr({ op: "col", name });
}

/** `halo.lit(value)`: a constant. */
export function lit(value: Scalar): Expr {
  return new Expr(toNode(value, "halo.lit"));
}

export function exprColumns(node: ExprNode, out: Set<string> = new Set()): Set<string> {
  switch (node.op) {
    case "col":
      out.add(node.name);
      break;
    case "lit":
      break;
    case "not":
    case "isNull":
    case "isIn":
    case "contains":
    case "startsWith":
    case "endsWith":
      exprColumns(node.arg, out);
      break;
    default:
      exprColumns(node.left, out);
      exprColumns(node.right, out);
  }
  return out;
}

function compare(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Evaluates on one row. Comparisons with null are false (SQL-like), except `eq(null)`. */
export function evaluateExpr(node: ExprNode, row: Row): unknown {
  switch (node.op) {
    case "col":
      return row[node.name] ?? null;
    case "lit":
      return node.value;
    case "eq":
    case "ne": {
      const l = evaluateExpr(node.left, row);
      const r = evaluateExpr(node.right, row);
      const same = l === r || (l !== null && r !== null && compare(l, r) === 0);
      return node.op === "eq" ? same : !same;
    }
    case "gt":
    case "ge":
    case "lt":
    case "le": {
      const c = compare(evaluateExpr(node.left, row), evaluateExpr(node.right, row));
      if (c === null) return false;
      if (node.op === "gt") return c > 0;
      if (node.op === "ge") return c >= 0;
      if (node.op === "lt") return c < 0;
      return c <= 0;
    }
    case "and":
      return Boolean(evaluateExpr(node.left, row)) && Boolean(evaluateExpr(node.right, row));
    case "or":
      return Boolean(evaluateExpr(node.left, row)) || Boolean(evaluateExpr(node.right, row));
    case "not":
      return !evaluateExpr(node.arg, row);
    case "isNull": {
      const v = evaluateExpr(node.arg, row);
      return v === null || v === undefined;
    }
    case "isIn":
      return node.values.includes(evaluateExpr(node.arg, row) as Scalar);
    case "contains":
    case "startsWith":
    case "endsWith": {
      const v = evaluateExpr(node.arg, row);
      if (v === null || v === undefined) return false;
      const s = String(v);
      if (node.op === "contains") return s.includes(node.text);
      if (node.op === "startsWith") return s.startsWith(node.text);
      return s.endsWith(node.text);
    }
  }
}

const SYMBOLS = { eq: "==", ne: "!=", gt: ">", ge: ">=", lt: "<", le: "<=", and: "and", or: "or" };

export function formatExpr(node: ExprNode): string {
  switch (node.op) {
    case "col":
      return `col(${JSON.stringify(node.name)})`;
    case "lit":
      return JSON.stringify(node.value);
    case "not":
      return `not(${formatExpr(node.arg)})`;
    case "isNull":
      return `${formatExpr(node.arg)}.isNull()`;
    case "isIn":
      return `${formatExpr(node.arg)}.isIn(${JSON.stringify(node.values)})`;
    case "contains":
    case "startsWith":
    case "endsWith":
      return `${formatExpr(node.arg)}.${node.op}(${JSON.stringify(node.text)})`;
    default: {
      const l = formatExpr(node.left);
      const r = formatExpr(node.right);
      const wrap = node.op === "and" || node.op === "or";
      return wrap ? `(${l} ${SYMBOLS[node.op]} ${r})` : `${l} ${SYMBOLS[node.op]} ${r}`;
    }
  }
}
