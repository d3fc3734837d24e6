// What a run records: one entry per task, feeding `halo.lastRun` and the timeline charts.
// The executor that runs a plan (row-by-row first, the Processor later) fills these in.

export type TaskKind =
  | "prefill"
  | "decode"
  | "sql"
  | "http"
  | "function"
  | "kv-move"
  | "relational"
  /** An LLM worker waiting for its model session to load (a model thread's first start). */
  | "model-load";

export interface TaskRecord {
  /** Where it ran: "llm:0", "llm:1", "tool:sql", "tool:http", "tool:function", "cpu". */
  lane: string;
  kind: TaskKind;
  /** Plan node id(s) this task served. */
  nodeIds: number[];
  /** Milliseconds since the run started. */
  startMs: number;
  endMs: number;
  /**
   * LLM tasks: tokens each of `nodeIds` computed in this call (aligned with it), to split the
   * task's time among nodes (node-shares.ts).
   */
  nodeTokens?: number[];
  /** Sequences in the batch (LLM tasks: the whole forward call's, every run's) or 1. */
  batchSize: number;
  /**
   * LLM tasks of a forward call that also held other runs' sequences (the Processor's workers
   * serve every run of the session): how many, and the tokens they computed in it. The task's
   * own token counts and `nodeTokens` are this run's.
   */
  sharedWith?: { sequences: number; tokens: number };
  prefillTokens?: number;
  cachedTokens?: number;
  decodeTokens?: number;
  /** Tool calls: answered from the run's result cache (no call made). */
  cacheHit?: boolean;
  /** Tool calls: 1 for the first try, 2 for the first retry, ... */
  attempt?: number;
  /** The error message, when the task failed. */
  error?: string;
  /** KV moves: bytes moved. */
  bytes?: number;
  /** Short free text for tooltips ("out", "in", a tool name). */
  detail?: string;
}

/** Per plan node: what the cost model predicted and what happened. */
export interface NodeStats {
  nodeId: number;
  label: string;
  kind: string;
  rows: number;
  /** Distinct calls actually executed after deduplication. */
  calls: number;
  estimatedMs?: number;
  /** Span: first row's start to last row's end (includes other nodes' work it overlapped). */
  measuredMs: number;
  /**
   * LLM nodes run by the Processor: this node's share of its worker's forward time (each
   * batch's time split by the tokens each node computed in it). What estimates compare with.
   */
  llmMs?: number;
  prefillTokens: number;
  cachedTokens: number;
  decodeTokens: number;
  predictedCacheHits?: number;
  /**
   * Call nodes: the optimizer's estimate of the node's tokens and calls before the run (its
   * `estimatedMs` beside), for estimate vs actual in `halo.lastRun` (physical.estimate).
   */
  estimated?: { calls: number; promptTokens: number; cachedTokens: number; decodeTokens: number };
  /** Rows answered from the result stores (kept by an earlier run; no call made). */
  storedCalls?: number;
}

export interface RunTrace {
  startedAt: string;
  wallMs: number;
  tasks: TaskRecord[];
  nodes: NodeStats[];
  /** Planner (optimizer) time, when an optimizer ran. */
  plannerMs?: number;
  /** Explain text of the plan that ran. */
  plan?: string;
  /** KV moved between LLM workers of one model (Processor with several workers per model). */
  kvMigration?: KvMigrationStats;
}

/** What moved between one model's LLM workers in a run (`halo.lastRun.kvMigration`). */
export interface KvMigrationStats {
  /** Prefixes copied from one worker's cache to another's. */
  moves: number;
  /** Tokens of KV those moves carried (prefill the target did not recompute). */
  movedTokens: number;
  /** Pulls refused because recomputing the tokens was cheaper than moving them. */
  declined: number;
  /** Tokens of those refusals (recomputed on the target instead). */
  declinedTokens: number;
}
