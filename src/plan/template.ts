// `{{column}}` templates for prompts, SQL parameters, URLs and bodies. Parsed once at verb time
// so a placeholder naming a missing column is an error at once, not on row 1,000.
import type { Row } from "./types.ts";

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}/g;

/** Column names a template reads, in order of first use. */
export function templateColumns(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/** Columns read by a template or by every string leaf of a JSON-like value. */
export function valueTemplateColumns(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") {
    for (const c of templateColumns(value)) if (!out.includes(c)) out.push(c);
  } else if (Array.isArray(value)) {
    for (const v of value) valueTemplateColumns(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) valueTemplateColumns(v, out);
  }
  return out;
}

/** How a cell value reads inside text: null is empty, objects are JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function renderTemplate(template: string, row: Row): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in row))
      throw new Error(
        `template placeholder {{${name}}}: the row has no column '${name}' (columns: ${Object.keys(row).join(", ")})`,
      );
    return formatValue(row[name]);
  });
}

/**
 * A parameter or body template that is exactly one placeholder keeps the cell's type (a number
 * stays a number when bound to SQL); anything else renders to a string.
 */
export function renderParam(template: string, row: Row): unknown {
  const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(template);
  if (whole) {
    const name = whole[1]!;
    if (!(name in row))
      throw new Error(`template placeholder {{${name}}}: the row has no column '${name}'`);
    return row[name] ?? null;
  }
  return renderTemplate(template, row);
}

/** Renders every string leaf of a JSON-like value (an HTTP body object). */
export function renderValue(value: unknown, row: Row): unknown {
  if (typeof value === "string") return renderParam(value, row);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, row));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, row);
    return out;
  }
  return value;
}

/** Throws a clear error when `template` names columns that `columns` lacks (null: unknown). */
export function checkTemplateColumns(
  where: string,
  used: string[],
  columns: string[] | null,
): void {
  if (columns === null) return;
  const missing = used.filter((c) => !columns.includes(c));
  if (missing.length === 0) return;
  const names = missing.map((m) => `{{${m}}}`).join(", ");
  throw new Error(
    `${where}: placeholder ${names} names no column of this frame; the columns are: ${columns.join(", ") || "(none)"}`,
  );
}
