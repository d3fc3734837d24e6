import { test } from "uvu";
import * as assert from "uvu/assert";
import * as dfd from "danfojs-node";
import { tableFromArrays } from "apache-arrow";
import { halo } from "../../src/index.ts";
import { DuckDb } from "../../src/tools/duckdb.ts";
import { isReadOnlySql, scanSql, callsVolatileFunction } from "../../src/tools/sql-text.ts";

const HOSTILE = [
  "it's",
  "x'; DROP TABLE notes; --",
  'a"b',
  "$name",
  "--",
  "/* c */",
  "'); DELETE FROM notes; ('",
];

test("the lexer finds $params outside strings, comments and dollar quotes", () => {
  const s = scanSql(
    "select '$not' as a, $x, \"$y\" -- $z\n, $$ $w $$, $x /* $v */ from t where b = $kw;",
  );
  assert.equal(s.params, ["x", "kw"]);
  assert.is(s.statements, 1);
  assert.match(s.positional, /, \$1, "\$y"/);
  assert.match(s.positional, /b = \$2;$/);
  assert.is(scanSql("select 1; drop table t").statements, 2);
});

test("read-only detection is conservative", () => {
  const ro = (q: string) => isReadOnlySql(scanSql(q));
  assert.ok(ro("select * from t where a = $a"));
  assert.ok(ro("WITH x AS (select 1) select * from x"));
  assert.ok(ro("select 'insert' as word"), "keywords inside strings do not count");
  assert.not.ok(ro("insert into t values (1)"));
  assert.not.ok(ro("with x as (insert into t values (1) returning *) select * from x"));
  assert.not.ok(ro("select 1; drop table t"));
  assert.ok(callsVolatileFunction(scanSql("select random()")));
});

test("parameters holding quotes and '; DROP TABLE' stay data", async () => {
  await halo.db.register(
    "notes",
    HOSTILE.map((text, i) => ({ id: i, text })),
  );
  const lf = halo.lazy(HOSTILE.map((q) => ({ q }))).sql({
    query: "select id from notes where text = $q",
    params: { q: "{{q}}" },
    output: "id",
    shape: "value",
  });
  const { rows } = await lf.collectRows();
  assert.equal(
    rows.map((r) => r.id),
    HOSTILE.map((_, i) => i),
  );
  const count = await halo.db.query("select count(*) as n from notes");
  assert.is(count.rows[0]!.n, HOSTILE.length, "the table still exists with every row");
});

test("register accepts a danfo frame, an arrow table and rows; types are inferred", async () => {
  const db = new DuckDb("duckdb:test-register");
  await db.register(
    "d",
    new dfd.DataFrame([
      { a: 1, b: "x", c: 1.5 },
      { a: 2, b: null, c: 2 },
    ]),
  );
  await db.register("a", tableFromArrays({ a: Int32Array.from([3, 4]), s: ["p", "q"] }));
  await db.register("r", [{ a: 5, j: { k: [1] }, t: true }]);
  const d = await db.query("select a, b, c, typeof(a) ta, typeof(c) tc from d order by a");
  assert.equal(d.rows, [
    { a: 1, b: "x", c: 1.5, ta: "BIGINT", tc: "DOUBLE" },
    { a: 2, b: null, c: 2, ta: "BIGINT", tc: "DOUBLE" },
  ]);
  assert.equal((await db.query("select * from a order by a")).rows, [
    { a: 3, s: "p" },
    { a: 4, s: "q" },
  ]);
  const r = await db.query("select j->'k'->>0 as first, t from r");
  assert.equal(r.rows, [{ first: "1", t: true }]);
  await db.close();
});

test("shapes: rows, row, value; numbers bind as numbers", async () => {
  await halo.db.register("prices", [
    { sku: "A1", price: 10 },
    { sku: "B2", price: 25 },
  ]);
  const src = halo.lazy([
    { sku: "A1", min: 5 },
    { sku: "Z9", min: 0 },
  ]);
  const q = "select sku, price from prices where sku = $sku and price > $min";
  const params = { sku: "{{sku}}", min: "{{min}}" };
  const rows = await src.sql({ query: q, params, output: "r" }).collectRows();
  assert.equal(
    rows.rows.map((r) => r.r),
    [[{ sku: "A1", price: 10 }], []],
  );
  const row = await src.sql({ query: q, params, output: "r", shape: "row" }).collectRows();
  assert.equal(
    row.rows.map((r) => r.r),
    [{ sku: "A1", price: 10 }, null],
  );
  const value = await src
    .sql({
      query: "select price from prices where sku = $sku",
      params: { sku: "{{sku}}" },
      output: "p",
      shape: "value",
    })
    .collectRows();
  assert.equal(
    value.rows.map((r) => r.p),
    [10, null],
  );
});

test("bad SQL arguments fail at once with a clear message", () => {
  const src = halo.lazy([{ sku: "A1" }]);
  assert.throws(
    () => src.sql({ query: "select $a, $b", params: { a: "{{sku}}" }, output: "x" }),
    /uses \$b but params has no value/,
  );
  assert.throws(
    () => src.sql({ query: "select 1", params: { a: "{{sku}}" }, output: "x" }),
    /params a not used/,
  );
  assert.throws(() => src.sql({ query: "select 1; select 2", output: "x" }), /one statement/);
  assert.throws(
    () => src.sql({ query: "select $a", params: { a: "{{nope}}" }, output: "x" }),
    /\{\{nope\}\} names no column.*sku/,
  );
  assert.throws(
    () => src.sql({ query: "select 1", output: "x", shape: "table" as never }),
    /shape must be/,
  );
  assert.throws(
    () => src.sql({ query: "select 1", output: "x", db: {} as never }),
    /db must be halo.db/,
  );
});

test("a failing query names the node and row; onError null keeps going", async () => {
  const src = halo.lazy([{ t: "prices" }, { t: "x" }]);
  const bad = src.sql({
    query: "select * from no_such_table where 1 = $one",
    params: { one: 1 },
    output: "r",
  });
  try {
    await bad.collectRows();
    assert.unreachable("should fail");
  } catch (err) {
    assert.match(
      (err as Error).message,
      /^row 0 .* failed at node 'r' \(SqlCall #1, output column 'r'\): .*no_such_table/,
    );
    assert.match((err as Error).message, /onError: "null"/);
  }
  const kept = await bad.collectRows({ onError: "null" });
  assert.equal(kept.columns, ["t", "r", "_errors"]);
  assert.ok(kept.rows.every((r) => r.r === null && /no_such_table/.test(String(r._errors))));
});

test.run();
