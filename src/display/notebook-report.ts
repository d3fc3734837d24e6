// `halo run NOTEBOOK --report`: an executed notebook as one standalone HTML page in which every
// chart is visible as SVG. nbconvert 6.5's HTML export empties image/svg+xml outputs and shows
// no vega-lite, so the report picks per output: text/html (our charts inline their SVG there),
// then image/svg+xml, then PNG/JPEG, then text. No scripts: the page is inert and safe to share.
import { escapeHtml } from "./html.ts";

/** The parts of an nbformat 4 notebook the report reads. */
export interface NotebookLike {
  cells: {
    cell_type: string;
    source: string | string[];
    execution_count?: number | null;
    outputs?: NotebookOutput[];
  }[];
  metadata?: { kernelspec?: { display_name?: string }; title?: string };
}

export type NotebookOutput =
  | { output_type: "stream"; name: string; text: string | string[] }
  | {
      output_type: "display_data" | "execute_result" | "update_display_data";
      data: Record<string, unknown>;
      execution_count?: number | null;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

const joinText = (t: string | string[] | unknown) =>
  Array.isArray(t) ? t.join("") : typeof t === "string" ? t : "";

// ANSI colour codes in tracebacks would show as junk in HTML.
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");

/** Chooses what to show for one rich output (see the file comment for the order). */
export function renderOutputData(data: Record<string, unknown>): string {
  const html = joinText(data["text/html"]);
  if (html) return `<div class="out-html">${html}</div>`;
  const svg = joinText(data["image/svg+xml"]);
  if (svg) return `<div class="out-svg">${svg}</div>`;
  for (const mime of ["image/png", "image/jpeg"]) {
    const b64 = joinText(data[mime]).replace(/\s+/g, "");
    if (b64) return `<img class="out-img" alt="" src="data:${mime};base64,${b64}">`;
  }
  const text = joinText(data["text/plain"]);
  return text ? `<pre class="out-text">${escapeHtml(text)}</pre>` : "";
}

function renderOutput(o: NotebookOutput): string {
  switch (o.output_type) {
    case "stream":
      return `<pre class="out-${o.name === "stderr" ? "stderr" : "stdout"}">${escapeHtml(joinText(o.text))}</pre>`;
    case "error":
      return `<pre class="out-error">${escapeHtml(stripAnsi(o.traceback?.join("\n") || `${o.ename}: ${o.evalue}`))}</pre>`;
    default:
      return renderOutputData(o.data ?? {});
  }
}

const STYLE = `
body { font-family: DejaVu Sans, Verdana, Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
.cell { margin: 14px 0; }
.src { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: 8px 10px; margin: 0; overflow-x: auto; font-size: 12.5px; }
.prompt { color: #888; font-size: 11px; font-family: monospace; }
.outputs { margin: 6px 0 0 0; }
.outputs pre { margin: 4px 0; font-size: 12px; overflow-x: auto; }
.out-stderr { background: #fff5f5; }
.out-error { background: #fdecea; color: #8a1c1c; padding: 6px; }
.outputs svg, .out-img { max-width: 100%; height: auto; }
table.dataframe { border-collapse: collapse; font-size: 12px; }
table.dataframe th, table.dataframe td { border: 1px solid #ddd; padding: 3px 7px; }
table.dataframe thead th { background: #f3f3f3; }
.md { line-height: 1.45; }
`;

/** Markdown cells are shown as preformatted text: no markdown library, no injected markup. */
function renderMarkdown(source: string): string {
  return `<div class="md"><pre style="white-space:pre-wrap;font-family:inherit;margin:0">${escapeHtml(source)}</pre></div>`;
}

/** A standalone HTML page of the notebook's cells and their outputs. */
export function notebookReportHtml(nb: NotebookLike, title = "Halo notebook report"): string {
  if (!nb || !Array.isArray(nb.cells)) {
    throw new TypeError(
      "notebookReportHtml: expected an nbformat 4 notebook object with a cells array",
    );
  }
  const cells = nb.cells.map((c) => {
    const src = joinText(c.source);
    if (c.cell_type === "markdown") return `<div class="cell">${renderMarkdown(src)}</div>`;
    if (c.cell_type !== "code") return "";
    const n = c.execution_count ?? " ";
    const outs = (c.outputs ?? []).map(renderOutput).join("");
    return (
      `<div class="cell"><div class="prompt">In [${n}]:</div><pre class="src">${escapeHtml(src)}</pre>` +
      (outs ? `<div class="outputs">${outs}</div>` : "") +
      `</div>`
    );
  });
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<style>${STYLE}</style></head><body><h1 style="font-size:20px">${escapeHtml(title)}</h1>` +
    `${cells.join("\n")}</body></html>\n`
  );
}
