// The HTTP tool against a real local server that injects faults on a seeded schedule: 500, 503,
// 429 with Retry-After, a hang past the timeout, a connection cut mid-body, a body that stalls,
// and invalid JSON. Through collect() over 240 rows with onError "null": a row whose faults
// clear within its retries gets exactly the fault-free answer; a row whose faults outlast them,
// or whose answer is not JSON, fails alone with an error naming the method, the URL and what
// happened. Nothing else is lost.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { halo } from "../../src/index.ts";

const ROWS = 240;
const RETRIES = 2;
// Long enough that a loaded machine reads every answer the server sent in time (400 ms was not,
// at a load of 20 on 2 cores); hangs and stalls cost this per attempt, 16 rows at a time.
const TIMEOUT_MS = 3_000;
const FAULTS = ["500", "503", "429", "hang", "cut", "stall", "badjson"] as const;
type Fault = (typeof FAULTS)[number];

// A fixed-seed generator: a failure can be replayed.
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** Per row: which fault, and how many attempts in a row it hits (0: none). */
const plan = Array.from({ length: ROWS }, (_, id) => {
  const fault = FAULTS[Math.floor(rand() * FAULTS.length)]!;
  // Most rows' faults clear within the retries; some outlast them.
  const times = rand() < 0.3 ? 0 : rand() < 0.85 ? 1 + Math.floor(rand() * RETRIES) : RETRIES + 1;
  return { id, fault, times };
});

const attempts = new Map<number, number>();
let injected = 0;
let server: Server;
let base = "";

function answer(id: number): string {
  return JSON.stringify({ id, price: (id * 37) % 101 });
}

test.before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const id = Number(url.searchParams.get("id"));
    const n = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, n);
    const { fault, times } = plan[id]!;
    // Invalid JSON is not transient: it is what this row always gets.
    const faulty = fault === "badjson" ? times > 0 : n <= times;
    if (!faulty) {
      res.setHeader("content-type", "application/json");
      return res.end(answer(id));
    }
    injected++;
    const body = answer(id);
    switch (fault as Fault) {
      case "500":
      case "503":
        res.statusCode = Number(fault);
        return res.end("upstream trouble");
      case "429":
        res.statusCode = 429;
        res.setHeader("retry-after", "1"); // each retry waits at least 1 s
        return res.end("slow down");
      case "hang":
        return; // never answers; the client's timeout ends it
      case "cut":
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        res.write(body.slice(0, 5));
        return void setTimeout(() => res.socket?.destroy(), 10);
      case "stall":
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        return void res.write(body.slice(0, 5)); // the rest never comes
      case "badjson":
        res.setHeader("content-type", "application/json");
        return res.end("{price: oops");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(() => {
  server.closeAllConnections();
  server.close();
});

test("faults that clear within the retries leave no trace; the rest fail their row alone", async () => {
  const started = performance.now();
  const { rows } = await halo
    .lazy(plan.map(({ id }) => ({ id })))
    .http({
      url: `${base}/price?id={{id}}`,
      output: "price",
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
    })
    .collectRows({ onError: "null", reuse: false });
  assert.is(rows.length, ROWS);
  let ok = 0;
  let failed = 0;
  for (const row of rows) {
    const { id, fault, times } = plan[row.id as number]!;
    const url = `${base}/price?id=${id}`;
    const fails = fault === "badjson" ? times > 0 : times > RETRIES;
    if (!fails) {
      assert.equal(
        row.price,
        JSON.parse(answer(id)),
        `row ${id} (${fault} x${times}) ${String(row._errors)}`,
      );
      assert.is(row._errors ?? null, null);
      ok++;
      continue;
    }
    failed++;
    assert.is(row.price, null);
    const error = String(row._errors);
    // Each names the method and the URL, and what happened.
    const why: Record<Fault, RegExp> = {
      "500": /HTTP 500 from GET \S+: upstream trouble \(after 3 attempts\)/,
      "503": /HTTP 503 from GET \S+: upstream trouble \(after 3 attempts\)/,
      "429": /HTTP 429 from GET \S+: slow down \(after 3 attempts\)/,
      hang: /HTTP GET \S+: no response within 3000 ms .*\(after 3 attempts\)/,
      cut: /HTTP GET \S+: the connection was cut while reading the body of a 200 response: .*\(after 3 attempts\)/,
      stall:
        /HTTP GET \S+: status 200 came but the body did not finish within 3000 ms .*\(after 3 attempts\)/,
      badjson: /HTTP GET \S+: response says JSON but does not parse: \{price: oops/,
    };
    assert.match(error, why[fault], `row ${id}: ${error}`);
    assert.ok(error.includes(url), `row ${id} names its URL: ${error}`);
  }
  // Attempts: one per fault plus the answer, never more than the retries allow.
  for (const { id, fault, times } of plan) {
    const want = fault === "badjson" ? 1 : Math.min(times, RETRIES + 1) + (times > RETRIES ? 0 : 1);
    assert.is(attempts.get(id), want, `row ${id} (${fault} x${times}): attempts`);
  }
  console.log(
    `measure: HTTP faults: ${ROWS} rows, ${[...attempts.values()].reduce((a, b) => a + b, 0)} requests, ${injected} faults injected (500, 503, 429 + Retry-After, hang, cut mid-body, stalled body, invalid JSON); ${ok} rows answered exactly as without faults, ${failed} failed alone naming method and URL, 0 lost; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

test.run();
