// A self-contained HTML page of an executed notebook, in which every chart is visible without
// Jupyter: image/svg+xml inline, text/html as is, PNG as data URIs, text in <pre>. A bundle
// holding only a Vega-Lite spec is drawn to SVG here (vega's headless renderer).
import type { Notebook, Output } from "./notebook.ts";
import { sourceText } from "./notebook.ts";
import { renderMarkdown } from "./markdown.ts";

const STYLE = `
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1d1d1f; }
.cell { margin: 1em 0; }
.prompt { color: #6a737d; font: 12px monospace; }
pre { background: #f6f8fa; padding: .6em .8em; overflow-x: auto; border-radius: 4px; font-size: 13px; }
pre.code { border-left: 3px solid #1f3b73; }
pre.stderr { background: #fff5f5; }
pre.error { background: #ffeef0; color: #86181d; }
.output { margin: .4em 0 .4em 1.5em; overflow-x: auto; }
table.dataframe { border-collapse: collapse; font-size: 13px; }
table.dataframe td, table.dataframe th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
`;

const ANSI = /\u001b\[[0-9;]*m/g;

export async function renderReport(nb: Notebook, title: string): Promise<string> {
  const parts: string[] = [];
  for (const cell of nb.cells) {
    const source = sourceText(cell);
    if (cell.cell_type === "markdown")
      parts.push(`<div class="cell markdown">${renderMarkdown(source)}</div>`);
    else if (cell.cell_type === "code") {
      const outputs = await Promise.all((cell.outputs ?? []).map(renderOutput));
      parts.push(
        `<div class="cell code"><div class="prompt">In [${cell.execution_count ?? " "}]:</div><pre class="code">${escapeHtml(source)}</pre>${outputs.join("\n")}</div>`,
      );
    }
  }
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n<h1 class="title">${escapeHtml(title)}</h1>\n${parts.join("\n")}\n</body></html>\n`;
}

async function renderOutput(o: Output): Promise<string> {
  if (o.output_type === "stream")
    return `<pre class="output ${o.name === "stderr" ? "stderr" : ""}">${escapeHtml(String(o.text))}</pre>`;
  if (o.output_type === "error") {
    const tb =
      (o.traceback as string[] | undefined)?.join("\n") ??
      `${String(o.ename)}: ${String(o.evalue)}`;
    return `<pre class="output error">${escapeHtml(tb.replace(ANSI, ""))}</pre>`;
  }
  return `<div class="output">${await renderBundle((o.data ?? {}) as Record<string, unknown>)}</div>`;
}

export async function renderBundle(data: Record<string, unknown>): Promise<string> {
  const text = (v: unknown) =>
    Array.isArray(v) ? v.join("") : typeof v === "string" ? v : JSON.stringify(v, null, 2);
  if (data["image/svg+xml"] !== undefined) return text(data["image/svg+xml"]);
  if (data["text/html"] !== undefined) return text(data["text/html"]);
  if (data["image/png"] !== undefined)
    return `<img src="data:image/png;base64,${text(data["image/png"]).replace(/\s/g, "")}">`;
  if (data["image/jpeg"] !== undefined)
    return `<img src="data:image/jpeg;base64,${text(data["image/jpeg"]).replace(/\s/g, "")}">`;
  const vl = data["application/vnd.vegalite.v5+json"] ?? data["application/vnd.vegalite.v4+json"];
  if (vl !== undefined) {
    try {
      return await vegaLiteToSvg(typeof vl === "string" ? JSON.parse(vl) : vl);
    } catch (err) {
      return `<pre class="error">chart could not be drawn: ${escapeHtml((err as Error).message)}</pre>`;
    }
  }
  if (data["text/markdown"] !== undefined) return renderMarkdown(text(data["text/markdown"]));
  if (data["application/json"] !== undefined)
    return `<pre>${escapeHtml(text(data["application/json"]))}</pre>`;
  if (data["text/plain"] !== undefined) return `<pre>${escapeHtml(text(data["text/plain"]))}</pre>`;
  return "";
}

async function vegaLiteToSvg(spec: unknown): Promise<string> {
  // Both are ESM-only with top-level await: loaded only when a report needs them.
  const vega = await import("vega");
  const vl = await import("vega-lite");
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;",
  );
}
