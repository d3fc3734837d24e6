// Annotations the optimizer leaves on a PlanDag. Decisions, each executed by the Processor: what
// to fan out, where a call starts, in which order an LLM node's rows reach the worker, whether
// they gather first, which worker runs the node. Predictions, shown by explain() and
// halo.lastRun: estimates and cache hits. They live on the nodes themselves (`node.physical`),
// because `copyDag` spreads every node (extra fields survive) and the validator never looks at
// them; plan-wide results (each pass's report, the analyses' batch sizes and schedule) hang off
// the root node. Every field is optional: a plan without them runs as is, with the same rows
// (they change cost, never results). test/processor/plan-decisions.test.ts fails when a field is
// neither a decision the Processor acts on nor listed there as a prediction.

/** Per-node decisions and predictions. */
export interface NodePhysical {
  /** dedupe-calls: instances whose rendered request is equal run once; the result fans out. */
  fanOut?: FanOut;
  /** group-shared-prefixes: instance order and prefix groups of an LLM node. */
  prefix?: PrefixPlan;
  /**
   * plan-batches: gather the node's input rows before submitting any (true), or submit each row
   * as it arrives (absent, the pipeline's default). See plan-batches.ts for when gathering pays.
   */
  gather?: boolean;
  /** place-work: which LLM worker runs the node. */
  placement?: Placement;
  /**
   * start-calls-early: the call starts once `base`'s row and the outputs of `deps` exist, not
   * when its own input row does (the call nodes in between add nothing it reads).
   */
  early?: { base: number; deps: number[] };
  /** The cost model's estimate of the node's work, before and after the passes (estimate.ts). */
  estimate?: NodeEstimate;
  /** Only on the root: the plan-wide report. */
  report?: PlanReport;
}

/** A call node's predicted work after the passes (and its time before them). */
export interface NodeEstimate {
  beforeMs: number;
  afterMs: number;
  /** LLM nodes: the KV footprint the warm-up was charged up to (the run tells the CostModel it is warm: `noteRan`). */
  footprintBytes?: number;
  /** Rows reaching the node (known rows, else an upper bound), and calls made after fan-out. */
  rows: number;
  calls: number;
  /** LLM nodes, over all calls: prompt tokens, of them expected from the prefix cache, generated. */
  promptTokens: number;
  cachedTokens: number;
  decodeTokens: number;
  /** Dollars at the model's price (`halo.openai({ price })`); absent without one. */
  usd?: number;
  /** The session keeps this node's table, or it feeds only kept ones: nothing runs. */
  kept?: boolean;
}

/** The plan's predicted work: the sum of its call nodes' estimates. */
export interface PlanTotals {
  ms: number;
  llmCalls: number;
  toolCalls: { sql: number; http: number; function: number };
  promptTokens: number;
  cachedTokens: number;
  decodeTokens: number;
  /** Dollars over the nodes whose model has a price; absent when none has. */
  usd?: number;
}

export interface FanOut {
  /** Instances (input rows) predicted at planning time (null: unknown until run). */
  instances: number | null;
  /** Distinct requests predicted (null: unknown); `instances - distinct` rows are merged. */
  distinct: number | null;
}

export interface PrefixGroup {
  /** Positions in the node's input rows, in run order. */
  rows: number[];
  /** Leading prompt tokens every member shares (prefilled once while the group runs). */
  sharedTokens: number;
}

export interface PrefixPlan {
  /**
   * Input row positions in the order to submit them (a depth-first walk of the prompt trie, so
   * prompts sharing a prefix run back to back while it stays cached). Valid only when the node's
   * input has exactly `inputRows` rows at run time; otherwise run in row order.
   */
  order: number[];
  inputRows: number;
  groups: PrefixGroup[];
  /** Prompt tokens over all instances (known prefixes only when `exact` is false). */
  promptTokens: number;
  /**
   * Not exact: the whole prompts' tokens as far as planning can tell (the template around the
   * run-time values, each value at its producer's expected answer length, a tool's result at
   * zero): the estimate's prompt tokens until the node has run (llm-shape.ts).
   */
  estimatedTokens?: number;
  /** Tokens of distinct trie edges: what prefill computes with an unbounded cache. */
  uniqueTokens: number;
  /** Prompt tokens predicted to come from the prefix cache, in the planned order, under the KV budget. */
  predictedCachedTokens: number;
  /** The same prediction for plain row order (what the pass improved on). */
  rowOrderCachedTokens: number;
  /** False when some prompt text depends on values only known at run time (upstream calls). */
  exact: boolean;
  /** Tokenized by the model's own tokenizer (true) or an approximate word-level one (false). */
  modelTokens: boolean;
}

/** The batch-sizes analysis: the batch the cost model finds cheapest for an LLM node. */
export interface BatchSizing {
  nodeId: number;
  /** Most sequences per batch. */
  size: number;
  /** Batches the node's distinct calls make. */
  batches: number;
  /** Why this size (the limit that bound it). */
  reason: "all calls" | "kv budget" | "cheapest";
}

export interface Placement {
  /** Index into `PlanReport.workers`. */
  worker: number;
  lane: string;
  model: string;
  /** Model load paid before this node (0 when resident). */
  switchMs: number;
  /** Tokens predicted cached on this worker because a parent ran there (cache affinity). */
  affinityTokens: number;
}

export interface WorkerSpec {
  /** Trace lane, "llm:0". */
  lane: string;
  /** Model loaded on it when the run starts (undefined: none). */
  resident?: string;
}

export interface Epoch {
  /** LLM nodes per worker lane that run together in this epoch. */
  llm: { lane: string; nodeIds: number[] }[];
  /** Tool nodes (SQL, HTTP, functions) that run on CPU in this epoch. */
  tools: number[];
  /** Of `tools`, those whose results feed LLM work of a later epoch: prepared ahead. */
  prepared: number[];
  /** Predicted length of the epoch, ms (its slowest lane). */
  ms: number;
}

export interface SchedulePlan {
  epochs: Epoch[];
  /** "dp" (exact over done sets and worker state) or "greedy" (above the state budget). */
  method: "dp" | "greedy";
  /** Predicted makespan, ms; `serialMs` is the same work run one node after another. */
  makespanMs: number;
  serialMs: number;
  /** States the DP visited (0 for greedy). */
  states: number;
}

export interface PassReport {
  name: string;
  /** Ran (flag on and its guard held). */
  applied: boolean;
  ms: number;
  /** One line of what it changed, for explain. */
  effect: string;
}

export interface PlanReport {
  passes: PassReport[];
  workers: WorkerSpec[];
  /** Analyses that ran (explain() runs them; a collect does not), with their findings below. */
  analyses?: PassReport[];
  batchSizes?: BatchSizing[];
  schedule?: SchedulePlan;
  /** Sum over nodes of the estimates, before and after the passes, ms. */
  beforeMs: number;
  afterMs: number;
  /** After the passes: calls, tokens, dollars over the call nodes (estimate.ts). */
  totals: PlanTotals;
  plannerMs: number;
}

declare module "../plan/types.ts" {
  // Declaration merging: every plan node may carry the optimizer's annotations.
  interface PlanNodeOf<K extends NodeKind> {
    physical?: NodePhysical;
  }
}
