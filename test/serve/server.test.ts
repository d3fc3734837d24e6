// `halo serve`'s server over real HTTP on 127.0.0.1: a workflow served to concurrent clients
// answers exactly what a batch collect() gives; malformed, oversized and unauthorised requests get
// 400/413/401/403; a full queue gives 429 with Retry-After, a request larger than the whole queue
// 413; a failing row fails only its query; a slow query times out without taking the others down;
// tool results stay cached across batches; the query and admin tokens have separate scopes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { startServer, type HaloServer } from "../../src/serve/server.ts";
import { SAMPLE_REVIEWS, SENTIMENT_PROMPT, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";

const REVIEWS = SAMPLE_REVIEWS;

const REVIEWS_YAML = `
name: reviews
nodes:
  - id: in
    type: input
    columns: [review]
  - id: sentiment
    type: llm
    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}
    choices: [positive, negative, neutral]
    output: sentiment
  - id: summary
    type: llm
    prompt: ${JSON.stringify(SUMMARY_PROMPT)}
    maxTokens: 12
    output: summary
edges:
  - { from: in, to: sentiment }
  - { from: sentiment, to: summary }
`;

let calls = 0;
const FUNCTIONS = {
  // Fails on purpose for one input, to check that only that query fails.
  shout: (text: string) => {
    calls++;
    if (text === "boom") throw new Error("cannot shout boom");
    return text.toUpperCase();
  },
  slow: async (text: string) => {
    await new Promise((r) => setTimeout(r, 1_500));
    return text;
  },
};

const SHOUT_YAML = `
name: shout
nodes:
  - { id: s, type: function, function: shout, inputs: [text], output: loud }
`;
const SLOW_YAML = `
name: slow
nodes:
  - { id: s, type: function, function: slow, inputs: [text], output: same }
`;

const ADMIN_TOKEN = "adm1n-t0ken";
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function withServer(
  options: Parameters<typeof startServer>[0],
  body: (server: HaloServer) => Promise<void>,
): Promise<void> {
  const server = await startServer({
    port: 0,
    functions: FUNCTIONS,
    adminToken: ADMIN_TOKEN,
    log: () => {},
    ...options,
  });
  try {
    await body(server);
  } finally {
    await server.close(5_000);
  }
}

test("concurrent clients get exactly the batch result; streaming; metrics", async () => {
  const rows = REVIEWS.map((review) => ({ review }));
  const want = await halo.workflow(REVIEWS_YAML).run(rows).collectRows({ reuse: false });
  const byReview = new Map(want.rows.map((r) => [r.review, r]));

  await withServer({}, async (server) => {
    const reg = await post(`${server.url}/v1/workflows`, { yaml: REVIEWS_YAML }, ADMIN);
    assert.is(reg.status, 201);
    assert.equal(((await reg.json()) as { steps: string[] }).steps, ["in", "sentiment", "summary"]);

    // Four clients at once, overlapping queries (the same review from two clients).
    const clients = [0, 1, 2, 3].map((c) =>
      [REVIEWS[c]!, REVIEWS[(c + 2) % REVIEWS.length]!].map((review) => ({ review })),
    );
    const t0 = performance.now();
    const answers = await Promise.all(
      clients.map(async (queries) => {
        const res = await post(`${server.url}/v1/workflows/reviews/queries`, { queries });
        assert.is(res.status, 200);
        return ((await res.json()) as { results: { outcome: string; row: never }[] }).results;
      }),
    );
    console.log(`measure: 4 clients x 2 queries in ${(performance.now() - t0).toFixed(0)} ms`);
    answers.forEach((results, c) =>
      results.forEach((r, i) => {
        assert.is(r.outcome, "ok");
        assert.equal(r.row, byReview.get(clients[c]![i]!.review), `client ${c} query ${i}`);
      }),
    );

    // NDJSON: one line per query as it finishes, each naming its index.
    const res = await post(
      `${server.url}/v1/workflows/reviews/queries?stream=true`,
      { queries: rows.slice(3) },
      { Accept: "application/x-ndjson" },
    );
    assert.match(res.headers.get("content-type") ?? "", /ndjson/);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { index: number; outcome: string; row: unknown });
    assert.equal(lines.map((l) => l.index).sort(), [0, 1, 2]);
    for (const l of lines) assert.equal(l.row, byReview.get(REVIEWS[3 + l.index]!));

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /# TYPE halo_query_latency_seconds summary/);
    assert.match(metrics, /halo_queries_total\{workflow="reviews",outcome="ok"\} 11/);
    const batches = Number(/halo_batches_total\{workflow="reviews"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(batches >= 2 && batches <= 5, `batches: ${batches}`);
    // The instruction prefix is shared by every query: some prompt tokens came from the cache.
    const ratio = Number(
      /halo_prefix_cache_hit_ratio\{workflow="reviews"\} ([\d.e-]+)/.exec(metrics)?.[1],
    );
    assert.ok(ratio > 0, `cache hit ratio ${ratio}`);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string };
    assert.is(health.status, "ok");
  });
});

test("bad requests: 400 with a message, 413 oversized, 404, 405; the server keeps serving", async () => {
  await withServer({ maxBodyBytes: 2_000 }, async (server) => {
    const u = server.url;
    assert.is((await post(`${u}/v1/workflows`, { yaml: SHOUT_YAML }, ADMIN)).status, 201);
    const cases: [Promise<Response>, number, RegExp][] = [
      [post(`${u}/v1/workflows/shout/queries`, "{not json"), 400, /not valid JSON/],
      [post(`${u}/v1/workflows/shout/queries`, { rows: [] }), 400, /expected \{"queries"/],
      [post(`${u}/v1/workflows/shout/queries`, { queries: [{ txt: "a" }] }), 400, /query 0:.*text/],
      [post(`${u}/v1/workflows/shout/queries`, { queries: [[1, 2]] }), 400, /JSON object/],
      [post(`${u}/v1/workflows/shout/queries`, { queries: ["x".repeat(3_000)] }), 413, /limit/],
      [post(`${u}/v1/workflows/nope/queries`, { query: { text: "a" } }), 404, /no workflow 'nope'/],
      [post(`${u}/v1/workflows`, { yaml: "nodes: [\n" }, ADMIN), 400, /not valid YAML/],
      [post(`${u}/v1/workflows`, { yaml: "/etc/passwd.yaml" }, ADMIN), 400, /YAML text/],
      [post(`${u}/v1/workflows`, { yaml: SHOUT_YAML }, ADMIN), 409, /exists/],
      [post(`${u}/v1/workflows/%E0%A4%A/queries`, { query: { text: "a" } }), 400, /%-encoding/],
      [post(`${u}/v1/workflows/%ZZ/queries`, { query: { text: "a" } }), 400, /%-encoding/],
      [fetch(`${u}/v1/workflows/shout/queries`), 405, /accepts POST/],
      [fetch(`${u}/nowhere`), 404, /no route/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      const body = (await res.json()) as { error: { message: string; type: string } };
      assert.is(res.status, status, body.error.message);
      assert.match(body.error.message, message);
    }
    const ok = await post(`${u}/v1/workflows/shout/queries`, { query: { text: "still here" } });
    assert.equal(((await ok.json()) as { results: { row: unknown }[] }).results[0]!.row, {
      text: "still here",
      loud: "STILL HERE",
    });
  });
});

test("a failing row fails its query only; tool results stay cached across batches", async () => {
  await withServer({}, async (server) => {
    server.register(SHOUT_YAML);
    const url = `${server.url}/v1/workflows/shout/queries`;
    calls = 0;
    const first = (await (
      await post(url, { queries: [{ text: "a" }, { text: "boom" }, { text: "b" }] })
    ).json()) as { results: { outcome: string; row?: { loud: unknown }; error?: string }[] };
    assert.equal(
      first.results.map((r) => r.outcome),
      ["ok", "failed", "ok"],
    );
    assert.match(first.results[1]!.error!, /cannot shout boom/);
    assert.is(first.results[2]!.row!.loud, "B");
    const before = calls;
    // A later batch asking the same: answered from the server's tool-result cache.
    const second = (await (
      await post(url, { queries: [{ text: "a" }, { text: "b" }] })
    ).json()) as {
      results: { row: { loud: string } }[];
    };
    assert.equal(
      second.results.map((r) => r.row.loud),
      ["A", "B"],
    );
    assert.is(calls, before, "no new function calls for cached inputs");
  });
});

test("overload: 429 with Retry-After; more than the queue 413; a slow query times out", async () => {
  await withServer({ maxQueue: 2, timeoutMs: 1_000 }, async (server) => {
    server.register(SLOW_YAML);
    const url = `${server.url}/v1/workflows/slow/queries`;
    // More than the whole queue can never fit: 413, whether the queue is empty or not.
    const huge = await post(url, { queries: [{ text: "a" }, { text: "b" }, { text: "c" }] });
    assert.is(huge.status, 413);
    assert.match(
      ((await huge.json()) as { error: { message: string } }).error.message,
      /3 queries in one request, more than its queue holds \(2\); send at most 2 per request/,
    );
    // Two mini-batches run at once (1.5 s each); the third request waits in the queue and fills
    // it; the fourth gets 429. (Queued queries time out after 1 s: the fourth comes well before.)
    const pause = () => new Promise((r) => setTimeout(r, 20));
    const earlier = [];
    for (const pair of [
      ["a", "b"],
      ["c", "d"],
      ["e", "f"],
    ]) {
      earlier.push(post(url, { queries: pair.map((text) => ({ text })) }));
      await pause();
    }
    const full = await post(url, { queries: [{ text: "g" }] });
    assert.is(full.status, 429);
    assert.ok(Number(full.headers.get("retry-after")) >= 1);
    await Promise.all(earlier);
    // A text no batch has run yet (the tool-result cache would answer "a" at once).
    const res = await post(url, { queries: [{ text: "z" }] });
    const body = (await res.json()) as { results: { outcome: string; error: string }[] };
    assert.is(body.results[0]!.outcome, "timeout");
    assert.match(body.results[0]!.error, /within 1000 ms/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /halo_queries_total\{workflow="slow",outcome="timeout"\} 7/);
    assert.match(
      metrics,
      /halo_http_requests_total\{route="POST \/v1\/workflows\/NAME\/queries",status="429"\} 1/,
    );
  });
});

test("tokens: queries and registration have separate scopes; registration off by default", async () => {
  const QUERY = { Authorization: "Bearer s3cret" };
  await withServer({ token: "s3cret" }, async (server) => {
    const u = server.url;
    const cases: [string, string, Record<string, string>, number, RegExp | null][] = [
      // [method, path, headers, status, message]
      ["GET", "/healthz", {}, 200, null],
      ["GET", "/v1/workflows", {}, 401, /needs Authorization: Bearer <admin token>/],
      ["GET", "/v1/workflows", { Authorization: "Bearer nope" }, 401, /wrong bearer token/],
      ["GET", "/v1/workflows", QUERY, 403, /query token cannot register, list or delete/],
      ["POST", "/v1/workflows", QUERY, 403, /query token cannot/],
      ["DELETE", "/v1/workflows/shout", QUERY, 403, /query token cannot/],
      ["GET", "/v1/workflows", ADMIN, 200, null],
      ["POST", "/v1/workflows/shout/queries", {}, 401, /needs Authorization: Bearer <token>/],
      ["POST", "/v1/workflows/shout/queries", ADMIN, 403, /admin token does not run queries/],
      ["POST", "/v1/workflows/shout/queries", QUERY, 200, null],
      ["GET", "/metrics", {}, 401, null],
      ["GET", "/metrics", QUERY, 200, null],
      ["GET", "/metrics", ADMIN, 200, null],
    ];
    const reg = await post(`${u}/v1/workflows`, { yaml: SHOUT_YAML }, ADMIN);
    assert.is(reg.status, 201);
    for (const [method, path, headers, status, message] of cases) {
      const res = await fetch(`${u}${path}`, {
        method,
        headers: { "Content-Type": "application/json", ...headers },
        ...(method === "POST" && { body: JSON.stringify({ query: { text: "a" }, yaml: "x" }) }),
      });
      const text = await res.text();
      assert.is(res.status, status, `${method} ${path} ${JSON.stringify(headers)}: ${text}`);
      if (message) assert.match(text, message);
    }
    // Health says counts only: no names to a client without a token.
    const health = (await (await fetch(`${u}/healthz`)).json()) as Record<string, unknown>;
    assert.equal(health, { status: "ok", workflows: 1, queued: 0, running: 0 });
  });
  // Without an admin token, nothing registers over HTTP; the operator's workflows still serve.
  await withServer({ adminToken: undefined }, async (server) => {
    server.register(SHOUT_YAML);
    for (const [method, path] of [
      ["POST", "/v1/workflows"],
      ["GET", "/v1/workflows"],
      ["DELETE", "/v1/workflows/shout"],
    ]) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { "Content-Type": "application/json", ...ADMIN },
        ...(method === "POST" && { body: JSON.stringify({ yaml: SLOW_YAML }) }),
      });
      assert.is(res.status, 403, `${method} ${path}`);
      assert.match(await res.text(), /managing workflows over HTTP is off: .*--admin-token/);
    }
    const ok = await post(`${server.url}/v1/workflows/shout/queries`, { query: { text: "x" } });
    assert.is(ok.status, 200);
  });
  for (const [options, message] of [
    [{ host: "0.0.0.0" }, /set a token/],
    [{ token: "same", adminToken: "same" }, /admin token must differ from the query token/],
  ] as const) {
    try {
      await startServer({ port: 0, log: () => {}, ...options });
      assert.unreachable("started");
    } catch (err) {
      assert.match((err as Error).message, message);
    }
  }
});

test("a workflow's function and db names are its options' own, never Object's", async () => {
  await withServer({}, async (server) => {
    for (const [name, node] of [
      ["f", "{ id: s, type: function, function: toString, inputs: [text], output: o }"],
      ["d", "{ id: s, type: sql, db: constructor, query: 'select 1', output: o }"],
    ]) {
      const yaml = `name: ${name}\nnodes:\n  - ${node}\n`;
      assert.is((await post(`${server.url}/v1/workflows`, { yaml }, ADMIN)).status, 201);
      // Nodes compile against a query's row: the query is refused, naming what is missing.
      const res = await post(`${server.url}/v1/workflows/${name}/queries`, {
        query: { text: "a" },
      });
      assert.is(res.status, 400);
      assert.match(await res.text(), /is not in options\.(functions|databases)/);
    }
  });
});

test.run();
