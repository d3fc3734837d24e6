// The plan as a drawable graph. `planGraph(dag)` in src/plan/graph.ts returns a structurally
// compatible shape; the display draws it without importing the plan's own types.

export interface PlanGraphNode {
  id: number;
  /** Short name shown in bold, e.g. "LlmCall sentiment". */
  label: string;
  /** Node kind as the plan names it: LlmCall, SqlCall, HttpCall, FnCall, Map, Filter, Source... */
  kind: string;
  /** One more line of detail (model, prompt head, SQL head); truncated when drawn. */
  detail?: string;
  /**
   * Deduplication merged equal nodes here, or several consumers share the node: true, or the
   * number of logical nodes merged into this one (as src/plan/graph.ts reports it; 1 = none).
   */
  merged?: boolean | number;
  /** Cost model's estimate for the whole node, in milliseconds (drawn when present). */
  estimatedMs?: number;
  /** Estimated (or measured) rows flowing out of the node (drawn when present). */
  rows?: number;
}

export interface PlanGraphEdge {
  /** Producer node id. */
  from: number;
  /** Consumer node id. */
  to: number;
}

export interface PlanGraph {
  nodes: PlanGraphNode[];
  edges: PlanGraphEdge[];
}
