// The contract between collect() and whatever runs a plan: the row-by-row executor here, the
// Processor (issue 7) later. An executor gets a validated, possibly optimized PlanDag and returns
// one table per Sink, filling in the RunTrace as it goes.
import type { ChatMessage, GenerateRequest, GenerateResult } from "../runtime/types.ts";
import type { RunTrace } from "../processor/trace/trace.ts";
import type { ProcessorConfig } from "../processor/config.ts";
import type { PlanDag, Row } from "../plan/types.ts";
import type { ToolContext } from "../tools/types.ts";
import type { SqlRequest } from "../tools/sql.ts";
import type { HttpRequest } from "../tools/http.ts";
import type { FunctionRequest } from "../tools/function.ts";

/** What an LLM node needs of a model: the runtime's `Model` satisfies it. */
export interface LlmModel {
  readonly id: string;
  encodeChat(messages: ChatMessage[]): number[];
  generate(
    requests: GenerateRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<GenerateResult[]>;
}

/** Where executors get models and tools: injected, so tests and the Processor can swap them. */
export interface ExecutorServices {
  loadModel(modelKey: string): Promise<LlmModel>;
  sql(request: SqlRequest, context: ToolContext): Promise<unknown>;
  http(request: HttpRequest, context: ToolContext): Promise<unknown>;
  fn(request: FunctionRequest, context: ToolContext): Promise<unknown>;
}

export type OnError = "raise" | "null";

export interface ProgressEvent {
  nodeId: number;
  label: string;
  kind: string;
  /** Rows (or calls) finished and expected for this node. */
  done: number;
  total: number;
  /** LLM nodes: this node's tokens so far (cumulative), for live tok/s and cache hit rate. */
  tokens?: { prefill: number; cached: number; decode: number };
  /** Tool calls running in the whole run at this moment, when the executor knows. */
  toolsInFlight?: number;
}

/** Results of earlier runs by node signature (session reuse). */
export interface ResultStore {
  get(signature: string): StoredResult | undefined;
  set(signature: string, result: StoredResult): void;
}

export interface StoredResult {
  columns: string[] | null;
  rows: Row[];
}

export interface ExecuteContext {
  signal?: AbortSignal;
  /** "raise": the first failing row stops the run. "null": its outputs are null, the error goes to `_errors`. */
  onError: OnError;
  onProgress?: (event: ProgressEvent) => void;
  /** Filled in by the executor: tasks and per-node stats. */
  trace: RunTrace;
  services: ExecutorServices;
  /** Reuse results of nodes with stable signatures from earlier collects. */
  store?: ResultStore;
  /** Out: ids of nodes whose results came from `store`. */
  reused?: number[];
  /**
   * The Processor settings the plan was made for (the session's, with the run's overrides): the
   * Processor runs with exactly these. Default: the Processor's own.
   */
  config?: ProcessorConfig;
}

/** One table per Sink, in `dag.sinks` order. */
export interface SinkResult {
  columns: string[];
  rows: Row[];
  /** Column types the plan knows (schema-typed LLM outputs, text answers); set by collect(). */
  dtypes?: Record<string, string>;
}

export interface Executor {
  readonly name: string;
  execute(dag: PlanDag, context: ExecuteContext): Promise<SinkResult[]>;
}

/** Row errors kept with onError "null": node label -> message, joined into `_errors` at the sink. */
export const ERRORS_COLUMN = "_errors";

export class RowError extends Error {
  readonly nodeId: number;
  readonly rowIndex: number;
  constructor(nodeId: number, label: string, kind: string, rowIndex: number, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`node #${nodeId} (${kind} ${label}) failed on row ${rowIndex}: ${message}`, { cause });
    this.name = "RowError";
    this.nodeId = nodeId;
    this.rowIndex = rowIndex;
  }
}
