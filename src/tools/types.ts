// One call shape for every tool, so the Processor's tool pool can run any of them with the same
// concurrency limits, timeouts and tracing: `call(request, context) -> Promise<result>`.
// Requests are fully rendered (templates already filled from the row); tools never see rows.

export interface ToolContext {
  signal?: AbortSignal;
}

export type ToolKind = "sql" | "http" | "function";

export interface Tool<Request, Result = unknown> {
  readonly kind: ToolKind;
  call(request: Request, context: ToolContext): Promise<Result>;
}

/** A query result: columns in order and rows as objects (bigints narrowed when exact). */
export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** A database SQL nodes can name. The embedded DuckDB and PostgreSQL implement it. */
export interface SqlDatabase {
  /** Registry key, e.g. "duckdb:default" or "postgres:1". */
  readonly key: string;
  readonly engine: "duckdb" | "postgres";
  /**
   * Changes whenever the data may have changed through Halo (a table registered, a write run):
   * part of SQL node signatures, so stale results are never reused.
   */
  stateKey(): string;
  /** Runs one statement with named parameters bound (`$name`), never spliced into the text. */
  query(sql: string, params: Record<string, unknown>, context?: ToolContext): Promise<QueryResult>;
  close(): Promise<void>;
}

export function abortError(signal: AbortSignal | undefined): Error {
  const reason = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("the operation was aborted");
  err.name = "AbortError";
  return err;
}
