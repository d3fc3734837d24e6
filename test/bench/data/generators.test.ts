import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { generateDataset } from "../../../bench/data/index.ts";
import { checkKeys, openLoadedDb } from "../../../bench/data/load.ts";
import { Rng } from "../../../bench/data/prng.ts";
import { orderKey } from "../../../bench/data/tpch.ts";
import type { Dataset } from "../../../bench/data/table.ts";
import type { DuckDBConnection } from "@duckdb/node-api";

// uvu prints its dots without a newline: start on a fresh line so the runner shows the figure.
const measure = (s: string) => process.stdout.write(`\nmeasure: ${s}\n`);

function fingerprint(d: Dataset): string {
  const h = createHash("sha256");
  for (const t of d.tables) {
    h.update(t.name);
    for (const chunk of t.chunks()) h.update(JSON.stringify(chunk));
  }
  return h.digest("hex");
}

async function count(db: DuckDBConnection, sql: string): Promise<number> {
  return Number((await db.runAndReadAll(sql)).getRows()[0]![0]);
}

test("the PRNG is a pure function of the seed, forks are independent of call order", () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 100 }, () => a.nextU32());
  assert.equal(
    Array.from({ length: 100 }, () => b.nextU32()),
    xs,
  );
  assert.is.not(new Rng(8).nextU32(), xs[0]);
  const r = new Rng(3);
  const f1 = r.fork("x").nextU32();
  r.nextU32();
  assert.is(r.fork("x").nextU32(), f1);
  assert.is.not(r.fork("y").nextU32(), f1);
  assert.throws(() => new Rng(1.5), /seed must be an integer/);
});

test("Gamma samples have the configured mean and variance (shape 4, mean 30)", () => {
  const rng = new Rng(11);
  const n = 20000;
  const xs = Array.from({ length: n }, () => rng.gamma(4, 7.5));
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  measure(`gamma(4, 7.5) mean ${mean.toFixed(2)} (30), variance ${variance.toFixed(1)} (225)`);
  assert.ok(Math.abs(mean - 30) < 1, `mean ${mean}`);
  assert.ok(Math.abs(variance - 225) < 25, `variance ${variance}`);
  assert.ok(xs.every((x) => x > 0));
});

for (const [name, scale] of [
  ["imdb", 0.2],
  ["articles", 0.2],
  ["tpch", 0.01],
] as const) {
  test(`${name}: same seed gives identical data, another seed different data`, () => {
    const a = fingerprint(generateDataset(name, { seed: 5, scale }));
    assert.is(fingerprint(generateDataset(name, { seed: 5, scale })), a);
    assert.is.not(fingerprint(generateDataset(name, { seed: 6, scale })), a);
  });
}

test("imdb loads with the expected row counts and intact keys", async () => {
  const ds = generateDataset("imdb", { seed: 1, scale: 0.2 });
  const { connection, loads } = await openLoadedDb([ds]);
  const rows = loads[0]!.rows;
  measure(`imdb scale 0.2 loaded in ${loads[0]!.ms.toFixed(0)} ms`);
  assert.is(rows.title_basics, 1000);
  assert.is(rows.title_ratings, 1000);
  assert.is(rows.name_basics, 800);
  assert.is(rows.title_principals, 4000);
  assert.is(rows.title_crew, 1000);
  assert.ok(rows.title_akas! >= 1000 && rows.title_akas! <= 3000);
  assert.is(await count(connection, "SELECT count(*) FROM title_akas"), rows.title_akas);
  assert.equal(await checkKeys(connection, ds), []);
  // Every title keyword of the query domain finds titles.
  assert.ok(
    (await count(
      connection,
      "SELECT count(*) FROM title_basics WHERE primary_title ILIKE '%heist%'",
    )) > 0,
  );
});

test("articles loads with the expected row counts, intact keys, and the de partition linked", async () => {
  const ds = generateDataset("articles", { seed: 1, scale: 0.2 });
  const { connection, loads } = await openLoadedDb([ds]);
  const rows = loads[0]!.rows;
  assert.is(rows.categories, 36);
  assert.is(rows.articles, 600);
  assert.is(rows.links, 1800);
  assert.is(rows.langlinks, rows.articles_de);
  assert.ok(rows.articles_de! > 200 && rows.articles_de! < 500);
  assert.equal(await checkKeys(connection, ds), []);
  const bodies = await connection.runAndReadAll(
    "SELECT a.body, d.body FROM articles a JOIN langlinks l USING (article_id) JOIN articles_de d ON d.article_id = l.target_id LIMIT 1",
  );
  const [en, de] = bodies.getRows()[0] as [string, string];
  assert.is.not(en, de);
  assert.is(en.split(" ").length, de.split(" ").length);
  assert.ok(
    (await count(
      connection,
      "SELECT count(*) FROM articles WHERE regexp_matches(body, '(?i)\\bcomet\\b')",
    )) > 0,
  );
});

test("tpch at scale 0.01: specification cardinalities, keys, and derived columns", async () => {
  const ds = generateDataset("tpch", { seed: 1, scale: 0.01 });
  const { connection, loads } = await openLoadedDb([ds]);
  const rows = loads[0]!.rows;
  measure(
    `tpch 0.01 (${rows.lineitem} lineitems) generated+loaded in ${loads[0]!.ms.toFixed(0)} ms`,
  );
  assert.equal(
    {
      region: rows.region,
      nation: rows.nation,
      supplier: rows.supplier,
      part: rows.part,
      partsupp: rows.partsupp,
      customer: rows.customer,
      orders: rows.orders,
    },
    {
      region: 5,
      nation: 25,
      supplier: 100,
      part: 2000,
      partsupp: 8000,
      customer: 1500,
      orders: 15000,
    },
  );
  assert.ok(rows.lineitem! >= 15000 && rows.lineitem! <= 105000);
  assert.equal(await checkKeys(connection, ds), []);
  assert.is(await count(connection, "SELECT max(o_orderkey) FROM orders"), orderKey(14999));
  assert.is(await count(connection, "SELECT count(*) FROM orders WHERE o_custkey % 3 = 0"), 0);
  // Status and total price follow from the lines.
  assert.is(
    await count(
      connection,
      `SELECT count(*) FROM orders o JOIN (SELECT l_orderkey, bool_and(l_linestatus = 'F') AS f, bool_and(l_linestatus = 'O') AS o,
        round(sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)), 2) AS total FROM lineitem GROUP BY l_orderkey) l ON l.l_orderkey = o.o_orderkey
        WHERE o.o_orderstatus <> CASE WHEN l.f THEN 'F' WHEN l.o THEN 'O' ELSE 'P' END OR abs(o.o_totalprice - l.total) > 0.011`,
    ),
    0,
  );
  assert.is(
    await count(
      connection,
      "SELECT count(*) FROM lineitem WHERE l_receiptdate <= l_shipdate OR l_shipdate <= DATE '1992-01-01'",
    ),
    0,
  );
});

test("bad scales are refused with a message saying what to pass", () => {
  assert.throws(() => generateDataset("tpch", { scale: 0.001 }), /at least 0.01/);
  assert.throws(() => generateDataset("imdb", { scale: 0 }), /scale must be > 0/);
  assert.throws(() => generateDataset("nope" as "imdb"), /choose one of imdb, articles, tpch/);
});

test.run();
