// The contract between collect() and whatever runs a plan: the row-by-row executor here, the
// Processor (issue 7) later. An executor gets a validated, possibly optimized PlanDag and returns
// one table per Sink, filling in the RunTrace as it goes.
import type { ChatMessage, GenerateRequest, GenerateResult } from "../runtime/types.ts";
import type { RunTrace } from "../processor/trace/trace.ts";
import type { ProcessorConfig } from "../processor/config.ts";
import type { PlanDag, PlanNode, Row } from "../plan/types.ts";
import { RenderError, wellFormed } from "../plan/template.ts";
import type { ToolContext } from "../tools/types.ts";
import type { SqlRequest } from "../tools/sql.ts";
import type { HttpRequest } from "../tools/http.ts";
import type { FunctionRequest } from "../tools/function.ts";
import type { RunCalls } from "./call-store.ts";
import type { ModelPrice } from "../cost/price.ts";

/** What an LLM node needs of a model: the runtime's `Model` satisfies it. */
export interface LlmModel {
  readonly id: string;
  /** Plain text to token ids, when the model has its tokenizer here (planning counts labels). */
  readonly tokenizer?: { encode(text: string, addSpecialTokens?: boolean): number[] };
  /** What a remote model's tokens cost, when the user gave it (`halo.openai({ price })`). */
  readonly price?: ModelPrice;
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
  /**
   * Results of single calls, kept as each finishes (session memory and disk): a failed or
   * interrupted run has kept what it finished, so its rerun makes only the missing calls.
   */
  calls?: RunCalls;
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

/**
 * A row failed at a node under onError "raise": names the node (label, kind, id), the row (its
 * index in the node's input and its first column's value), the column involved and how much of
 * the node's work was kept; collect() adds the onError hint.
 */
export class RowError extends Error {
  readonly nodeId: number;
  readonly label: string;
  readonly rowIndex: number;
  /** The column whose value could not be rendered, else the node's output column. */
  readonly column: string | undefined;
  constructor(failure: {
    node: PlanNode;
    rowIndex: number;
    row: Row;
    cause: unknown;
    /** What the run kept, e.g. "44 of 50 rows had finished this node and were kept: ...". */
    kept: string;
  }) {
    const { node, rowIndex, row, cause, kept } = failure;
    const rendering = cause instanceof RenderError;
    const output = (node.args as { output?: unknown }).output;
    const column = rendering ? cause.column : typeof output === "string" ? output : undefined;
    const where = rendering
      ? `, column '${column}'`
      : column !== undefined
        ? `, output column '${column}'`
        : "";
    const message = rendering
      ? cause.problem
      : cause instanceof Error
        ? cause.message
        : String(cause);
    const head = `row ${rowIndex}${rowPreview(row)} failed at node '${node.label}' (${node.kind} #${node.id}${where}): ${message}`;
    super(`${head}; ${kept}`, { cause });
    this.name = "RowError";
    this.nodeId = node.id;
    this.label = node.label;
    this.rowIndex = rowIndex;
    this.column = column;
    this.head = head;
  }

  private readonly head: string;

  /** Says again what was kept: calls that were running when the row failed may finish after. */
  updateKept(kept: string): void {
    this.message = `${this.head}; ${kept}`;
  }
}

/** ` (id: 46)`: the row's first column when it is a short scalar, so the user can find it. */
function rowPreview(row: Row): string {
  const first = Object.keys(row).find((k) => k !== ERRORS_COLUMN);
  if (first === undefined) return "";
  const v = row[first];
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint")
    return ` (${first}: ${v})`;
  if (typeof v !== "string") return "";
  const short = v.length > 32 ? `${v.slice(0, 32)}…` : v;
  // Quoted, with invisible and direction-changing characters spelled out.
  const quoted = JSON.stringify(wellFormed(short)).replace(
    /[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return ` (${first}: ${quoted})`;
}
