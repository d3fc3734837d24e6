// `.sql(spec)`: a SQL query per row, parameters bound from templates.
import { checkTemplateColumns, valueTemplateColumns } from "../../plan/template.ts";
import { addColumn } from "../../plan/columns.ts";
import { makeLogical, type LogicalNode } from "../../plan/logical.ts";
import type { SqlArgs, SqlShape, Volatility } from "../../plan/types.ts";
import { defaultDatabase, isSqlDatabase, registerDatabase } from "../../tools/databases.ts";
import { callsVolatileFunction, isReadOnlySql, scanSql } from "../../tools/sql-text.ts";
import type { SqlDatabase } from "../../tools/types.ts";
import { checkOutput, checkSpec, checkString, describe } from "./check.ts";

export interface SqlSpec {
  name?: string;
  /** One statement; `$name` marks a parameter. */
  query: string;
  /** Parameter -> template (`"{{keyword}}"`) or constant. Always bound, never spliced. */
  params?: Record<string, string | number | boolean | null>;
  output: string;
  /** "rows" (default): an array of row objects; "row": the first row; "value": its first column. */
  shape?: SqlShape;
  /** `halo.db` (default) or a database from `halo.connect(url)`. */
  db?: SqlDatabase;
}

const OPTIONS = ["name", "query", "params", "output", "shape", "db"] as const;

export function sqlVerb(input: LogicalNode, spec: SqlSpec): LogicalNode {
  const where = ".sql()";
  const s = checkSpec(where, spec, OPTIONS, ["query", "output"]);
  const query = checkString(where, "query", s.query);
  const output = checkOutput(where, s.output);
  const params = (s.params ?? {}) as Record<string, unknown>;
  if (typeof params !== "object" || params === null || Array.isArray(params))
    throw new TypeError(
      `${where}: params must be an object such as { kw: "{{keyword}}" }, got ${describe(params)}`,
    );
  for (const [k, v] of Object.entries(params))
    if (v !== null && !["string", "number", "boolean"].includes(typeof v))
      throw new TypeError(
        `${where}: params.${k} must be a template string or a constant, got ${describe(v)}`,
      );
  const scan = scanSql(query);
  if (scan.statements !== 1)
    throw new Error(
      `${where}: query must be one statement, found ${scan.statements}; run setup statements with halo.db.query() first`,
    );
  const missing = scan.params.filter((p) => !(p in params));
  if (missing.length)
    throw new Error(
      `${where}: the query uses ${missing.map((m) => `$${m}`).join(", ")} but params has no value for it; add params: { ${missing[0]}: "{{column}}" }`,
    );
  const extra = Object.keys(params).filter((p) => !scan.params.includes(p));
  if (extra.length)
    throw new Error(
      `${where}: params ${extra.join(", ")} not used by the query (it uses ${scan.params.map((p) => `$${p}`).join(", ") || "no parameters"})`,
    );
  checkTemplateColumns(`${where} params`, valueTemplateColumns(params), input.columns);
  const shape = (s.shape ?? "rows") as SqlShape;
  if (!["rows", "row", "value"].includes(shape))
    throw new TypeError(
      `${where}: shape must be "rows", "row" or "value", got ${describe(s.shape)}`,
    );
  let db: SqlDatabase;
  if (s.db === undefined) db = defaultDatabase();
  else if (isSqlDatabase(s.db)) db = registerDatabase(s.db);
  else
    throw new TypeError(
      `${where}: db must be halo.db or a database from halo.connect(url), got ${describe(s.db)}`,
    );
  const readOnly = isReadOnlySql(scan);
  // Embedded reads are stable (the db's version is in the signature); external reads per run.
  let volatility: Volatility = "volatile";
  if (readOnly && !callsVolatileFunction(scan))
    volatility = db.engine === "duckdb" ? "stable" : "run";
  const args: SqlArgs = {
    query,
    params: params as SqlArgs["params"],
    output,
    shape,
    dbKey: db.key,
    readOnly,
  };
  const label = s.name === undefined ? output : checkString(where, "name", s.name);
  return makeLogical("SqlCall", [input], args, addColumn(input.columns, output), label, volatility);
}
