// The neutral shape of a benchmark workflow: nodes of the kinds `halo.workflow` YAML will have
// (input, llm, sql, http, function) with `{{column}}` templates; edges are not written down but
// derived from the templates (a node depends on the nodes whose output it names), so the shape
// cannot say one thing in its edges and another in its prompts. The frame engineer's YAML is
// a direct transcription of this: one node per entry, `output` naming the new column.
import type { DatasetName } from "../data/index.ts";

/** The runtime's three model variants standing in for the paper's 14B/20B/32B. */
export type ModelSize = "small" | "medium" | "large";

interface NodeBase {
  /** Unique within the workflow; snake_case. */
  id: string;
  /** The column this node adds to every row. */
  output: string;
}

export interface LlmNode extends NodeBase {
  type: "llm";
  /** User message template; instruction first, row data last (rows then share a token prefix). */
  prompt: string;
  system?: string;
  model: ModelSize;
  maxTokens: number;
  choices?: string[];
}

export interface SqlNode extends NodeBase {
  type: "sql";
  /** DuckDB SQL with named parameters ($name); never spliced. */
  query: string;
  /** Parameter name -> template. */
  params: Record<string, string>;
}

/** The tool server's routes (bench/http-tools/routes.ts answers each). */
export type HttpRoute =
  | "/imdb/search"
  | "/imdb/genre-top"
  | "/articles/category"
  | "/articles/links"
  | "/tpch/report/nation-revenue"
  | "/tpch/report/shipmode"
  | "/tpch/report/segment";

export interface HttpNode extends NodeBase {
  type: "http";
  route: HttpRoute;
  /** Query parameter name -> template; the URL is `${toolServer}${route}?${query}`. */
  query: Record<string, string>;
}

export interface FunctionNode extends NodeBase {
  type: "function";
  /** A name in bench/workloads/functions.ts. */
  fn: string;
  /** Columns passed to the function, in order. */
  inputs: string[];
}

export type WorkflowNode = LlmNode | SqlNode | HttpNode | FunctionNode;

export interface WorkflowShape {
  name: string;
  description: string;
  dataset: DatasetName;
  /** Columns of the query-input frame (the `input` node). */
  inputColumns: string[];
  nodes: WorkflowNode[];
  /** The node whose output is the workflow's answer. */
  final: string;
  /** Node counts issue 9 names for this workload (checked by the validator). */
  expected: { llm: number; tools: number };
}

export interface Edge {
  /** A node id, or "input" for the query-input frame. */
  from: string;
  to: string;
  /** The column carried along the edge. */
  column: string;
}
