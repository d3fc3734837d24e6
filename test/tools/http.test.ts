import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { halo } from "../../src/index.ts";
import { httpTool, MAX_RETRY_AFTER_MS, parseRetryAfter } from "../../src/tools/http.ts";

let server: Server;
let base = "";
const hits = new Map<string, number>();
const WHOLE = "the whole body here";
/** Arrival times (ms) per request key, to check waits the server asked for. */
const arrivals = new Map<string, number[]>();

test.before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const key = `${req.method} ${url.pathname}${url.search}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    arrivals.set(key, [...(arrivals.get(key) ?? []), performance.now()]);
    const first = hits.get(key) === 1;
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (url.pathname === "/stock") {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            sku: url.searchParams.get("sku"),
            stock: url.searchParams.get("sku")!.length,
          }),
        );
      } else if (url.pathname === "/text") res.end(`hello ${url.searchParams.get("q")}`);
      else if (url.pathname === "/echo") {
        res.setHeader("content-type", "application/json; charset=utf-8");
        res.end(
          JSON.stringify({
            method: req.method,
            type: req.headers["content-type"],
            auth: req.headers["x-key"],
            body: JSON.parse(body),
          }),
        );
      } else if (url.pathname === "/flaky") {
        // Fails twice per distinct query, then answers: exercises retries.
        if (hits.get(key)! <= 2) {
          res.statusCode = 503;
          res.end("busy");
        } else res.end("ok");
      } else if (url.pathname === "/slow") setTimeout(() => res.end("late"), 2000);
      else if (url.pathname === "/cut") {
        // First time: the status and part of the body, then the connection drops.
        res.writeHead(200, { "content-length": String(WHOLE.length) });
        if (first) {
          res.write("half");
          setTimeout(() => res.socket?.destroy(), 20);
        } else res.end(WHOLE);
      } else if (url.pathname === "/trickle") {
        // First time: the status at once, the body never finishes.
        res.writeHead(200, { "content-length": String(WHOLE.length) });
        if (first || url.searchParams.has("always")) res.write("slow");
        else res.end(WHOLE);
      } else if (url.pathname === "/limited") {
        // 429 with Retry-After (seconds, or an HTTP-date with ?date), then an answer.
        if (first) {
          const wait = Number(url.searchParams.get("wait") ?? 1);
          res.statusCode = 429;
          res.setHeader(
            "retry-after",
            url.searchParams.has("date")
              ? new Date(Date.now() + wait * 1000 + 1000).toUTCString()
              : String(wait),
          );
          res.end("slow down");
        } else res.end("ok now");
      } else {
        res.statusCode = 404;
        res.end("no such thing");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(() => {
  server.closeAllConnections();
  server.close();
});

test("GET per row: URL values percent-encoded, JSON parsed", async () => {
  const { rows } = await halo
    .lazy([{ sku: "A1" }, { sku: "B 2&x=1" }])
    .http({ url: `${base}/stock?sku={{sku}}`, output: "stock" })
    .collectRows();
  assert.equal(
    rows.map((r) => r.stock),
    [
      { sku: "A1", stock: 2 },
      { sku: "B 2&x=1", stock: 7 },
    ],
  );
});

test("text responses stay text; a URL held in a column is used as is", async () => {
  const { rows } = await halo
    .lazy([{ endpoint: `${base}/text`, q: "a b" }])
    .http({ url: "{{endpoint}}?q={{q}}", output: "t" })
    .collectRows();
  assert.is(rows[0]!.t, "hello a b");
});

test("POST with a templated JSON body and headers", async () => {
  const { rows } = await halo
    .lazy([{ id: 7, name: "Ann" }])
    .http({
      url: `${base}/echo`,
      method: "post",
      headers: { "x-key": "k-{{id}}" },
      body: { id: "{{id}}", greeting: "hi {{name}}" },
      output: "r",
    })
    .collectRows();
  assert.equal(rows[0]!.r, {
    method: "POST",
    type: "application/json",
    auth: "k-7",
    body: { id: 7, greeting: "hi Ann" },
  });
});

test("transient errors are retried; others are not", async () => {
  const ok = await httpTool.call(
    { url: `${base}/flaky?n=1`, method: "GET", headers: {}, timeoutMs: 2000, retries: 2 },
    {},
  );
  assert.is(ok, "ok");
  assert.is(hits.get("GET /flaky?n=1"), 3);
  try {
    await httpTool.call(
      { url: `${base}/flaky?n=2`, method: "GET", headers: {}, timeoutMs: 2000, retries: 1 },
      {},
    );
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /HTTP 503 from GET .*flaky\?n=2: busy/);
  }
  try {
    await httpTool.call(
      { url: `${base}/missing`, method: "GET", headers: {}, timeoutMs: 2000, retries: 3 },
      {},
    );
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /HTTP 404 .*no such thing/);
  }
  assert.is(hits.get("GET /missing"), 1, "a 404 is not retried");
});

test("a timeout is reported with the limit; an abort stops at once", async () => {
  try {
    await httpTool.call(
      { url: `${base}/slow`, method: "GET", headers: {}, timeoutMs: 100, retries: 0 },
      {},
    );
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /no response within 100 ms/);
  }
  const controller = new AbortController();
  const pending = halo
    .lazy([{ a: 1 }, { a: 2 }])
    .http({ url: `${base}/slow?a={{a}}`, output: "r" })
    .collectRows({ signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await pending.then(
    () => assert.unreachable("should abort"),
    (err: Error) => assert.match(err.name + err.message, /Abort|abort/),
  );
});

const get = (path: string, timeoutMs = 2000, retries = 2) =>
  httpTool.call({ url: `${base}${path}`, method: "GET", headers: {}, timeoutMs, retries }, {});

async function failure(pending: Promise<unknown>): Promise<string> {
  return pending.then(
    () => assert.unreachable("should fail") as never,
    (err: Error) => err.message,
  );
}

test("a connection cut mid-body is retried", async () => {
  assert.is(await get("/cut?n=1"), WHOLE);
  assert.is(hits.get("GET /cut?n=1"), 2);
  const message = await failure(get("/cut?n=2", 2000, 0));
  assert.match(
    message,
    /^HTTP GET http:\/\/127\.0\.0\.1:\d+\/cut\?n=2: the connection was cut while reading the body of a 200 response: other side closed/,
  );
});

test("a body slower than the timeout is retried, and then reported with the URL", async () => {
  assert.is(await get("/trickle?n=1", 300), WHOLE);
  assert.is(hits.get("GET /trickle?n=1"), 2);
  const message = await failure(get("/trickle?always&n=2", 200, 1));
  assert.match(
    message,
    /^HTTP GET http:\/\/\S+\/trickle\?always&n=2: status 200 came but the body did not finish within 200 ms \(raise timeoutMs\?\) \(after 2 attempts\)$/,
  );
  assert.is(hits.get("GET /trickle?always&n=2"), 2);
});

test("Retry-After is honoured, in seconds or as an HTTP-date, and bounded", async () => {
  for (const query of ["wait=1&n=1", "wait=1&date&n=2"]) {
    assert.is(await get(`/limited?${query}`, 2000, 1), "ok now");
    const [first, second] = arrivals.get(`GET /limited?${query}`)!;
    // The retry came no sooner than asked (a busy machine only makes the gap longer). An
    // HTTP-date has whole seconds, so it asks for at least one.
    assert.ok(second! - first! >= 950, `${query}: retried after ${second! - first!} ms`);
  }
  // Asking for more than the bound: no retry, the error says what the server asked.
  const message = await failure(get("/limited?wait=3600&n=3", 2000, 3));
  assert.match(
    message,
    /^HTTP 429 from GET \S+\/limited\?wait=3600&n=3: slow down \(the server asks to retry after 3600 s, longer than the 30 s Halo waits\)$/,
  );
  assert.is(hits.get("GET /limited?wait=3600&n=3"), 1);
  assert.is(MAX_RETRY_AFTER_MS, 30_000);
});

test("parseRetryAfter reads delay-seconds and HTTP-dates", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.is(parseRetryAfter("120", now), 120_000);
  assert.is(parseRetryAfter(" 0 ", now), 0);
  assert.is(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
  assert.is(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), 0, "a past date: now");
  assert.is(parseRetryAfter("soon", now), undefined);
  assert.is(parseRetryAfter("-5", now), undefined);
  assert.is(parseRetryAfter(null, now), undefined);
});

test("a refused connection names the method, the URL and the cause", async () => {
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/x`;
  await new Promise((r) => gone.close(r));
  const message = await failure(
    httpTool.call({ url, method: "POST", headers: {}, body: "b", timeoutMs: 1000, retries: 1 }, {}),
  );
  assert.match(message, new RegExp(`^HTTP POST ${url}: .*ECONNREFUSED.*\\(after 2 attempts\\)$`));
});

test("bad HTTP arguments fail at once", () => {
  const src = halo.lazy([{ a: 1 }]);
  assert.throws(() => src.http({ url: "ftp://x", output: "r" }), /must start with http/);
  assert.throws(() => src.http({ url: `${base}/{{b}}`, output: "r" }), /\{\{b\}\} names no column/);
  assert.throws(
    () => src.http({ url: base, method: "GET", body: "x", output: "r" }),
    /GET request has no body/,
  );
  assert.throws(
    () => src.http({ url: base, method: "FETCH", output: "r" }),
    /method must be one of/,
  );
  assert.throws(
    () => src.http({ url: base, output: "r", retries: -1 }),
    /retries must be an integer from 0 to 10/,
  );
});

test.run();
