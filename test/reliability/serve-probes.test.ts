// `halo serve` probed as a hostile client would, over real HTTP on 127.0.0.1: every route with
// every kind of credential gets exactly the status its scope says; oversized, malformed and
// garbled requests (random bytes, wrong JSON shapes, deep nesting, `__proto__` keys, lone
// surrogates, bad %-encoding, broken request lines on a raw socket) get a 4xx, never a 500 or a
// dead server; 1,000 concurrent queries (plain and streamed) are each answered exactly once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { startServer, type HaloServer } from "../../src/serve/server.ts";

const QUERY = "query-t0ken";
const ADMIN = "admin-t0ken";
const LIMIT = 4_096;

const SHOUT_YAML = `
name: shout
nodes:
  - { id: s, type: function, function: shout, inputs: [text], output: loud }
`;

// A fixed-seed generator: a failure can be replayed.
let seed = 20250916;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const figures = { requests: 0, faults: 0, queries: 0, answered: 0, lost: 0 };
let server: HaloServer;
const started = performance.now();

test.before(async () => {
  server = await startServer({
    port: 0,
    token: QUERY,
    adminToken: ADMIN,
    maxBodyBytes: LIMIT,
    maxQueue: 2_000,
    functions: {
      shout: async (text: string) => {
        // A little latency, so that queries of concurrent clients overlap in the queue.
        await new Promise((r) => setTimeout(r, 5));
        return String(text).toUpperCase();
      },
    },
    log: () => {},
  });
  server.register(SHOUT_YAML);
});

test.after(async () => {
  await server.close(10_000);
  console.log(
    `\nmeasure: serve probes: ${figures.requests} requests (${figures.faults} hostile or malformed), ${figures.queries} queries, ${figures.answered} answered exactly once, ${figures.lost} lost, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

async function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; text: string }> {
  figures.requests++;
  const res = await fetch(`${server.url}${path}`, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

/** A raw request over TCP: request lines and headers fetch would refuse to send. */
function raw(request: string | Buffer): Promise<string> {
  figures.requests++;
  figures.faults++;
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.end(request));
    let data = "";
    socket.on("data", (d) => (data += d.toString("latin1")));
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(data));
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

test("every route answers each credential as its scope says, and nothing else", async () => {
  const credentials: [string, Record<string, string>][] = [
    ["none", {}],
    ["wrong", bearer("wrong")],
    ["empty", { Authorization: "Bearer " }],
    ["basic", { Authorization: `Basic ${Buffer.from(`x:${ADMIN}`).toString("base64")}` }],
    ["prefix", bearer(QUERY.slice(0, -1))],
    ["longer", bearer(`${QUERY}x`)],
    ["huge", bearer("x".repeat(8_000))],
    ["latin1", bearer("tökén")],
    ["query", bearer(QUERY)],
    ["admin", bearer(ADMIN)],
  ];
  // Expected status per scope and credential class.
  const expect = (scope: string, who: string): number => {
    if (scope === "open") return 200;
    const valid = who === "query" ? "query" : who === "admin" ? "admin" : "none";
    if (valid === "none") return 401;
    if (scope === "either") return 200;
    return scope === valid ? 200 : 403;
  };
  const routes: [string, string, string, () => string | undefined][] = [
    ["GET", "/healthz", "open", () => undefined],
    ["GET", "/metrics", "either", () => undefined],
    ["GET", "/v1/workflows", "admin", () => undefined],
    ["POST", "/v1/workflows", "admin", () => JSON.stringify({ yaml: SHOUT_YAML, replace: true })],
    [
      "POST",
      "/v1/workflows/shout/queries",
      "query",
      () => JSON.stringify({ query: { text: "a" } }),
    ],
  ];
  for (let round = 0; round < 4; round++)
    for (const [method, path, scope, body] of routes)
      for (const [who, headers] of credentials) {
        const res = await send(
          method,
          path,
          { "Content-Type": "application/json", ...headers },
          body(),
        );
        if (who !== "query" && who !== "admin") figures.faults++;
        // Registering replaces 'shout' (201) while it is idle.
        const want = expect(scope, who);
        const got = res.status === 201 ? 200 : res.status;
        assert.is(got, want, `${method} ${path} as ${who}: ${res.status} ${res.text}`);
        if (got === 403 || got === 401) assert.match(res.text, /"error":\{"message":"/);
      }
});

test("oversized, malformed and garbled requests get a 4xx, and the server keeps serving", async () => {
  const q = { "Content-Type": "application/json", ...bearer(QUERY) };
  const url = "/v1/workflows/shout/queries";
  const cases: [string, string, Record<string, string>, string | Buffer | undefined, number][] = [
    ["POST", url, q, JSON.stringify({ queries: ["x".repeat(LIMIT)] }), 413],
    ["POST", url, q, JSON.stringify({ queries: Array(2_001).fill({ text: "a" }) }), 413],
    ["POST", url, q, "{not json", 400],
    ["POST", url, q, "", 400],
    ["POST", url, q, "null", 400],
    ["POST", url, q, "[1,2]", 400],
    ["POST", url, q, JSON.stringify({ queries: "x" }), 400],
    ["POST", url, q, JSON.stringify({ queries: [] }), 400],
    ["POST", url, q, JSON.stringify({ queries: [null] }), 400],
    ["POST", url, q, JSON.stringify({ queries: [1, "a", true] }), 400],
    ["POST", url, q, JSON.stringify({ query: null }), 400],
    ["POST", url, q, JSON.stringify({ query: { txt: "a" } }), 400],
    ["POST", url, q, JSON.stringify({ query: { text: "a", __halo_query: 1 } }), 400],
    ["POST", url, q, '{"query": {"__proto__": {"text": "a"}}}', 400],
    ["POST", url, q, "[".repeat(1_500) + "]".repeat(1_500), 400],
    ["POST", url, { ...q, "Content-Type": "text/plain" }, "{}", 400],
    ["POST", "/v1/workflows/%E0%A4%A/queries", q, "{}", 400],
    ["POST", "/v1/workflows/%/queries", q, "{}", 400],
    ["POST", "/v1/workflows/nope/queries", q, JSON.stringify({ query: { text: "a" } }), 404],
    ["PUT", url, q, "{}", 405],
    ["GET", "/v1/../../etc/passwd", q, undefined, 404],
    ["POST", "/v1/workflows", { ...q, ...bearer(ADMIN) }, JSON.stringify({ yaml: 7 }), 400],
    ["POST", "/v1/workflows", { ...q, ...bearer(ADMIN) }, JSON.stringify({ yaml: "a: [\n" }), 400],
  ];
  for (let i = 0; i < 40; i++) {
    const bytes = randomBytes(1 + Math.floor(rand() * 3_000));
    cases.push(["POST", url, q, bytes, 400]);
  }
  for (const [method, path, headers, body, status] of cases) {
    figures.faults++;
    const res = await send(method, path, headers, body);
    assert.is(res.status, status, `${method} ${path} ${String(body).slice(0, 40)}: ${res.text}`);
    assert.match(res.text, /"error":\{"message":"/);
  }
  // A lone surrogate and NUL in a value are data: the query runs.
  const odd = await send("POST", url, q, JSON.stringify({ query: { text: "a\ud800\u0000b" } }));
  assert.is(odd.status, 200, odd.text);
  // Request lines and headers fetch would not send, on a raw socket.
  const lines = [
    `GET http://[ HTTP/1.1\r\nHost: x\r\n${"Authorization: Bearer " + QUERY}\r\nConnection: close\r\n\r\n`,
    `POST /v1/workflows/shout/queries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${QUERY}\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"query":{"text":"lying content-length"}}`,
    `POST /v1/workflows/shout/queries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${QUERY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(LIMIT + 1).toString(16)}\r\n${"x".repeat(LIMIT + 1)}\r\n0\r\n\r\n`,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    "GARBAGE\r\n\r\n",
  ];
  const answers = [];
  for (const line of lines) answers.push(await raw(line));
  for (const [i, answer] of answers.entries()) {
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);
    assert.ok(status >= 400 && status < 500, `raw request ${i}: ${answer.slice(0, 120)}`);
  }
  await raw(randomBytes(5_000));
  const health = await send("GET", "/healthz");
  assert.is(health.status, 200);
  const metrics = await send("GET", "/metrics", bearer(QUERY));
  assert.not.match(metrics.text, /status="500"/);
});

test("1,000 concurrent queries are each answered exactly once", async () => {
  const url = `${server.url}/v1/workflows/shout/queries`;
  const headers = { "Content-Type": "application/json", ...bearer(QUERY) };
  // 600 single-query requests at once, and 20 streamed requests of 20 queries each.
  const texts = Array.from({ length: 1_000 }, (_, i) => `query ${i} ${pick(["a", "b", "c"])}`);
  const singles = texts.slice(0, 600).map(async (text) => {
    figures.requests++;
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: { text } }),
    });
    assert.is(res.status, 200);
    const body = (await res.json()) as { results: { outcome: string; row: { loud: string } }[] };
    return body.results.map((r) => ({ text, ...r }));
  });
  const streams = Array.from({ length: 20 }, async (_, s) => {
    figures.requests++;
    const mine = texts.slice(600 + s * 20, 620 + s * 20);
    const res = await fetch(`${url}?stream=true`, {
      method: "POST",
      headers,
      body: JSON.stringify({ queries: mine.map((text) => ({ text })) }),
    });
    assert.is(res.status, 200);
    const lines = (await res.text()).trim().split("\n");
    return lines.map((line) => {
      const r = JSON.parse(line) as { index: number; outcome: string; row: { loud: string } };
      return { text: mine[r.index]!, ...r };
    });
  });
  const answers = (await Promise.all([...singles, ...streams])).flat();
  figures.queries += texts.length;
  const seen = new Map<string, number>();
  for (const a of answers) {
    seen.set(a.text, (seen.get(a.text) ?? 0) + 1);
    assert.is(a.outcome, "ok");
    assert.is(a.row.loud, a.text.toUpperCase());
  }
  const once = texts.filter((t) => seen.get(t) === 1).length;
  figures.answered += once;
  figures.lost += texts.filter((t) => !seen.has(t)).length;
  assert.is(once, texts.length, "every query answered exactly once");
  assert.is(answers.length, texts.length);
  const metrics = await send("GET", "/metrics", bearer(QUERY));
  const ok = Number(
    /halo_queries_total\{workflow="shout",outcome="ok"\} (\d+)/.exec(metrics.text)?.[1],
  );
  assert.ok(ok >= texts.length, `metrics count ${ok} ok answers`);
});

test.run();
