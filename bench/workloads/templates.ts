// `{{column}}` templates: which columns a node reads (for edges and validation) and rendering
// (for tests and the tool server's checks). Plain column names only, as in halo.workflow
// (src/plan/template.ts): a value that is an object reads as its JSON.
import type { WorkflowNode } from "./types.ts";

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The column names a template reads, in order of first use. */
export function templateColumns(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

export function renderTemplate(template: string, row: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_all, col: string) => {
    if (!(col in row))
      throw new Error(`template names column '${col}', row has: ${Object.keys(row).join(", ")}`);
    const v = row[col];
    if (v === null || v === undefined) return "";
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** Every column a node reads. */
export function nodeReads(node: WorkflowNode): string[] {
  const templates: string[] = [];
  switch (node.type) {
    case "llm":
      templates.push(node.prompt, node.system ?? "");
      break;
    case "sql":
      templates.push(...Object.values(node.params));
      break;
    case "http":
      templates.push(...Object.values(node.query));
      break;
    case "function":
      return node.inputs.slice();
  }
  const out: string[] = [];
  for (const t of templates) for (const c of templateColumns(t)) if (!out.includes(c)) out.push(c);
  return out;
}
