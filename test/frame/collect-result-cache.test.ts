// collect()'s switches for kept results, in process on the shipped model with a cache folder of
// its own: what goes to disk (LLM answers and deterministic HTTP; SQL and functions stay in the
// session), a run after clearCache() answered from disk, and resultCache "read", "write", "off",
// HALO_RESULT_CACHE=off over the option, and reuse: false.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { DiskResultStore } from "../../src/executor/disk-result-store.ts";
import type { CollectOptions } from "../../src/frame/collect.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "halo-collect-cache-"));
process.env.HALO_CACHE_DIR = cacheDir;
process.env.HALO_RESULT_CACHE = "on";
const disk = new DiskResultStore(join(cacheDir, "results"), 2 ** 30);

let requests = 0;
let server: Server;
let base: string;
test.before(async () => {
  server = createServer((req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ stock: req.url!.length }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => new Promise<void>((r) => server.close(() => r())));

const reviews = (tag: string) =>
  [
    "Great kettle, works perfectly. I love it.",
    "Terrible shoes, they broke after a week.",
    "The blender is okay. It does the job.",
  ].map((review, id) => ({ id, review: `${review} ${tag}` }));

const frame = (tag: string) =>
  halo
    .lazy(reviews(tag))
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .http({ url: `${base}/stock?id={{id}}&s={{sentiment}}`, output: "stock", retries: 2 })
    .sql({
      query: "select $s || '!' as loud",
      params: { s: "{{sentiment}}" },
      shape: "value",
      output: "loud",
    })
    .tool((s: string) => s.length, { inputs: "sentiment", output: "n" });

async function run(tag: string, options: CollectOptions = {}) {
  halo.clearCache(); // the session forgets: only the disk can answer
  const before = requests;
  const { rows } = await frame(tag).collectRows({ calibrate: false, progress: false, ...options });
  const r = halo.lastRun!;
  return {
    rows,
    llm: r.llmCalls,
    http: requests - before,
    disk: r.callsFromStore.disk,
    kept: r.callsKept,
  };
}

test("LLM and HTTP results go to disk; after clearCache() the disk answers them", async () => {
  const first = await run("a");
  assert.is(first.llm, 3);
  assert.is(first.http, 3);
  assert.is(first.kept, 12, "3 rows x 4 calls kept (LLM, HTTP, SQL, function)");
  const info = disk.info();
  assert.is(info.byKind.llm.entries, 3);
  assert.is(info.byKind.http.entries, 3);
  assert.is(info.entries, 6, "SQL and function results stay in the session");

  const again = await run("a");
  assert.equal(again.rows, first.rows);
  assert.is(again.llm, 0);
  assert.is(again.http, 0);
  assert.is(again.disk, 6);
});

test('resultCache "read", "write", "off"; HALO_RESULT_CACHE=off wins; reuse: false', async () => {
  const reference = await run("a", { resultCache: "off" });
  assert.is(reference.llm, 3, '"off" reads nothing');
  assert.is(reference.disk, 0);

  const read = await run("a", { resultCache: "read" });
  assert.is(read.llm, 0, '"read" reads');
  const fresh = await run("b", { resultCache: "read" });
  assert.is(fresh.llm, 3);
  assert.is(disk.info().entries, 6, '"read" writes nothing');

  const write = await run("a", { resultCache: "write" });
  assert.is(write.llm, 3, '"write" recomputes');
  assert.is(write.disk, 0);
  await run("b", { resultCache: "write" });
  // "b" asks the same HTTP requests as "a" (same ids and labels): only its LLM calls are new.
  assert.is(disk.info().byKind.llm.entries, 6, '"write" writes');

  process.env.HALO_RESULT_CACHE = "off";
  try {
    const off = await run("a", { resultCache: "on" });
    assert.is(off.llm, 3, "the environment's off wins over the option");
  } finally {
    process.env.HALO_RESULT_CACHE = "on";
  }
  const noReuse = await run("a", { reuse: false });
  assert.is(noReuse.llm, 3);
  assert.is(noReuse.kept, 0, "reuse: false keeps nothing");
  for (const r of [read, write, noReuse]) assert.equal(r.rows, reference.rows);

  await frame("a")
    .collectRows({ resultCache: "sometimes" as never })
    .then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /resultCache must be "on", "off", "read" or "write"/),
    );
});

test.run();
