// The bench's loaded DuckDB as a frame `SqlDatabase`, so every system (halo through
// `.sql({ db })`, the baselines through the frame's own `sqlTool`) runs SQL the same way and gets
// the same values back: a connection per query (queries of concurrent rows run side by side, as
// with the frame's DuckDb) and cells made plain by the frame's `plainValue`.
import type { DuckDBInstance } from "@duckdb/node-api";
import { plainValue } from "../../src/frame/table-input.ts";
import { registerDatabase } from "../../src/tools/databases.ts";
import {
  abortError,
  type QueryResult,
  type SqlDatabase,
  type ToolContext,
} from "../../src/tools/types.ts";

/** Values DuckDB can bind: objects become JSON text (as the frame's DuckDb binds them). */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || ["string", "number", "boolean", "bigint"].includes(typeof v)) return v;
  return JSON.stringify(v);
}

export class BenchDb implements SqlDatabase {
  readonly engine = "duckdb" as const;
  /** Tool calls run through this database since the last `takeCount()`. */
  queries = 0;

  constructor(
    readonly key: string,
    private readonly instance: DuckDBInstance,
  ) {}

  /** The bench never writes: results stay valid for the whole run. */
  stateKey(): string {
    return this.key;
  }

  async query(
    sql: string,
    params: Record<string, unknown> = {},
    context: ToolContext = {},
  ): Promise<QueryResult> {
    if (context.signal?.aborted) throw abortError(context.signal);
    this.queries++;
    const con = await this.instance.connect();
    try {
      const statement = await con.prepare(sql);
      const values: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(params)) values[k] = bindable(v);
      if (Object.keys(values).length) statement.bind(values as never);
      const reader = await statement.runAndReadAll();
      const columns = reader.columnNames();
      const rows = reader.getRowObjectsJS().map((r) => {
        const row: Record<string, unknown> = {};
        for (const c of columns) row[c] = plainValue(r[c]);
        return row;
      });
      return { columns, rows };
    } finally {
      con.closeSync();
    }
  }

  /** Queries since the last call (a system's SQL tool count). */
  takeCount(): number {
    const n = this.queries;
    this.queries = 0;
    return n;
  }

  async close(): Promise<void> {}
}

const byInstance = new WeakMap<DuckDBInstance, BenchDb>();
let next = 0;

/** One registered BenchDb per DuckDB instance (the registry lets plans name it by key). */
export function benchDbFor(instance: DuckDBInstance): BenchDb {
  let db = byInstance.get(instance);
  if (!db) {
    db = new BenchDb(`duckdb:bench-${next++}`, instance);
    registerDatabase(db);
    byInstance.set(instance, db);
  }
  return db;
}
