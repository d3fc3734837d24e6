import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyFrame, collectAll } from "../../src/frame/lazy-frame.ts";
import { models } from "../../src/frame/models.ts";
import { session } from "../../src/frame/session.ts";
import { col } from "../../src/plan/expr.ts";
import { busyMsByLane } from "../../src/processor/trace/trace-recorder.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";
import { startHttpFixture, type HttpFixture } from "./helpers/http-fixture.ts";
import { slowModel } from "./helpers/slow-model.ts";
import { rejects } from "./helpers/rejects.ts";

// HTTP in waves of 4: each wave's rows reach the model while the next wave is on the network.

let server: HttpFixture;
test.before(async () => {
  server = await startHttpFixture();
});
test.after(async () => {
  await server.close();
});

const rows = Array.from({ length: 24 }, (_, i) => ({
  id: i,
  review: `review number ${i} ${i % 3 === 0 ? "great" : "meh"}`,
  sku: `s${i % 5}`,
}));

function workflow(modelName: string) {
  return LazyFrame.from(rows)
    .filter(col("id").ne(7))
    .agent({ prompt: "Summarize: {{review}}", output: "summary", model: modelName, maxTokens: 40 })
    .agent({
      prompt: "Label: {{review}}",
      output: "label",
      model: modelName,
      choices: ["positive", "negative", "neutral"],
    })
    .http({ url: `${server.base}/slow?ms=5&id={{sku}}`, output: "stock" })
    .tool((s: string, l: string) => `${l}:${s.length}`, {
      inputs: ["summary", "label"],
      output: "tag",
    })
    .filter((r) => r.id !== 11)
    .map((r) => ({ ...r, n: (r.id as number) * 2 }), {
      columns: ["id", "review", "sku", "summary", "label", "stock", "tag", "n"],
    });
}

test("the same rows, columns and values as the row-by-row executor", async () => {
  models.register("fake-a", fakeModel("fake-a"));
  const frame = workflow("fake-a");
  const want = await frame.collectRows({ executor: "row-by-row", reuse: false });
  const got = await frame.collectRows({ executor: "processor", reuse: false });
  assert.equal(got, want);
  assert.is(got.rows.length, 22);
  const run = session.lastRun!;
  assert.ok(run, "a run report");
});

test("failed rows with onError null: identical outputs and _errors", async () => {
  const model = fakeModel("fake-b");
  model.failOn = (prompt) => prompt.includes("number 4 ");
  models.register("fake-b", model);
  const frame = workflow("fake-b").http({
    url: `${server.base}/{{sku}}`,
    output: "missing",
    retries: 0,
  });
  const want = await frame.collectRows({ executor: "row-by-row", reuse: false, onError: "null" });
  const got = await frame.collectRows({ executor: "processor", reuse: false, onError: "null" });
  assert.equal(got, want);
  assert.ok(got.rows.some((r) => String(r._errors).includes("fake model refuses")));
  // With "raise", the run stops with a RowError naming the node.
  await rejects(
    frame.collectRows({ executor: "processor", reuse: false }),
    /^row \d+ \(id: \d+\) failed at node/,
  );
});

test("collectAll with a join: identical to row-by-row", async () => {
  models.register("fake-c", fakeModel("fake-c"));
  const base = LazyFrame.from(rows).agent({
    prompt: "Hi {{review}}",
    output: "a",
    model: "fake-c",
  });
  const skus = LazyFrame.from([
    { sku: "s1", name: "one" },
    { sku: "s2", name: "two" },
  ]).agent({ prompt: "Name {{name}}", output: "b", model: "fake-c" });
  const joined = base.join(skus, "sku", { how: "left" });
  const want = await collectAll([joined, base], { executor: "row-by-row", reuse: false });
  const got = await collectAll([joined, base], { executor: "processor", reuse: false });
  for (let i = 0; i < 2; i++) {
    assert.equal(got[i]!.values, want[i]!.values);
    assert.equal(got[i]!.columns, want[i]!.columns);
  }
});

test("HTTP and LLM work overlap: wall time clearly below the sum of the two", async () => {
  const slow = slowModel(fakeModel("fake-d"), 50);
  models.register("fake-d", slow);
  const frame = LazyFrame.from(rows.slice(0, 16))
    .http({ url: `${server.base}/slow?ms=50&id={{id}}`, output: "stock" })
    .agent({ prompt: "Stock {{stock}} for {{review}}", output: "answer", model: "fake-d" });
  const t0 = performance.now();
  const got = await frame.collectRows({
    processor: { tools: { limits: { http: 4 } } },
    reuse: false,
  });
  const wall = performance.now() - t0;
  assert.is(got.rows.length, 16);
  const busy = busyMsByLane(session.lastRun!.tasks ?? []);
  const http = busy.get("tool:http") ?? 0;
  const llm = busy.get("llm:0") ?? 0;
  console.log(
    `measure: 16 rows, HTTP 50 ms (4 at a time) + LLM 50 ms per batch: wall ${wall.toFixed(0)} ms, HTTP busy ${http.toFixed(0)} ms, LLM busy ${llm.toFixed(0)} ms, overlap ${(((http + llm - wall) / Math.min(http, llm)) * 100).toFixed(0)}%, LLM batches ${slow.batches.join(",")}`,
  );
  assert.ok(http > 0 && llm > 0, "both lanes traced");
  // Row by row would take 16 x (50 + 50) ms; ideal overlap about 250 ms against 200 + 200 ms of
  // busy lanes. The generous bound (this machine is shared): below 95% of the two lanes' sum.
  assert.ok(wall < 0.95 * (http + llm), `wall ${wall} vs http ${http} + llm ${llm}`);
});

test("cancellation stops a collect promptly and the next one runs", async () => {
  models.register("fake-e", slowModel(fakeModel("fake-e"), 200));
  const frame = LazyFrame.from(rows)
    .http({ url: `${server.base}/slow?ms=300&id={{id}}`, output: "s" })
    .agent({ prompt: "x {{s}}", output: "y", model: "fake-e" });
  const controller = new AbortController();
  const pending = frame.collectRows({
    executor: "processor",
    reuse: false,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("interrupted")), 50);
  const t0 = performance.now();
  const error = await rejects(pending);
  const ms = performance.now() - t0;
  console.log(`measure: cancelled after ${ms.toFixed(0)} ms`);
  assert.match(error.message, /interrupted|abort/i);
  assert.ok(ms < 1000, `stopped within 1 s (took ${ms})`);
  const again = await LazyFrame.from(rows.slice(0, 2))
    .agent({ prompt: "x {{id}}", output: "y", model: "fake-e" })
    .collectRows({ executor: "processor", reuse: false });
  assert.is(again.rows.length, 2);
});

test("an HTTP call waiting out a honoured Retry-After is not cut off by the pool's deadline", async () => {
  // The server asks for 5 s once; with timeoutMs 200 and one retry, a deadline of the attempts
  // alone (2 x (200 + 2000) ms) would end the row before the retry is sent.
  let calls = 0;
  const limited = createServer((_req, res) => {
    calls++;
    if (calls === 1) res.writeHead(429, { "Retry-After": "5" }).end("slow down");
    else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((done) => limited.listen(0, "127.0.0.1", done));
  const { port } = limited.address() as AddressInfo;
  try {
    const got = await LazyFrame.from([{ id: 1 }])
      .http({
        url: `http://127.0.0.1:${port}/x?id={{id}}`,
        output: "r",
        timeoutMs: 200,
        retries: 1,
      })
      .collectRows({ executor: "processor", reuse: false });
    assert.is(calls, 2);
    assert.equal(got.rows[0]!.r, { ok: true });
  } finally {
    limited.close();
  }
});

test.run();
