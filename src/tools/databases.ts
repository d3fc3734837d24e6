// The session's databases by key, so a plan (plain data) names a database by string and the
// executor finds it. The embedded DuckDB is created lazily as "duckdb:default".
import { DuckDb } from "./duckdb.ts";
import { PostgresDb } from "./postgres.ts";
import type { SqlDatabase } from "./types.ts";

const registry = new Map<string, SqlDatabase>();
let defaultDb: DuckDb | undefined;

export function defaultDatabase(): DuckDb {
  if (!defaultDb) {
    defaultDb = new DuckDb("duckdb:default");
    registry.set(defaultDb.key, defaultDb);
  }
  return defaultDb;
}

export function registerDatabase(db: SqlDatabase): SqlDatabase {
  registry.set(db.key, db);
  return db;
}

export function connectDatabase(url: string): PostgresDb {
  const db = new PostgresDb(url);
  registry.set(db.key, db);
  return db;
}

export function getDatabase(key: string): SqlDatabase {
  if (key === "duckdb:default") return defaultDatabase();
  const db = registry.get(key);
  if (!db) throw new Error(`SQL: no database '${key}' in this session (was it closed?)`);
  return db;
}

export function isSqlDatabase(x: unknown): x is SqlDatabase {
  const d = x as SqlDatabase;
  return (
    !!d &&
    typeof d === "object" &&
    typeof d.key === "string" &&
    typeof d.query === "function" &&
    typeof d.stateKey === "function"
  );
}
