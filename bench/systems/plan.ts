// A workload shape as a Halo plan: `halo.workflow` YAML (one node per shape node, edges from the
// templates, SQL on the bench's DuckDB, HTTP against the tool server, the shape's functions) run
// over the query inputs. The baselines interpret this same plan's nodes (./steps.ts), so every
// system renders the same prompts from the same tool results.
import type { DuckDBInstance } from "@duckdb/node-api";
import { stringify } from "yaml";
import { workflow, type Workflow } from "../../src/frame/workflow.ts";
import type { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { edgesOf } from "../workloads/graph.ts";
import { FUNCTIONS } from "../workloads/functions.ts";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowNode, WorkflowShape } from "../workloads/types.ts";
import { benchDbFor, type BenchDb } from "./bench-db.ts";
import { modelKey } from "./models.ts";

export interface PlanEnv {
  /** The DuckDB instance holding the workload's dataset. */
  instance: DuckDBInstance;
  /** The tool server's base URL. */
  toolServerUrl: string;
}

const BENCH_DB = "bench";

function nodeSpec(node: WorkflowNode, toolServerUrl: string): Record<string, unknown> {
  const base = { id: node.id, output: node.output };
  switch (node.type) {
    case "llm":
      return {
        ...base,
        type: "llm",
        prompt: node.prompt,
        ...(node.system !== undefined && { system: node.system }),
        model: modelKey(node.model),
        maxTokens: node.maxTokens,
        ...(node.choices && { choices: node.choices }),
      };
    case "sql":
      return { ...base, type: "sql", db: BENCH_DB, query: node.query, params: node.params };
    case "http": {
      const query = Object.entries(node.query)
        .map(([k, t]) => `${encodeURIComponent(k)}=${t}`)
        .join("&");
      return { ...base, type: "http", url: `${toolServerUrl}${node.route}?${query}` };
    }
    case "function":
      return { ...base, type: "function", function: node.fn, inputs: node.inputs };
  }
}

/** The `halo.workflow` YAML text of a shape (the tool server's URL is part of it). */
export function workflowYaml(shape: WorkflowShape, toolServerUrl: string): string {
  const edges = new Map<string, { from: string; to: string }>();
  for (const e of edgesOf(shape)) edges.set(`${e.from}>${e.to}`, { from: e.from, to: e.to });
  const doc = {
    name: shape.name,
    nodes: [
      { id: "input", type: "input", columns: shape.inputColumns },
      ...shape.nodes.map((n) => nodeSpec(n, toolServerUrl)),
    ],
    edges: [...edges.values()],
  };
  return stringify(doc, { lineWidth: 0 });
}

/** What `halo.workflow` (or `halo serve`) needs beside the YAML: the shape's functions and DB. */
export function workflowOptions(env: PlanEnv): {
  functions: typeof FUNCTIONS;
  databases: Record<string, BenchDb>;
} {
  return { functions: FUNCTIONS, databases: { [BENCH_DB]: benchDbFor(env.instance) } };
}

export function buildWorkflow(shape: WorkflowShape, env: PlanEnv): { wf: Workflow; db: BenchDb } {
  const options = workflowOptions(env);
  const wf = workflow(workflowYaml(shape, env.toolServerUrl), options);
  return { wf, db: options.databases[BENCH_DB]! };
}

/** The workload's plan over these query inputs, ready to collect. */
export function buildFrame(
  shape: WorkflowShape,
  inputs: readonly InputRow[],
  env: PlanEnv,
): { frame: LazyFrame; db: BenchDb } {
  const { wf, db } = buildWorkflow(shape, env);
  return { frame: wf.run(inputs.map((r) => ({ ...r }))), db };
}
