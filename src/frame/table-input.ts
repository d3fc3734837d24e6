// Everything Halo accepts as a table (a danfo DataFrame, an apache-arrow Table, an array of row
// objects) becomes `TableData`: columns in order plus row objects. Detection is by shape, so
// importing this file loads neither danfo nor arrow.
import { showValue } from "../plan/show-value.ts";
import type { Row, TableData } from "../plan/types.ts";

interface DanfoLike {
  columns: string[];
  values: unknown[][];
  shape: number[];
}
interface ArrowLike {
  schema: { fields: { name: string }[] };
  numRows: number;
  toArray(): unknown[];
}

export function isDanfoFrame(x: unknown): x is DanfoLike {
  const d = x as DanfoLike;
  return (
    !!d &&
    typeof d === "object" &&
    Array.isArray(d.columns) &&
    Array.isArray(d.shape) &&
    "values" in d
  );
}

export function isArrowTable(x: unknown): x is ArrowLike {
  const a = x as ArrowLike;
  return (
    !!a &&
    typeof a === "object" &&
    Array.isArray(a.schema?.fields) &&
    typeof a.toArray === "function"
  );
}

/** Driver rows (DuckDB, PostgreSQL) as plain row objects with the given columns, in order. */
export function plainRows(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): Row[] {
  return rows.map((r) => {
    const row: Row = {};
    for (const c of columns) row[c] = plainValue(r[c]);
    return row;
  });
}

const PLAIN_DEPTH = 256;

/**
 * Cell values as plain JS: exact bigints become numbers, arrow structs and lists plain objects.
 * Below PLAIN_DEPTH levels a value is left as it is: a 100,000-level JSON value (a hostile query
 * in `halo serve`) must not overflow the stack while the table is read; it fails only its own
 * row, when a step renders it (src/plan/template.ts).
 */
export function plainValue(v: unknown, depth = 0): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (depth >= PLAIN_DEPTH) return v;
  const inner = (x: unknown) => plainValue(x, depth + 1);
  if (v && typeof v === "object" && !(v instanceof Date) && !Array.isArray(v)) {
    const o = v as { toJSON?: () => unknown; toArray?: () => unknown[] };
    if (typeof o.toArray === "function" && !ArrayBuffer.isView(v))
      return Array.from(o.toArray(), inner);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, inner);
    if (typeof o.toJSON === "function") return inner(o.toJSON());
    const out: Row = {};
    for (const [k, x] of Object.entries(v)) out[k] = inner(x);
    return out;
  }
  if (Array.isArray(v)) return v.map(inner);
  return v;
}

/** Reads any accepted table input; `what` names the caller in errors. */
export function toTableData(input: unknown, what: string): TableData {
  if (isDanfoFrame(input)) {
    const columns = [...input.columns].map(String);
    const values = input.shape[0] === 0 ? [] : input.values;
    const rows = values.map((vals) => {
      const row: Row = {};
      columns.forEach((c, i) => (row[c] = normalizeMissing(plainValue(vals[i]))));
      return row;
    });
    return { columns, rows };
  }
  if (isArrowTable(input)) {
    const columns = input.schema.fields.map((f) => f.name);
    const rows = input.toArray().map((r) => {
      const obj = (r as { toJSON(): Row }).toJSON();
      const row: Row = {};
      for (const c of columns) row[c] = plainValue(obj[c] ?? null);
      return row;
    });
    return { columns, rows };
  }
  if (Array.isArray(input)) {
    const columns: string[] = [];
    const seen = new Set<string>();
    input.forEach((r, i) => {
      if (!r || typeof r !== "object" || Array.isArray(r))
        throw new TypeError(
          `${what}: row ${i} is ${showValue(r)}; expected an object such as { review: "..." }`,
        );
      for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), columns.push(k));
    });
    const rows = input.map((r: Row) => {
      const row: Row = {};
      // A missing or undefined cell is null: JSON (a served answer) would drop an undefined key.
      for (const c of columns) row[c] = plainValue(r[c] ?? null);
      return row;
    });
    return { columns, rows };
  }
  throw new TypeError(
    `${what}: expected a danfo DataFrame, an apache-arrow Table or an array of row objects, got ${showValue(input)}`,
  );
}

/** danfo stores missing numbers as NaN; Halo uses null for every missing value. */
function normalizeMissing(v: unknown): unknown {
  return typeof v === "number" && Number.isNaN(v) ? null : (v ?? null);
}
