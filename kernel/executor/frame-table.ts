// A plain HTML table for danfojs DataFrames and Series. When src/display/table.ts exports
// `dataFrameBundle(df)` (the display module's richer renderer), the executor prefers it.
import type { MimeBundle } from "../protocol/messages.ts";

const MAX_ROWS = 50;

interface FrameLike {
  columns: string[];
  index: (string | number)[];
  values: unknown[][] | unknown[];
  shape: number[];
}

export function isFrameLike(v: unknown): v is FrameLike {
  const o = v as Partial<FrameLike> & { constructor?: { name?: string } };
  const name = o.constructor?.name;
  return (
    (name === "DataFrame" || name === "Series") && Array.isArray(o.index) && Array.isArray(o.values)
  );
}

let richer: ((df: unknown) => MimeBundle) | undefined;

/** Called once the display module is found (see executor): its renderer takes over. */
export function setFrameRenderer(render: ((df: unknown) => MimeBundle) | undefined): void {
  richer = render;
}

export function frameBundle(df: FrameLike): MimeBundle {
  if (richer) {
    try {
      return richer(df);
    } catch {
      // fall back to the plain table
    }
  }
  const isSeries = (df as { constructor: { name: string } }).constructor.name === "Series";
  const columns = isSeries
    ? [String((df as { name?: string }).name ?? "0")]
    : df.columns.map(String);
  const rows = (df.values as unknown[])
    .slice(0, MAX_ROWS)
    .map((r) => (isSeries ? [r] : (r as unknown[])));
  const index = df.index.slice(0, MAX_ROWS).map(String);
  const shape = df.shape ?? [df.index.length, columns.length];
  const more = df.index.length > MAX_ROWS ? `<p>${df.index.length - MAX_ROWS} more rows</p>` : "";
  const html =
    `<table class="dataframe"><thead><tr><th></th>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map(
        (r, i) =>
          `<tr><th>${escapeHtml(index[i]!)}</th>${r.map((c) => `<td>${escapeHtml(cellText(c))}</td>`).join("")}</tr>`,
      )
      .join("") +
    `</tbody></table>${more}<p>${shape[0]} rows × ${isSeries ? 1 : shape[1]} columns</p>`;
  const widths = columns.map((c, j) =>
    Math.max(c.length, ...rows.map((r) => cellText(r[j]).length)),
  );
  const indexWidth = Math.max(0, ...index.map((s) => s.length));
  const text = [
    `${" ".repeat(indexWidth)}  ${columns.map((c, j) => c.padStart(widths[j]!)).join("  ")}`,
    ...rows.map(
      (r, i) =>
        `${index[i]!.padEnd(indexWidth)}  ${r.map((c, j) => cellText(c).padStart(widths[j]!)).join("  ")}`,
    ),
    ...(more ? [`... ${df.index.length - MAX_ROWS} more rows`] : []),
  ].join("\n");
  return { "text/html": html, "text/plain": text };
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
