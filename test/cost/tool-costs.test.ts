import { test } from "uvu";
import * as assert from "uvu/assert";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { explainSql, normalizeSql, type ExplainableDatabase } from "../../src/cost/sql-cost.ts";
import { httpKey, sqlKey, ToolCosts, TOOL_DEFAULTS } from "../../src/cost/tool-costs.ts";

let conn: DuckDBConnection;
const db: ExplainableDatabase = {
  engine: "duckdb",
  async query(sql, params) {
    const r = await conn.runAndReadAll(
      sql,
      Object.keys(params).length ? (params as Record<string, never>) : undefined,
    );
    return { rows: r.getRowObjectsJson() as Record<string, unknown>[] };
  },
};

test.before(async () => {
  const instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
  await conn.run(
    "CREATE TABLE big AS SELECT range AS id, range % 97 AS g, md5(range::VARCHAR) AS s FROM range(300000)",
  );
  await conn.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR)");
  await conn.run("INSERT INTO users SELECT range, 'u' || range FROM range(1000)");
});

test("normalizeSql strips literals, comments and layout but keeps parameters", () => {
  assert.is(
    normalizeSql("SELECT  *\n FROM t -- note\n WHERE a = 42 AND b = 'it''s' AND c = $name;"),
    "select * from t where a = ? and b = ? and c = $name",
  );
  assert.is(normalizeSql("select 1"), normalizeSql("SELECT 2"));
  assert.is(normalizeSql('SELECT "Mixed" FROM t'), 'select "Mixed" from t');
});

test("EXPLAIN orders a big aggregate scan above a point lookup", async () => {
  const scan = await explainSql(db, "SELECT g, count(*), max(s) FROM big GROUP BY g");
  const lookup = await explainSql(db, "SELECT name FROM users WHERE id = $id", { id: 7 });
  console.log(`measure: explain work: scan ${scan.work}, lookup ${lookup.work}`);
  assert.ok(scan.work > 100 * lookup.work, `scan ${scan.work} vs lookup ${lookup.work}`);

  const costs = new ToolCosts();
  const scanKey = sqlKey("duckdb:default", "SELECT g, count(*), max(s) FROM big GROUP BY g");
  const lookupKey = sqlKey("duckdb:default", "SELECT name FROM users WHERE id = $id");
  await costs.explain(scanKey, db, "SELECT g, count(*), max(s) FROM big GROUP BY g");
  await costs.explain(lookupKey, db, "SELECT name FROM users WHERE id = $id", { id: 7 });
  assert.ok(costs.estimateMs(scanKey) > costs.estimateMs(lookupKey));
});

test("an invalid statement's EXPLAIN fails with the database's message", async () => {
  try {
    await explainSql(db, "SELECT nope FROM missing_table");
    assert.unreachable("should throw");
  } catch (err) {
    assert.match((err as Error).message, /missing_table/);
  }
});

test("measured SQL runs refit the per-engine line and each statement's average", async () => {
  const costs = new ToolCosts();
  const statements = [
    "SELECT count(*) FROM big",
    "SELECT g, count(*) FROM big GROUP BY g",
    "SELECT name FROM users WHERE id = 3",
  ];
  const measured: number[] = [];
  for (const sql of statements) {
    const key = sqlKey("duckdb:default", sql);
    await costs.explain(key, db, sql);
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await conn.run(sql);
      costs.observe(key, performance.now() - t);
    }
    measured.push(costs.estimateMs(key));
  }
  console.log(`measure: sql averages ms ${measured.map((m) => m.toFixed(2)).join(", ")}`);
  // A statement never run gets its prior from the refit line, not the built-in default.
  const fresh = sqlKey("duckdb:default", "SELECT max(id) FROM big");
  await costs.explain(fresh, db, "SELECT max(id) FROM big");
  assert.ok(costs.estimateMs(fresh) > 0);
  assert.is(costs.observed(fresh), 0);
});

test("HTTP costs start at the declared latency and converge to measurements", () => {
  const costs = new ToolCosts();
  const key = httpKey("get", "http://127.0.0.1:9/items/{id}");
  assert.is(costs.estimateMs(key), TOOL_DEFAULTS.httpMs);
  costs.declare(key, 50);
  assert.is(costs.estimateMs(key), 50);
  for (let i = 0; i < 40; i++) costs.observe(key, 12);
  assert.ok(Math.abs(costs.estimateMs(key) - 12) < 0.5, `${costs.estimateMs(key)}`);
  assert.throws(() => costs.declare(key, -1), /must be >= 0/);
  assert.throws(() => costs.estimateMs("bogus"), /not a tool key/);
});

test.run();
