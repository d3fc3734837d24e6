// Hash of a result frame, to check that every system produced identical outputs: canonical
// JSON (object keys sorted, bigint as its decimal text, -0 as 0) of the chosen columns, row by
// row in input order, through sha256.
import { createHash } from "node:crypto";

function canonical(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (typeof value === "number") return Object.is(value, -0) ? "0" : JSON.stringify(value);
  if (typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

export function hashRows(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
): string {
  const h = createHash("sha256");
  for (const row of rows) {
    const picked: Record<string, unknown> = {};
    for (const c of columns) picked[c] = row[c];
    h.update(canonical(picked));
    h.update("\n");
  }
  return h.digest("hex");
}
