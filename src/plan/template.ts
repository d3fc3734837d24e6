// `{{column}}` templates for prompts, SQL parameters, URLs and bodies. Parsed once at verb time
// so a placeholder naming a missing column is an error at once, not on row 1,000. Rendering runs
// per row, inside that row's error boundary (src/executor/row-steps.ts): a value that has no
// text form fails its own row with a RenderError naming the column, never the run.
//
// Lone UTF-16 surrogates (a string cut in the middle of an emoji, say) are rendered as U+FFFD,
// the replacement character. That is what every UTF-8 encoder on the way does anyway (fetch,
// TextEncoder, DuckDB's and the tokenizer's bindings), so the request is the one that would have
// been sent; only `encodeURIComponent` would throw on them instead, and it never sees one now.
import type { Row } from "./types.ts";

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A row's value that cannot be rendered into a request: the row fails, naming the column. */
export class RenderError extends Error {
  readonly column: string;
  /** The message without the column (RowError names the column itself). */
  readonly problem: string;
  constructor(column: string, problem: string, options?: ErrorOptions) {
    super(`column '${column}': ${problem}`, options);
    this.name = "RenderError";
    this.column = column;
    this.problem = problem;
  }
}

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

/** The string with every lone surrogate replaced by U+FFFD (pairs are kept). */
export function wellFormed(text: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, "\uFFFD") : text;
}

/**
 * How a cell value reads inside text: null is empty, objects are JSON. `column` names the value
 * in the error when it has no text form (a BigInt inside an object, a cycle, nesting deeper than
 * JSON.stringify can follow).
 */
export function formatValue(value: unknown, column = "?"): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return wellFormed(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object") return jsonText(value, column);
  return String(value);
}

/** JSON text of an object value; JSON escapes lone surrogates itself (`\udc00`). */
function jsonText(value: object, column: string): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    const why =
      err instanceof RangeError
        ? "its value nests deeper than JSON can be written"
        : `its value cannot be written as JSON (${(err as Error).message.split("\n")[0]})`;
    throw new RenderError(
      column,
      `${why}; turn it into a string or plain data first (a .map() before this step)`,
      { cause: err },
    );
  }
}

function cell(row: Row, name: string): unknown {
  if (!(name in row))
    throw new RenderError(
      name,
      `template placeholder {{${name}}} names no column of this row (columns: ${Object.keys(row).join(", ")}); the .map() before this step must return it`,
    );
  return row[name];
}

export function renderTemplate(template: string, row: Row): string {
  return template.replace(PLACEHOLDER, (_, name: string) => formatValue(cell(row, name), name));
}

/**
 * A parameter or body template that is exactly one placeholder keeps the cell's type (a number
 * stays a number when bound to SQL); anything else renders to a string.
 */
export function renderParam(template: string, row: Row): unknown {
  const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(template);
  if (!whole) return renderTemplate(template, row);
  const name = whole[1]!;
  const value = cell(row, name) ?? null;
  if (typeof value === "string") return wellFormed(value);
  // An object is sent as JSON (a body) or bound whole: one that JSON cannot write fails here,
  // in its row, naming the column, instead of deep inside the tool.
  if (typeof value === "object" && value !== null) jsonText(value, name);
  return value;
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
