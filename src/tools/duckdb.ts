// The embedded database (`halo.db`): DuckDB in-process, opened on first use (about 50 ms) so
// importing Halo stays cheap. Tables come from frames, arrow tables or rows. A sandboxed instance
// (`halo serve`'s) runs SQL that others wrote: no files, network, ATTACH or extensions beyond what
// the operator allows, with the configuration locked so no statement can undo it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBInstance } from "@duckdb/node-api";
import { toTableData } from "../frame/table-input.ts";
import type { Row, TableData } from "../plan/types.ts";
import { scanSql, isReadOnlySql, quoteIdent, quoteLiteral } from "./sql-text.ts";
import { abortError, type QueryResult, type SqlDatabase, type ToolContext } from "./types.ts";
import { plainRows } from "../frame/table-input.ts";

type ColumnType = "BIGINT" | "DOUBLE" | "BOOLEAN" | "VARCHAR" | "TIMESTAMP" | "JSON";

function inferType(rows: Row[], column: string): ColumnType {
  let type: ColumnType | undefined;
  for (const row of rows) {
    const v = row[column];
    if (v === null || v === undefined) continue;
    let t: ColumnType;
    if (typeof v === "number") t = Number.isInteger(v) ? "BIGINT" : "DOUBLE";
    else if (typeof v === "boolean") t = "BOOLEAN";
    else if (typeof v === "string") t = "VARCHAR";
    else if (v instanceof Date) t = "TIMESTAMP";
    else t = "JSON";
    if (type === undefined || type === t) type = t;
    else if ((type === "BIGINT" && t === "DOUBLE") || (type === "DOUBLE" && t === "BIGINT"))
      type = "DOUBLE";
    else return "VARCHAR";
  }
  return type ?? "VARCHAR";
}

/** Values DuckDB can bind: objects become JSON text. */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (
    v === null ||
    ["string", "number", "boolean", "bigint"].includes(typeof v) ||
    v instanceof Date
  )
    return v;
  return JSON.stringify(v);
}

/** What a sandboxed instance may still touch on disk (read and write). */
export interface DuckDbSandbox {
  /** Folders, with everything under them. */
  allowedDirectories?: string[];
  /** Single files. */
  allowedFiles?: string[];
}

export class DuckDb implements SqlDatabase {
  readonly engine = "duckdb" as const;
  readonly key: string;
  private readonly path: string;
  private readonly sandbox: DuckDbSandbox | undefined;
  private instance: Promise<DuckDBInstance> | undefined;
  /** A sandboxed instance's private spill folder (removed on close). */
  private spillDir: string | undefined;
  private version = 0;

  constructor(
    key = "duckdb:default",
    path = ":memory:",
    options: { sandbox?: DuckDbSandbox } = {},
  ) {
    this.key = key;
    this.path = path;
    this.sandbox = options.sandbox;
  }

  private open(): Promise<DuckDBInstance> {
    this.instance ??= import("@duckdb/node-api").then(async (m) => {
      const instance = await m.DuckDBInstance.create(this.path);
      if (this.sandbox)
        await this.lockDown(instance, this.sandbox).catch((err: unknown) => {
          // Never hand out an instance that is not locked: every query fails instead.
          instance.closeSync();
          throw err;
        });
      return instance;
    });
    return this.instance;
  }

  /**
   * DuckDB's own guard ("Securing DuckDB"): with external access off, file functions
   * (read_text, read_csv, COPY, glob), ATTACH of files, httpfs and loading extensions are refused
   * outside the allowed paths; locking the configuration refuses the SET that would undo it.
   * Spilling goes to a private folder of its own (by default it is `.tmp` in the working
   * folder, which external-access-off would then leave writable).
   */
  private async lockDown(instance: DuckDBInstance, sandbox: DuckDbSandbox): Promise<void> {
    this.spillDir = mkdtempSync(join(tmpdir(), "halo-duckdb-"));
    const list = (paths: string[] = []) => `[${paths.map(quoteLiteral).join(", ")}]`;
    const con = await instance.connect();
    try {
      for (const statement of [
        `SET temp_directory = ${quoteLiteral(this.spillDir)}`,
        `SET allowed_directories = ${list(sandbox.allowedDirectories)}`,
        `SET allowed_paths = ${list(sandbox.allowedFiles)}`,
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
      ])
        await con.run(statement);
    } finally {
      con.closeSync();
    }
  }

  stateKey(): string {
    return `${this.key}#${this.version}`;
  }

  /** Creates (or replaces) table `name` from a danfo DataFrame, an arrow Table or rows. */
  async register(name: string, table: unknown): Promise<void> {
    if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new TypeError(
        `halo.db.register: table name must be an identifier like 'products', got ${JSON.stringify(name)}`,
      );
    const data: TableData = toTableData(table, `halo.db.register('${name}', ...)`);
    if (data.columns.length === 0)
      throw new TypeError(`halo.db.register('${name}'): the table has no columns`);
    const types = data.columns.map((c) => inferType(data.rows, c));
    const con = await (await this.open()).connect();
    try {
      const cols = data.columns.map((c, i) => `${quoteIdent(c)} ${types[i]}`).join(", ");
      await con.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} (${cols})`);
      const appender = await con.createAppender(name);
      for (const row of data.rows) {
        data.columns.forEach((c, i) => {
          const v = row[c];
          if (v === null || v === undefined) return appender.appendNull();
          switch (types[i]) {
            case "BIGINT":
              return appender.appendBigInt(BigInt(v as number));
            case "DOUBLE":
              return appender.appendDouble(v as number);
            case "BOOLEAN":
              return appender.appendBoolean(v as boolean);
            case "TIMESTAMP":
              return appender.appendVarchar((v as Date).toISOString());
            case "JSON":
              return appender.appendVarchar(JSON.stringify(v));
            default:
              return appender.appendVarchar(String(v));
          }
        });
        appender.endRow();
      }
      appender.closeSync();
    } finally {
      con.closeSync();
    }
    this.version++;
  }

  async query(
    sql: string,
    params: Record<string, unknown> = {},
    context: ToolContext = {},
  ): Promise<QueryResult> {
    const { signal } = context;
    if (signal?.aborted) throw abortError(signal);
    const con = await (await this.open()).connect();
    const onAbort = () => con.interrupt();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const scan = scanSql(sql);
      if (scan.statements > 1)
        throw new Error(
          `SQL: one statement per query, found ${scan.statements} (${JSON.stringify(sql.slice(0, 80))})`,
        );
      const missing = scan.params.filter((p) => !(p in params));
      if (missing.length)
        throw new Error(
          `SQL: parameter(s) ${missing.map((m) => `$${m}`).join(", ")} have no value; pass them in params`,
        );
      const extra = Object.keys(params).filter((p) => !scan.params.includes(p));
      if (extra.length)
        throw new Error(
          `SQL: params ${extra.join(", ")} are not used by the query (it uses ${scan.params.map((p) => `$${p}`).join(", ") || "none"})`,
        );
      const statement = await con.prepare(sql);
      if (scan.params.length) {
        const values: Record<string, unknown> = {};
        for (const p of scan.params) values[p] = bindable(params[p]);
        statement.bind(values as never);
      }
      const reader = await statement.runAndReadAll();
      if (signal?.aborted) throw abortError(signal);
      // A write (even one the lexer called read-only) changes the data reuse depends on.
      if (!isReadOnlySql(scan) || statement.statementType !== 1) this.version++;
      const columns = reader.columnNames();
      const rows = plainRows(columns, reader.getRowObjectsJS());
      return { columns, rows };
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      con.closeSync();
    }
  }

  async close(): Promise<void> {
    if (!this.instance) return;
    const inst = await this.instance;
    inst.closeSync();
    this.instance = undefined;
    if (this.spillDir) rmSync(this.spillDir, { recursive: true, force: true });
    this.spillDir = undefined;
  }
}
