// A real, model-free run of a workload's tools: every tool node whose parameters come from the
// query inputs (directly or through function nodes) is executed for each query, giving the
// tool-call repeat structure (calls vs distinct calls) and whether the tools find data. Nodes
// that need an LLM's output are listed, not faked. This is what `halo bench` prints while no
// system is implemented, and what tells the optimizer how much deduplication there is to win.
import { topoOrder } from "../workloads/graph.ts";
import { nodeReads, renderTemplate } from "../workloads/templates.ts";
import { httpUrl, runTool } from "./tools.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";

export interface ToolNodeCheck {
  id: string;
  type: "sql" | "http" | "function";
  /** Calls the workflow asks for (one per query) and distinct ones among them. */
  calls: number;
  distinctCalls: number;
  /** Calls whose result had data (non-empty rows / a body without `found: false`). */
  withData: number;
  ms: number;
}

export interface ToolCheck {
  workload: string;
  checked: ToolNodeCheck[];
  /** Tool nodes that read an LLM output: not runnable without a model. */
  needsLlm: string[];
}

function hasData(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return (v as { found?: unknown }).found !== false;
  return v !== null && v !== undefined;
}

export async function checkTools(
  shape: WorkflowShape,
  inputs: readonly InputRow[],
  ctx: { db: DuckDBConnection; toolServerUrl: string },
): Promise<ToolCheck> {
  const available = new Set(shape.inputColumns);
  const checked: ToolNodeCheck[] = [];
  const needsLlm: string[] = [];
  const rows = inputs.map((r) => ({ ...r }) as Record<string, unknown>);
  for (const node of topoOrder(shape)) {
    if (node.type === "llm") continue;
    if (!nodeReads(node).every((c) => available.has(c))) {
      needsLlm.push(node.id);
      continue;
    }
    const started = performance.now();
    const seen = new Map<string, unknown>();
    let withData = 0;
    for (const row of rows) {
      const key =
        node.type === "http"
          ? httpUrl("", node, row)
          : node.type === "sql"
            ? JSON.stringify(Object.values(node.params).map((t) => renderTemplate(t, row)))
            : JSON.stringify(node.inputs.map((c) => row[c]));
      let value = seen.get(key);
      if (!seen.has(key)) {
        value = await runTool(node, row, ctx);
        seen.set(key, value);
      }
      if (hasData(value)) withData++;
      row[node.output] = value;
    }
    available.add(node.output);
    checked.push({
      id: node.id,
      type: node.type,
      calls: rows.length,
      distinctCalls: seen.size,
      withData,
      ms: performance.now() - started,
    });
  }
  return { workload: shape.name, checked, needsLlm };
}
