import { test } from "uvu";
import * as assert from "uvu/assert";
import { DuckDBInstance } from "@duckdb/node-api";
import { ToolPool, type ToolCall } from "../../../src/processor/tools/tool-pool.ts";
import { ToolTimeoutError, isTransientError } from "../../../src/processor/tools/tool-errors.ts";
import { TraceRecorder } from "../../../src/processor/trace/trace-recorder.ts";
import { rejects } from "../helpers/rejects.ts";
import { startHttpFixture, httpGet, type HttpFixture } from "../helpers/http-fixture.ts";

let server: HttpFixture;
test.before(async () => {
  server = await startHttpFixture();
});
test.after(async () => {
  await server.close();
});

const get = (path: string, extra: Partial<ToolCall<{ path: string }, { id: string }>> = {}) => ({
  kind: "http" as const,
  name: "get",
  args: { path },
  fn: httpGet(server.base),
  ...extra,
});

const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
};

test("HTTP calls never exceed their kind's limit; the rest wait their turn", async () => {
  const pool = new ToolPool({ limits: { http: 2 } });
  const before = server.maxInFlight;
  const ids = ["a", "b", "c", "d", "e", "f"];
  const results = await Promise.all(ids.map((id) => pool.run(get(`/slow?ms=30&id=lim-${id}`))));
  assert.equal(
    results.map((r) => r.id),
    ids.map((id) => `lim-${id}`),
  );
  assert.ok(before <= 2);
  assert.is(server.maxInFlight, 2);
  assert.is(pool.stats.http.maxRunning, 2);
  assert.is(pool.stats.http.maxQueued, 4);
});

test("a saturated HTTP lane does not hold up SQL (real DuckDB)", async () => {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  const trace = new TraceRecorder();
  const pool = new ToolPool({ limits: { http: 1 }, trace });
  const order: string[] = [];
  const slow = [1, 2, 3].map((i) =>
    pool.run(get(`/slow?ms=150&id=sat-${i}`)).then(() => order.push(`http${i}`)),
  );
  const sql = pool
    .run({
      kind: "sql",
      name: "duckdb",
      args: { sql: "select 40 + 2 as answer" },
      fn: async (args) => (await conn.runAndReadAll(args.sql)).getRowObjectsJS(),
    })
    .then((rows) => {
      order.push("sql");
      return rows;
    });
  assert.equal(await sql, [{ answer: 42 }]);
  await Promise.all(slow);
  assert.is(order[0], "sql");
  const lanes = new Set(trace.finish().tasks.map((t) => t.lane));
  assert.equal([...lanes].sort(), ["tool:http", "tool:sql"]);
  conn.closeSync();
  db.closeSync();
});

test("an attempt past its timeout fails with a clear error and the request is aborted", async () => {
  const pool = new ToolPool();
  const abortedBefore = server.aborted;
  try {
    await pool.run(get("/slow?ms=5000&id=to", { timeoutMs: 80, retries: 0 }));
    assert.unreachable("should time out");
  } catch (error) {
    assert.instance(error, ToolTimeoutError);
    assert.match((error as Error).message, /did not answer within 80 ms: raise its timeoutMs/);
  }
  await waitFor(() => server.aborted > abortedBefore, "the server saw the request go away");
  assert.is(pool.stats.http.timeouts, 1);
});

test("transient errors are retried with backoff; permanent ones fail at once", async () => {
  const trace = new TraceRecorder();
  const pool = new ToolPool({ trace, backoffMs: 5 });
  assert.equal(await pool.run(get("/flaky?id=r1&fail=2")), { id: "r1" });
  const attempts = trace.listTasks().map((t) => [t.attempt, t.error ?? "ok"]);
  assert.equal(attempts, [
    [1, "HTTP 503 for /flaky?id=r1&fail=2"],
    [2, "HTTP 503 for /flaky?id=r1&fail=2"],
    [3, "ok"],
  ]);
  await rejects(pool.run(get("/flaky?id=r2&fail=5")), /HTTP 503/);
  assert.is(server.hits.get("/flaky?id=r2&fail=5"), 3); // 1 try + 2 retries
  await rejects(pool.run(get("/bad")), /HTTP 400/);
  assert.is(server.hits.get("/bad"), 1);
  assert.equal(
    [pool.stats.http.retries, pool.stats.http.failures, pool.stats.http.attempts],
    [4, 2, 7],
  );
});

test("results are cached by signature within a run, including calls still in flight", async () => {
  const trace = new TraceRecorder();
  const pool = new ToolPool({ trace });
  const path = "/slow?ms=20&id=c1";
  const [a, b] = await Promise.all([pool.run(get(path)), pool.run(get(path))]);
  assert.equal(a, b);
  const c = await pool.submit(get(path));
  assert.ok(c.cacheHit);
  await c.result;
  assert.is(server.hits.get(path), 1);
  assert.is(trace.listTasks().filter((t) => t.cacheHit).length, 2);
  // Argument key order does not change the signature.
  const echo = (args: object) => Promise.resolve(JSON.stringify(args));
  const fnCall = (args: object) => ({ kind: "function" as const, name: "echo", args, fn: echo });
  await pool.run(fnCall({ x: 1, y: 2 }));
  assert.ok((await pool.submit(fnCall({ y: 2, x: 1 }))).cacheHit);
  // Opting out, and failures, are never served from the cache.
  await pool.run(get("/slow?id=c2", { cache: false }));
  await pool.run(get("/slow?id=c2", { cache: false }));
  assert.is(server.hits.get("/slow?id=c2"), 2);
  await rejects(pool.run(get("/bad?c=3")));
  await rejects(pool.run(get("/bad?c=3")));
  assert.is(server.hits.get("/bad?c=3"), 2);
  pool.clearCache();
  await pool.run(get(path));
  assert.is(server.hits.get(path), 2);
});

test("queued calls run by priority, equal priorities in submission order", async () => {
  const pool = new ToolPool({ limits: { function: 1 } });
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const call = (name: string, priority?: number): ToolCall<string, string> => ({
    kind: "function",
    name,
    args: name,
    fn: async (a) => {
      if (a === "first") await held;
      order.push(a);
      return a;
    },
    ...(priority !== undefined && { priority }),
  });
  const first = pool.run(call("first"));
  const rest = [call("late-a", 5), call("soon", 1), call("late-b", 5), call("now", 0)].map((c) =>
    pool.run(c),
  );
  release();
  await Promise.all([first, ...rest]);
  assert.equal(order, ["first", "now", "soon", "late-a", "late-b"]);
});

test("a full queue makes submitters wait (backpressure)", async () => {
  const pool = new ToolPool({ limits: { function: 1 }, queueLimit: 2 });
  const gates: (() => void)[] = [];
  const gated = (i: number) => ({
    kind: "function" as const,
    name: "gated",
    args: { i },
    fn: () => new Promise<number>((resolve) => gates.push(() => resolve(i))),
  });
  const accepted: number[] = [];
  const submits = [0, 1, 2, 3].map((i) =>
    pool.submit(gated(i)).then((h) => {
      accepted.push(i);
      return h;
    }),
  );
  await waitFor(() => accepted.length === 3, "three accepted");
  assert.equal(accepted, [0, 1, 2]); // 1 running, 2 queued; the 4th waits
  assert.equal(pool.load("function"), { running: 1, queued: 2 });
  gates.shift()!();
  await waitFor(() => accepted.length === 4, "the 4th accepted once a slot freed");
  for (let i = 1; i < 4; i++) {
    await waitFor(() => gates.length > 0, `call ${i} started`);
    gates.shift()!();
  }
  const results = await Promise.all((await Promise.all(submits)).map((h) => h.result));
  assert.equal(results, [0, 1, 2, 3]);
});

test("cancellation rejects queued calls at once and aborts running ones", async () => {
  const pool = new ToolPool({ limits: { http: 1 } });
  const controller = new AbortController();
  const abortedBefore = server.aborted;
  const running = rejects(pool.run(get("/slow?ms=5000&id=x1"), { signal: controller.signal }));
  const queued = rejects(pool.run(get("/slow?ms=5000&id=x2"), { signal: controller.signal }));
  await waitFor(() => server.inFlight === 1, "first request reached the server");
  controller.abort(new Error("interrupted"));
  assert.match((await running).message, /cancelled/);
  assert.match((await queued).message, /cancelled/);
  await waitFor(() => server.aborted > abortedBefore, "the running request was aborted");
  assert.is(server.hits.get("/slow?ms=5000&id=x2"), undefined);
  assert.equal(pool.load("http"), { running: 0, queued: 0 });
  // A cancelled shared call is run afresh for a caller that did not cancel.
  const c2 = new AbortController();
  const first = rejects(pool.run(get("/slow?ms=50&id=x3"), { signal: c2.signal }), /cancelled/);
  const second = pool.run(get("/slow?ms=50&id=x3"));
  c2.abort();
  await first;
  assert.equal(await second, { id: "x3" });
});

test("bad options and kinds are refused with what to pass", async () => {
  assert.throws(() => new ToolPool({ limits: { sql: 0 } }), /limits.sql must be an integer >= 1/);
  const pool = new ToolPool();
  await rejects(
    pool.run({ kind: "grpc" as "sql", name: "x", args: {}, fn: async () => 1 }),
    /unknown tool kind 'grpc'/,
  );
  assert.ok(isTransientError({ cause: { code: "ECONNRESET" } }));
  assert.ok(!isTransientError(new Error("syntax error at or near SELEC")));
});

test.run();
