// The plan as a drawable graph. The frame/plan module exports `planGraph(dag)` returning this
// shape; the display draws it without knowing the plan's own types.

export interface PlanGraphNode {
  id: number;
  /** Short name shown in bold, e.g. "LlmCall sentiment". */
  label: string;
  /** Node kind as the plan names it: LlmCall, SqlCall, HttpCall, FnCall, Map, Filter, Source... */
  kind: string;
  /** One more line of detail (model, prompt head, SQL head); truncated when drawn. */
  detail?: string;
  /** True when deduplication merged equal calls here, or several consumers share the node. */
  merged?: boolean;
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
