import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { halo } from "../../src/index.ts";
import { httpTool } from "../../src/tools/http.ts";

let server: Server;
let base = "";
const hits = new Map<string, number>();

test.before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const key = `${req.method} ${url.pathname}${url.search}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
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
      else {
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
