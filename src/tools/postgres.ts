// PostgreSQL by URL (`halo.connect("postgres://...")`), client `pg`, loaded on first query.
// `$name` parameters are rewritten to pg's `$1..$n` by the lexer and bound as values. With a
// `role`, every query runs after `SET ROLE role` on its connection (`halo serve --postgres-role`).
import type pg from "pg";
import { quoteIdent, scanSql } from "./sql-text.ts";
import { abortError, type QueryResult, type SqlDatabase, type ToolContext } from "./types.ts";
import { plainRows } from "../frame/table-input.ts";

let counter = 0;

export class PostgresDb implements SqlDatabase {
  readonly engine = "postgres" as const;
  readonly key: string;
  readonly url: string;
  /** The role queries run as (SET ROLE before each), when not the login's own. */
  readonly role: string | undefined;
  private pool: Promise<pg.Pool> | undefined;

  constructor(url: string, options: { role?: string } = {}) {
    if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url))
      throw new TypeError(
        `halo.connect: expected a URL like "postgres://user:pass@host:5432/db", got ${JSON.stringify(url)}`,
      );
    if (options.role !== undefined && (typeof options.role !== "string" || options.role === ""))
      throw new TypeError(
        `PostgreSQL role must be a role name, got ${JSON.stringify(options.role)}`,
      );
    this.url = url;
    this.role = options.role;
    this.key = `postgres:${++counter}`;
  }

  /** Another client may change the data at any time: signatures of pg reads are per run. */
  stateKey(): string {
    return this.key;
  }

  private connect(): Promise<pg.Pool> {
    this.pool ??= import("pg").then(
      (m) => new m.default.Pool({ connectionString: this.url, max: 4 }),
    );
    return this.pool;
  }

  async query(
    sql: string,
    params: Record<string, unknown> = {},
    context: ToolContext = {},
  ): Promise<QueryResult> {
    const { signal } = context;
    if (signal?.aborted) throw abortError(signal);
    const scan = scanSql(sql);
    if (scan.statements > 1)
      throw new Error(`SQL: one statement per query, found ${scan.statements}`);
    const missing = scan.params.filter((p) => !(p in params));
    if (missing.length)
      throw new Error(
        `SQL: parameter(s) ${missing.map((m) => `$${m}`).join(", ")} have no value; pass them in params`,
      );
    const values = scan.params.map((p) => {
      const v = params[p];
      return v !== null && typeof v === "object" && !(v instanceof Date)
        ? JSON.stringify(v)
        : (v ?? null);
    });
    const pool = await this.connect();
    const client = await pool.connect();
    // pg has no per-query cancel on a pooled client short of pg_cancel_backend; dropping the
    // client on abort ends the query server-side when the connection closes.
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      client.release(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // Before every query, not once per connection: an earlier query on this pooled connection
      // may have run RESET ROLE. (What RESET ROLE reaches is the login's own rights: see
      // docs/serving.md for the login such a role needs.)
      if (this.role !== undefined)
        await client.query(`SET ROLE ${quoteIdent(this.role)}`).catch((err: Error) => {
          throw new Error(`PostgreSQL: cannot SET ROLE ${this.role}: ${err.message}`);
        });
      const result = await client.query({ text: scan.positional, values });
      const columns = (result.fields ?? []).map((f) => f.name);
      const rows = plainRows(columns, result.rows ?? []);
      return { columns, rows };
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!aborted) client.release();
    }
  }

  async close(): Promise<void> {
    if (!this.pool) return;
    const pool = await this.pool;
    this.pool = undefined;
    await pool.end();
  }
}
