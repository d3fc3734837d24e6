// Tables as a mime bundle: an HTML table (head and tail of long frames, with the shape) plus an
// aligned text table. Accepts a danfojs DataFrame, an apache-arrow Table, or rows (objects or
// arrays). Recognised by shape, not by class: importing danfojs costs 1.5-2 s, and a frame built
// by another copy of the library must still display.
import type { MimeBundle } from "./host.ts";
import { escapeHtml, truncate } from "./html.ts";
import { formatCount } from "./format.ts";

export interface TableOptions {
  /** Frames longer than this show `headRows` + `tailRows` with an ellipsis row between. */
  maxRows?: number;
  headRows?: number;
  tailRows?: number;
  /** Longest cell text shown in HTML (the full value stays in the cell's title attribute). */
  maxCellChars?: number;
  /** Longest cell text in the plain-text table. */
  maxTextCellChars?: number;
}

/** A table reduced to what is shown: column names, index labels and cell values of shown rows. */
export interface TableView {
  columns: string[];
  numRows: number;
  /** Row labels (danfojs index, or row numbers). */
  index: unknown[];
  rows: unknown[][];
  /** Position in `rows` after which the elided rows sit; -1 when nothing is elided. */
  gapAfter: number;
}

interface DanfoLike {
  columns: string[];
  shape: [number, number] | number[];
  values: unknown[][] | unknown[];
  index: unknown[];
}

interface ArrowLike {
  numRows: number;
  schema: { fields: { name: string }[] };
  getChildAt(i: number): { get(row: number): unknown } | null;
}

function isDanfo(x: unknown): x is DanfoLike {
  const d = x as DanfoLike;
  return (
    !!d &&
    typeof d === "object" &&
    Array.isArray(d.columns) &&
    Array.isArray(d.shape) &&
    "values" in d
  );
}

function isArrow(x: unknown): x is ArrowLike {
  const a = x as ArrowLike;
  return (
    !!a &&
    typeof a === "object" &&
    typeof a.numRows === "number" &&
    Array.isArray(a.schema?.fields) &&
    typeof a.getChildAt === "function"
  );
}

function pickRows(n: number, o: Required<TableOptions>): { picks: number[]; gapAfter: number } {
  if (n <= o.maxRows) return { picks: Array.from({ length: n }, (_, i) => i), gapAfter: -1 };
  const head = Array.from({ length: o.headRows }, (_, i) => i);
  const tail = Array.from({ length: o.tailRows }, (_, i) => n - o.tailRows + i);
  return { picks: [...head, ...tail], gapAfter: o.headRows - 1 };
}

/** Reads only the rows that will be shown (a million-row arrow table costs 20 reads, not 1e6). */
export function tableView(data: unknown, options: TableOptions = {}): TableView {
  const o = withDefaults(options);
  if (isDanfo(data)) {
    const numRows = Number(data.shape[0]);
    const values = data.values as unknown[];
    // A Series-shaped frame (one column) may hold plain values instead of row arrays.
    const rowAt = (i: number) =>
      Array.isArray(values[i]) ? (values[i] as unknown[]) : [values[i]];
    const { picks, gapAfter } = pickRows(numRows, o);
    return {
      columns: data.columns.map(String),
      numRows,
      index: picks.map((i) => data.index?.[i] ?? i),
      rows: picks.map(rowAt),
      gapAfter,
    };
  }
  if (isArrow(data)) {
    const columns = data.schema.fields.map((f) => f.name);
    const vectors = columns.map((_, j) => data.getChildAt(j));
    const { picks, gapAfter } = pickRows(data.numRows, o);
    return {
      columns,
      numRows: data.numRows,
      index: picks,
      rows: picks.map((i) => vectors.map((v) => v?.get(i))),
      gapAfter,
    };
  }
  if (Array.isArray(data)) {
    const { picks, gapAfter } = pickRows(data.length, o);
    if (data.every((r) => Array.isArray(r))) {
      const width = data.reduce((w: number, r) => Math.max(w, (r as unknown[]).length), 0);
      return {
        columns: Array.from({ length: width }, (_, j) => String(j)),
        numRows: data.length,
        index: picks,
        rows: picks.map((i) => data[i] as unknown[]),
        gapAfter,
      };
    }
    if (data.every((r) => r !== null && typeof r === "object")) {
      // Column order: first appearance across all rows (a key missing from row 0 still shows).
      const seen = new Set<string>();
      for (const r of data) for (const k of Object.keys(r as object)) seen.add(k);
      const columns = [...seen];
      return {
        columns,
        numRows: data.length,
        index: picks,
        rows: picks.map((i) => columns.map((c) => (data[i] as Record<string, unknown>)[c])),
        gapAfter,
      };
    }
  }
  throw new TypeError(
    `dataFrameBundle: cannot show ${describe(data)} as a table; pass a danfojs DataFrame, an ` +
      "apache-arrow Table, an array of row objects, or an array of row arrays",
  );
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array mixing rows of different kinds";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `a ${typeof x}`;
}

function withDefaults(o: TableOptions): Required<TableOptions> {
  const headRows = o.headRows ?? 10;
  const tailRows = o.tailRows ?? 5;
  return {
    maxRows: Math.max(o.maxRows ?? 20, headRows + tailRows),
    headRows,
    tailRows,
    maxCellChars: o.maxCellChars ?? 200,
    maxTextCellChars: o.maxTextCellChars ?? 32,
  };
}

/** One cell as text: numbers to 6 significant digits, dates as ISO, objects as JSON. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (typeof v === "string") return v;
  if (typeof v === "object") {
    if (ArrayBuffer.isView(v))
      return `[${Array.from(v as unknown as ArrayLike<number>).join(", ")}]`;
    try {
      // Arrow structs and lists expose toJSON.
      return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
    } catch {
      return String(v);
    }
  }
  return String(v);
}

const isNumeric = (v: unknown) => typeof v === "number" || typeof v === "bigint";

export function shapeText(view: TableView): string {
  const r = view.numRows;
  const c = view.columns.length;
  return `${formatCount(r)} row${r === 1 ? "" : "s"} × ${formatCount(c)} column${c === 1 ? "" : "s"}`;
}

function tableHtml(view: TableView, o: Required<TableOptions>): string {
  const th = (s: string) => `<th>${escapeHtml(s)}</th>`;
  const head = `<thead><tr><th></th>${view.columns.map(th).join("")}</tr></thead>`;
  const body: string[] = [];
  view.rows.forEach((row, r) => {
    const cells = view.columns.map((_, j) => {
      const v = row[j];
      const full = formatCell(v);
      const shown = truncate(full, o.maxCellChars);
      const title = shown === full ? "" : ` title="${escapeHtml(truncate(full, 2000))}"`;
      const style = v === null || v === undefined ? ` style="color:#999"` : "";
      const align = isNumeric(v) ? ` style="text-align:right"` : style;
      return `<td${title}${align}>${escapeHtml(shown)}</td>`;
    });
    body.push(`<tr><th>${escapeHtml(formatCell(view.index[r]))}</th>${cells.join("")}</tr>`);
    if (r === view.gapAfter) {
      const hidden = view.numRows - view.rows.length;
      body.push(
        `<tr class="halo-ellipsis"><th>…</th><td colspan="${Math.max(1, view.columns.length)}" style="text-align:center;color:#777">… ${formatCount(hidden)} more rows …</td></tr>`,
      );
    }
  });
  return (
    `<div class="halo-table"><table class="dataframe" border="1">${head}<tbody>${body.join("")}</tbody></table>` +
    `<p style="font-size:0.9em;color:#555;margin:4px 0">${escapeHtml(shapeText(view))}</p></div>`
  );
}

function tableText(view: TableView, o: Required<TableOptions>): string {
  // Control characters would break the alignment (and a \r rewrites the terminal line).
  const clean = (s: string) =>
    truncate(s.replace(/[\u0000-\u001f\u007f]/g, " "), o.maxTextCellChars);
  const header = ["", ...view.columns.map(clean)];
  const lines: string[][] = [header];
  const numericCol = view.columns.map((_, j) => view.rows.some((r) => isNumeric(r[j])));
  view.rows.forEach((row, r) => {
    lines.push([
      clean(formatCell(view.index[r])),
      ...view.columns.map((_, j) => clean(formatCell(row[j]))),
    ]);
    if (r === view.gapAfter) lines.push(["…", ...view.columns.map(() => "…")]);
  });
  const widths = header.map((_, j) => Math.max(...lines.map((l) => l[j]!.length)));
  const out = lines.map((l) =>
    l
      .map((cell, j) =>
        j > 0 && numericCol[j - 1] ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!),
      )
      .join("  ")
      .trimEnd(),
  );
  out.push("", shapeText(view));
  return out.join("\n");
}

/** HTML table + text for a DataFrame, an arrow Table, or an array of rows. */
export function dataFrameBundle(data: unknown, options: TableOptions = {}): MimeBundle {
  const o = withDefaults(options);
  const view = tableView(data, o);
  return { "text/html": tableHtml(view, o), "text/plain": tableText(view, o) };
}
