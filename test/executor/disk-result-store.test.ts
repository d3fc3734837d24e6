// The disk result store: exact round trips of plain JSON only, a corrupt or foreign entry is
// ignored and replaced (never an exception), the size limit trims least recently used first,
// clear and info, an unwritable folder warns once, and three processes sharing one folder (two
// writing the same keys, one reading) never see half an entry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DiskResultStore,
  isPlainJson,
  resultCacheSettings,
} from "../../src/executor/disk-result-store.ts";

const key = (i: number) => i.toString(16).padStart(64, "0");
const fresh = (maxBytes = 2 ** 20) =>
  new DiskResultStore(mkdtempSync(join(tmpdir(), "halo-results-")), maxBytes);
const fileOf = (store: DiskResultStore, kind: string, k: string) =>
  join(store.dir, "v1", kind, k.slice(0, 2), `${k}.json`);

test("plain JSON round-trips exactly; other values are not written", () => {
  const store = fresh();
  const values = ["text \ud800 lone", { a: [1, 2.5, null, true], "b c": { d: "é😀" } }, 0, ""];
  values.forEach((v, i) => assert.ok(store.put("llm", key(i), v), `put ${i}`));
  values.forEach((v, i) => assert.equal(store.get("llm", key(i))?.value, v));
  for (const v of [1n, new Date(0), -0, NaN, [undefined], { u: undefined }, new Uint8Array(2)]) {
    assert.not.ok(isPlainJson(v), String(v));
    assert.not.ok(store.put("llm", key(99), v));
  }
  assert.is(store.get("llm", key(99)), undefined);
  assert.is(store.get("http", key(0)), undefined, "kinds are apart");
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.not.ok(store.put("llm", key(98), deep), "too deep to write: kept in the session only");
});

test("a corrupt, truncated or foreign entry is ignored, removed and replaced", () => {
  const store = fresh();
  const corruptions = [
    "{ not json",
    JSON.stringify({ format: 1, kind: "llm", key: key(1), at: 0, value: "x" }).slice(0, 20),
    JSON.stringify({ format: 1, kind: "llm", key: key(2), at: 0, value: "another key's" }),
    JSON.stringify({ format: 9, kind: "llm", key: key(3), at: 0, value: "a future format" }),
    "",
  ];
  corruptions.forEach((text, i) => {
    const k = key(100 + i);
    assert.ok(store.put("llm", k, "good"));
    writeFileSync(fileOf(store, "llm", k), text);
    assert.is(store.get("llm", k), undefined, `corruption ${i}: a miss, not an exception`);
    assert.ok(store.put("llm", k, "good again"));
    assert.equal(store.get("llm", k), { value: "good again" });
  });
});

test("entries older than maxAgeMs are misses (HTTP answers expire)", () => {
  const store = fresh();
  assert.ok(store.put("http", key(1), { ok: true }));
  const path = fileOf(store, "http", key(1));
  const entry = JSON.parse(readFileSync(path, "utf8"));
  writeFileSync(path, JSON.stringify({ ...entry, at: Date.now() - 2 * 86_400_000 }));
  assert.is(store.get("http", key(1), 86_400_000), undefined);
  assert.equal(store.get("http", key(1))?.value, { ok: true }, "no age limit: still there");
});

test("the size limit trims least recently used first; info and clear by kind", async () => {
  const store = fresh(20_000); // about 18 entries of 1.1 KB
  const text = "x".repeat(1000);
  const old = Date.now() / 1000 - 3600;
  for (let i = 0; i < 30; i++) {
    assert.ok(store.put("llm", key(i), text));
    // Oldest first by access time: entry i was last touched i seconds after `old`.
    utimesSync(fileOf(store, "llm", key(i)), old + i, old + i);
  }
  // Reading entry 0 makes it the most recently used.
  assert.ok(store.get("llm", key(0)));
  await store.trim();
  const info = store.info();
  assert.ok(info.bytes <= 20_000 * 0.9, `trimmed to ${info.bytes} bytes`);
  assert.ok(info.entries < 30 && info.entries > 10, `${info.entries} left`);
  assert.ok(store.get("llm", key(0)), "the entry just read survives");
  assert.is(store.get("llm", key(1)), undefined, "the least recently used went first");
  assert.ok(store.get("llm", key(29)), "the newest stays");

  assert.ok(store.put("http", key(7), { a: 1 }));
  const before = store.info();
  assert.is(before.byKind.http.entries, 1);
  assert.is(before.byKind.llm.entries + 1, before.entries);
  assert.is(store.clear("http"), 1);
  assert.is(store.info().byKind.http.entries, 0);
  assert.is(store.clear(), before.entries - 1);
  assert.is(store.info().entries, 0);
  assert.ok(store.put("llm", key(3), "after a clear the folders come back"));
});

test("an unwritable folder: writes are refused with one warning, reads miss, nothing throws", () => {
  if (process.getuid?.() === 0) return; // root writes anywhere
  const dir = mkdtempSync(join(tmpdir(), "halo-results-ro-"));
  chmodSync(dir, 0o500);
  const store = new DiskResultStore(join(dir, "cache"), 2 ** 20);
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as never;
  try {
    assert.not.ok(store.put("llm", key(1), "x"));
    assert.not.ok(store.put("llm", key(2), "y"));
  } finally {
    process.stderr.write = write;
    chmodSync(dir, 0o700);
  }
  assert.is(written.length, 1, written.join(""));
  assert.match(written[0]!, /could not be written .*session only/);
  assert.is(store.get("llm", key(1)), undefined);
});

test("settings: folder under HALO_CACHE_DIR, mode and limit from the environment", () => {
  const s = resultCacheSettings({
    HALO_CACHE_DIR: "/c",
    HALO_RESULT_CACHE: "read",
    HALO_RESULT_CACHE_MAX_MB: "8",
  });
  assert.equal(s, { dir: "/c/results", mode: "read", maxBytes: 8 * 2 ** 20 });
  assert.is(resultCacheSettings({ HALO_RESULT_CACHE: "0" }).mode, "off");
  assert.match(resultCacheSettings({ HOME: "/h" }).dir, /halo\/results$/);
});

function runWorker(
  dir: string,
  role: string,
  seed: number,
): Promise<{ role: string; hits: number; wrong: number }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "test/executor/helpers/disk-store-worker.ts",
      dir,
      role,
      "400",
      String(seed),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) =>
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out))
        : reject(new Error(`worker ${role} exited ${code}: ${err}`)),
    ),
  );
}

test("three processes on one folder: the same keys written twice, read meanwhile, never torn", async () => {
  const store = fresh(64 * 2 ** 20);
  const results = await Promise.all([
    runWorker(store.dir, "write", 1),
    runWorker(store.dir, "write", 2),
    runWorker(store.dir, "read", 3),
  ]);
  for (const r of results) assert.is(r.wrong, 0, `${r.role}: every hit was the key's own value`);
  assert.is(results[0]!.hits, 400, "a writer reads back each key it wrote");
  const info = store.info();
  assert.is(info.entries, 400);
  for (let i = 0; i < 400; i += 37)
    assert.equal(store.get("llm", key(i))?.value, { i, text: `answer ${i} `.repeat(20) });
  const leftovers = readdirSync(join(store.dir, "v1", "llm"), { recursive: true }).filter((f) =>
    String(f).endsWith(".tmp"),
  );
  assert.is(leftovers.length, 0, "no temporary file left behind");
});

test.run();
