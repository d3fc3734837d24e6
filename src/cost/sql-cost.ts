// What a SQL statement costs before it has ever run: the database's own plan estimate. DuckDB's
// `EXPLAIN (FORMAT JSON)` gives each operator an "Estimated Cardinality"; PostgreSQL's gives a
// "Total Cost" in its page-fetch units. Either becomes one number, `work`, and the cost model
// maps work to milliseconds with a per-engine line fitted on measured runs (tool-costs.ts).

/** The part of a database the estimator needs (the frame's SqlDatabase satisfies it). */
export interface ExplainableDatabase {
  readonly engine: "duckdb" | "postgres";
  query(sql: string, params: Record<string, unknown>): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * A statement with literals and layout stripped, as pg_stat_statements does: queries that
 * differ only in constants or whitespace share one moving average. `$name` parameters stay.
 */
export function normalizeSql(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (c === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out += "?";
      i = j + 1;
    } else if (c === '"') {
      const j = sql.indexOf('"', i + 1);
      const end = j === -1 ? sql.length : j + 1;
      out += sql.slice(i, end);
      i = end;
    } else if (rest.startsWith("--")) {
      const j = sql.indexOf("\n", i);
      i = j === -1 ? sql.length : j;
    } else if (rest.startsWith("/*")) {
      const j = sql.indexOf("*/", i + 2);
      i = j === -1 ? sql.length : j + 2;
    } else if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      if (out && !out.endsWith(" ")) out += " ";
    } else {
      const word = /^(\$?[A-Za-z_][A-Za-z0-9_]*|\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(rest);
      if (word) {
        out += /^\d/.test(word[0])
          ? "?"
          : word[0].startsWith("$")
            ? word[0]
            : word[0].toLowerCase();
        i += word[0].length;
      } else {
        out += c;
        i++;
      }
    }
  }
  return out.trim().replace(/;$/, "").trim();
}

export interface ExplainEstimate {
  /** DuckDB: rows through all operators plus full tables under filtered scans; PG: Total Cost. */
  work: number;
  /** Estimated rows of the result. */
  rows: number;
}

/**
 * Runs EXPLAIN on the statement with its parameters bound (the values matter: a point lookup's
 * estimate depends on them). Throws with the database's message when the statement is invalid.
 */
export async function explainSql(
  db: ExplainableDatabase,
  sql: string,
  params: Record<string, unknown> = {},
): Promise<ExplainEstimate> {
  const body = sql.trim().replace(/;\s*$/, "");
  if (db.engine === "postgres") {
    const r = await db.query(`EXPLAIN (FORMAT JSON) ${body}`, params);
    const raw = Object.values(r.rows[0] ?? {})[0];
    const plan = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PgPlan }[];
    const root = plan[0]?.Plan;
    return { work: root?.["Total Cost"] ?? 0, rows: root?.["Plan Rows"] ?? 0 };
  }
  const r = await db.query(`EXPLAIN (FORMAT JSON) ${body}`, params);
  const value = r.rows.find((row) => row.explain_key === "physical_plan")?.explain_value;
  if (typeof value !== "string") throw new Error("cost: DuckDB EXPLAIN returned no physical plan");
  const roots = JSON.parse(value) as DuckOperator[];
  let work = 0;
  const filteredTables: string[] = [];
  const walk = (op: DuckOperator) => {
    work += cardinality(op);
    const info = op.extra_info ?? {};
    if (info.Filters !== undefined && typeof info.Table === "string")
      filteredTables.push(info.Table);
    for (const child of op.children ?? []) walk(child);
  };
  roots.forEach(walk);
  // A filtered scan reads the table, not just the rows it keeps (zone maps may skip some, which
  // EXPLAIN does not show; measured runs correct that per statement).
  for (const table of filteredTables) work += await tableRows(db, table);
  return { work, rows: roots[0] ? cardinality(roots[0]) : 0 };
}

interface DuckOperator {
  name?: string;
  children?: DuckOperator[];
  extra_info?: Record<string, unknown>;
}

interface PgPlan {
  "Total Cost"?: number;
  "Plan Rows"?: number;
}

function cardinality(op: DuckOperator): number {
  const v = Number(op.extra_info?.["Estimated Cardinality"]);
  return Number.isFinite(v) ? v : 0;
}

async function tableRows(db: ExplainableDatabase, qualified: string): Promise<number> {
  const parts = qualified.split(".");
  const table = parts.pop()!;
  const schema = parts.pop() ?? "main";
  const database = parts.pop();
  const r = await db.query(
    `SELECT estimated_size FROM duckdb_tables() WHERE table_name = $t AND schema_name = $s` +
      (database ? " AND database_name = $d" : ""),
    database ? { t: table, s: schema, d: database } : { t: table, s: schema },
  );
  const n = Number(r.rows[0]?.estimated_size ?? 0);
  return Number.isFinite(n) ? n : 0;
}
