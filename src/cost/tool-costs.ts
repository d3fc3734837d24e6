// Per-call costs of SQL, HTTP and function tools, keyed by a tool signature (toolKey): a moving
// average of measured calls, starting from a prior. The prior is, in order of preference: the
// latency the user declared for the tool; for SQL, the database's EXPLAIN estimate mapped to ms
// by a per-engine line fitted on every measured statement; else the kind's default below.
import { solveNnls } from "./nnls.ts";
import { MovingAverage } from "./moving-average.ts";
import { explainSql, normalizeSql, type ExplainableDatabase } from "./sql-cost.ts";

export type ToolCostKind = "sql" | "http" | "function";

/**
 * Defaults used only until a tool is declared or measured once. HTTP: 200 ms, a typical API
 * round trip outside the machine (a local server is far faster; the first call corrects it).
 * Functions: 0.05 ms, a plain JS call per row. SQL: DuckDB in-process answers a small query in
 * about 0.3 ms through node-api and scans on the order of 1e8 rows/s (2e-5 ms per unit of work);
 * both constants are refit from measured statements.
 */
export const TOOL_DEFAULTS = {
  httpMs: 200,
  functionMs: 0.05,
  sql: { duckdb: { fixedMs: 0.3, msPerWork: 2e-5 }, postgres: { fixedMs: 1, msPerWork: 0.01 } },
} as const;

export function sqlKey(dbKey: string, query: string): string {
  return `sql:${dbKey}:${normalizeSql(query)}`;
}

export function httpKey(method: string, url: string): string {
  return `http:${method.toUpperCase()} ${url}`;
}

export function functionKey(fnKey: string): string {
  return `function:${fnKey}`;
}

export function kindOfKey(key: string): ToolCostKind {
  const kind = key.slice(0, key.indexOf(":"));
  if (kind === "sql" || kind === "http" || kind === "function") return kind;
  throw new Error(
    `cost: '${key}' is not a tool key; build one with sqlKey, httpKey or functionKey`,
  );
}

interface SqlLine {
  fixedMs: number;
  msPerWork: number;
  /** Recent (work, ms) of measured statements, newest last, at most 64. */
  points: [number, number][];
}

export class ToolCosts {
  private readonly averages = new Map<string, MovingAverage>();
  private readonly sqlWork = new Map<string, { engine: "duckdb" | "postgres"; work: number }>();
  private readonly lines = {
    duckdb: { ...TOOL_DEFAULTS.sql.duckdb, points: [] } as SqlLine,
    postgres: { ...TOOL_DEFAULTS.sql.postgres, points: [] } as SqlLine,
  };

  /** A latency the user declared for a tool: the prior until calls are measured. */
  declare(key: string, latencyMs: number): void {
    if (!(latencyMs >= 0)) throw new Error(`cost: declared latency for ${key} must be >= 0 ms`);
    const avg = this.averages.get(key);
    if (avg) avg.setPrior(latencyMs);
    else this.averages.set(key, new MovingAverage(latencyMs, 2));
  }

  /** Asks the database for its plan estimate of a statement (async; do it before planning). */
  async explain(
    key: string,
    db: ExplainableDatabase,
    query: string,
    params: Record<string, unknown> = {},
  ): Promise<number> {
    const { work } = await explainSql(db, query, params);
    this.sqlWork.set(key, { engine: db.engine, work });
    this.averages.get(key)?.setPrior(this.sqlPriorMs(key));
    return work;
  }

  /** Expected milliseconds of one call. */
  estimateMs(key: string): number {
    const avg = this.averages.get(key);
    if (avg) return avg.value;
    return this.priorMs(key);
  }

  /** Whether any call of this tool has been measured. */
  observed(key: string): number {
    return this.averages.get(key)?.count ?? 0;
  }

  observe(key: string, measuredMs: number): void {
    if (!Number.isFinite(measuredMs) || measuredMs < 0) return;
    let avg = this.averages.get(key);
    if (!avg) {
      avg = new MovingAverage(this.priorMs(key), 1);
      this.averages.set(key, avg);
    }
    avg.observe(measuredMs);
    const sql = this.sqlWork.get(key);
    if (sql) this.refitSqlLine(this.lines[sql.engine], sql.work, measuredMs);
  }

  private priorMs(key: string): number {
    const kind = kindOfKey(key);
    if (kind === "sql") return this.sqlPriorMs(key);
    return kind === "http" ? TOOL_DEFAULTS.httpMs : TOOL_DEFAULTS.functionMs;
  }

  private sqlPriorMs(key: string): number {
    const sql = this.sqlWork.get(key);
    const line = this.lines[sql?.engine ?? "duckdb"];
    return line.fixedMs + line.msPerWork * (sql?.work ?? 0);
  }

  /** ms = fixed + perWork * work over recent statements, by NNLS (both terms non-negative). */
  private refitSqlLine(line: SqlLine, work: number, ms: number): void {
    line.points.push([work, ms]);
    if (line.points.length > 64) line.points.shift();
    const works = new Set(line.points.map(([w]) => w));
    if (works.size < 2) return; // one distinct work value cannot separate the two terms
    // Relative weighting, as in fit.ts: a 0.3 ms lookup matters as much as a 300 ms scan.
    const A = line.points.map(([w, t]) => [1 / Math.max(t, 1e-3), w / Math.max(t, 1e-3)]);
    const [fixedMs, msPerWork] = solveNnls(
      A,
      A.map(() => 1),
    ).x as [number, number];
    line.fixedMs = fixedMs;
    line.msPerWork = msPerWork;
  }
}
