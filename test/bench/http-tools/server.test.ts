import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateDataset } from "../../../bench/data/index.ts";
import { openLoadedDb } from "../../../bench/data/load.ts";
import { delayFor, startToolServer } from "../../../bench/http-tools/server.ts";
import { spawnToolServer } from "../../../bench/http-tools/spawn.ts";

const measure = (s: string) => process.stdout.write(`\nmeasure: ${s}\n`);

const db = await openLoadedDb([
  generateDataset("imdb", { seed: 3, scale: 0.2 }),
  generateDataset("articles", { seed: 3, scale: 0.2 }),
  generateDataset("tpch", { seed: 3, scale: 0.01 }),
]);

test("answers each tool from the same data the SQL tools read", async () => {
  const server = await startToolServer({
    connection: db.connection,
    delays: { fastMeanMs: 0, slowMeanMs: 0 },
  });
  try {
    const search = (await (await fetch(`${server.url}/imdb/search?keyword=storm`)).json()) as {
      results: { tconst: string; title: string }[];
    };
    assert.ok(search.results.length > 0);
    for (const r of search.results) assert.match(r.title.toLowerCase(), /storm/);
    const expected = await db.connection.runAndReadAll(
      "SELECT count(*) FROM title_basics WHERE primary_title ILIKE '%storm%'",
    );
    assert.ok(Number(expected.getRows()[0]![0]) >= search.results.length);

    const cat = (await (
      await fetch(`${server.url}/articles/category?name=music`)
    ).json()) as Record<string, unknown>;
    assert.is(cat.name, "music");
    assert.match(String(cat.subcategories), /^music\//);
    const missing = (await (
      await fetch(`${server.url}/articles/category?name=nothing`)
    ).json()) as Record<string, unknown>;
    assert.is(missing.found, false);

    const report = (await (
      await fetch(`${server.url}/tpch/report/nation-revenue?nation=FRANCE&year=1995`)
    ).json()) as {
      revenue: number;
      orders: number;
    };
    const sql = await db.connection.runAndReadAll(
      `SELECT round(sum(l_extendedprice * (1 - l_discount)), 2) FROM customer JOIN nation ON n_nationkey = c_nationkey
       JOIN orders ON o_custkey = c_custkey JOIN lineitem ON l_orderkey = o_orderkey
       WHERE n_name = 'FRANCE' AND year(o_orderdate) = 1995`,
    );
    assert.is(report.revenue, Number(sql.getRows()[0]![0]));

    const bad = await fetch(`${server.url}/imdb/search`);
    assert.is(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: string }).error,
      /needs query parameter 'keyword'/,
    );
    const unknown = await fetch(`${server.url}/nope`);
    assert.is(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /GET \/imdb\/search/);

    const stats = server.stats();
    assert.is(stats.requests, 6);
    assert.is(stats.errors, 2);
    assert.is(stats.byRoute["/imdb/search"], 2);
    server.resetStats();
    assert.is(server.stats().requests, 0);
  } finally {
    await server.close();
  }
});

test("delays: Gamma with the configured means, the same per (URL, occurrence) in any order", () => {
  const n = 4000;
  for (const mean of [30, 60]) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = delayFor(1, `/imdb/search?keyword=k${i % 50}`, Math.floor(i / 50), mean, 4);
      sum += d;
      sq += d * d;
    }
    const m = sum / n;
    const cv = Math.sqrt(sq / n - m * m) / m;
    measure(
      `delay mean ${m.toFixed(1)} ms for configured ${mean} ms, coefficient of variation ${cv.toFixed(2)} (0.50)`,
    );
    assert.ok(Math.abs(m - mean) < mean * 0.05, `mean ${m}`);
    assert.ok(Math.abs(cv - 0.5) < 0.05, `cv ${cv}`);
  }
  assert.is(delayFor(1, "/a?x=1", 0, 30), delayFor(1, "/a?x=1", 0, 30));
  assert.is.not(delayFor(1, "/a?x=1", 1, 30), delayFor(1, "/a?x=1", 0, 30));
  assert.is.not(delayFor(2, "/a?x=1", 0, 30), delayFor(1, "/a?x=1", 0, 30));
  assert.is(delayFor(1, "/a?x=1", 0, 0), 0);
});

test("over many real requests the observed latency tracks the configured mean (loose bound)", async () => {
  const server = await startToolServer({
    connection: db.connection,
    seed: 5,
    delays: { fastMeanMs: 40, slowMeanMs: 80 },
  });
  try {
    // Warm the body cache so the measured time is the delay, not the first SQL run.
    const urls = Array.from(
      { length: 8 },
      (_, i) =>
        `${server.url}/imdb/search?keyword=${["storm", "river", "heist", "garden"][i % 4]}&n=${i}`,
    );
    await Promise.all(urls.map((u) => fetch(u).then((r) => r.arrayBuffer())));
    server.resetStats();
    // Four clients in turn: the client shares this process and the 2 cores with the server,
    // and 80 at once measured mostly connection overhead (125-300 ms for a 40 ms delay).
    const n = 80;
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        for (let i = c; i < n; i += 4) {
          const t = performance.now();
          await (await fetch(urls[i % urls.length]!)).arrayBuffer();
          times.push(performance.now() - t);
        }
      }),
    );
    const wall = performance.now() - started;
    const mean = times.reduce((s, x) => s + x, 0) / n;
    const stats = server.stats();
    const slept = stats.delayMsTotal / stats.requests;
    measure(
      `${n} fast calls, 4 clients in turn: observed mean ${mean.toFixed(1)} ms, slept mean ${slept.toFixed(1)} ms (configured 40), wall ${wall.toFixed(0)} ms`,
    );
    assert.is(stats.requests, n);
    assert.is(stats.distinctUrls, urls.length);
    // The sampled delays over 80 requests: within 25% of the configured mean.
    assert.ok(Math.abs(slept - 40) < 10, `slept mean ${slept}`);
    // The delay is really served (observed >= slept); the upper bound only catches a server
    // that stalls, since loopback overhead on a shared 2-core machine varies widely.
    assert.ok(mean >= slept * 0.95 && mean < slept * 10, `observed ${mean}`);
  } finally {
    await server.close();
  }
});

test("runs as its own process: URL on stdout, counters over HTTP, clean exit", async () => {
  const server = await spawnToolServer({
    seed: 1,
    datasets: ["articles"],
    fastMeanMs: 1,
    slowMeanMs: 1,
    articlesScale: 0.1,
  });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${server.url}/articles/links?term=comet`);
    assert.is(r.status, 200);
    await r.arrayBuffer();
    assert.is((await server.stats()).requests, 1);
    await server.resetStats();
    assert.is((await server.stats()).requests, 0);
  } finally {
    await server.close();
  }
  const refused = await fetch(`${server.url}/health`).then(
    () => false,
    () => true,
  );
  assert.ok(refused, "the server process still answers after close()");
});

test.after(() => {
  db.connection.closeSync();
  db.instance.closeSync();
});

test.run();
