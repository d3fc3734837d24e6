// The databases that SQL nodes of served workflows reach. Their SQL was written by whoever holds
// the admin token (or by the operator's files), and their parameters come from query clients, so
// by default it reaches nothing but data: SQL without `db` runs on a DuckDB of the server's own,
// sandboxed (no files but the operator's `--allow-path`s, no network, no ATTACH of files, no
// extensions, configuration locked), and `db: NAME` names a PostgreSQL database the operator
// listed, queried as the role the operator named, which must not be able to read or write the
// database server's files. docs/serving.md has the threat model.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { registerDatabase } from "../tools/databases.ts";
import { DuckDb, type DuckDbSandbox } from "../tools/duckdb.ts";
import { PostgresDb } from "../tools/postgres.ts";

export interface ServedSqlOptions {
  /** Files or folders the served DuckDB may read and write (e.g. a data folder); none by default. */
  allowPaths?: string[];
  /** PostgreSQL databases by the name a node's `db` gives, each with the role its queries run as. */
  postgres?: Record<string, { url: string; role?: string }>;
}

let servers = 0;

/** Splits the operator's paths into DuckDB's two lists; a path that does not exist is an error. */
export function sandboxFor(paths: readonly string[] = []): DuckDbSandbox {
  const sandbox = { allowedDirectories: [] as string[], allowedFiles: [] as string[] };
  for (const path of paths) {
    const full = resolve(path);
    let isDir: boolean;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      throw new Error(`--allow-path ${path}: no such file or folder`);
    }
    (isDir ? sandbox.allowedDirectories : sandbox.allowedFiles).push(full);
  }
  return sandbox;
}

export interface ServedDatabases {
  /** Where SQL nodes without `db` run. */
  duckdb: DuckDb;
  /** The operator's PostgreSQL databases by name. */
  postgres: Record<string, PostgresDb>;
}

export function openServedDatabases(options: ServedSqlOptions): ServedDatabases {
  const key = `duckdb:serve-${++servers}`;
  const duckdb = new DuckDb(key, ":memory:", { sandbox: sandboxFor(options.allowPaths) });
  registerDatabase(duckdb);
  const postgres: Record<string, PostgresDb> = {};
  for (const [name, { url, role }] of Object.entries(options.postgres ?? {}))
    postgres[name] = registerDatabase(new PostgresDb(url, { role })) as PostgresDb;
  return { duckdb, postgres };
}

/** Built-in roles that reach the database server's files or programs (PostgreSQL 11+). */
const FILE_ROLES = ["pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"];

/**
 * Refuses (throws) a PostgreSQL connection whose SQL could reach beyond data: a superuser, a
 * member of a superuser role or of the file and program roles, or one that may create roles. The
 * login is checked, not only the role set on top of it: SQL can RESET ROLE back to the login.
 */
export async function checkPostgresRole(name: string, db: PostgresDb): Promise<void> {
  let row: Record<string, unknown>;
  try {
    ({
      rows: [row = {}],
    } = await db.query(
      `SELECT session_user::text AS login, current_user::text AS role,
         (SELECT rolcreaterole FROM pg_roles WHERE rolname = session_user) AS createrole,
         EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolsuper AND pg_has_role(session_user, r.oid, 'MEMBER')) AS superuser,
         ARRAY(SELECT f FROM unnest($roles::text[]) AS f
               WHERE pg_has_role(session_user, f, 'MEMBER')) AS file_roles`,
      { roles: `{${FILE_ROLES.join(",")}}` },
    ));
  } catch (err) {
    throw new Error(`--postgres ${name}: could not check its role: ${(err as Error).message}`);
  }
  const login = String(row.login);
  const reaches: string[] = [];
  if (row.superuser === true) reaches.push("is or can become a superuser");
  if (row.createrole === true) reaches.push("may create roles (CREATEROLE)");
  const fileRoles = (row.file_roles ?? []) as string[];
  if (fileRoles.length) reaches.push(`is a member of ${fileRoles.join(", ")}`);
  if (reaches.length)
    throw new Error(
      `--postgres ${name}: the login '${login}' ${reaches.join(" and ")}, so workflow SQL could read or write the database server's files or take any role. Connect as a login with only the rights the workflows need, e.g. CREATE ROLE halo_reader LOGIN PASSWORD '...'; GRANT SELECT ON ... TO halo_reader (docs/serving.md)`,
    );
}
