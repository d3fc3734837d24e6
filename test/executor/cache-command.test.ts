// `halo cache info` and `halo cache clear` as a user runs them: on a folder holding entries of
// both kinds, the counts by kind, --json, clearing one kind, then all, and a bad --kind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskResultStore } from "../../src/executor/disk-result-store.ts";
import { halo as api } from "../../src/index.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "halo-cli-cache-"));
const halo = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/halo.js", "cache", ...args], {
    encoding: "utf8",
    env: { ...process.env, HALO_CACHE_DIR: cacheDir, HALO_RESULT_CACHE: "on" },
  });

test("info counts entries by kind; clear empties one kind, then all", () => {
  const store = new DiskResultStore(join(cacheDir, "results"), 2 ** 20);
  for (let i = 0; i < 5; i++) store.put("llm", `${i}`.padStart(64, "a"), `answer ${i}`);
  store.put("http", "b".repeat(64), { status: "ok" });

  const info = halo("info");
  assert.is(info.status, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`^folder   ${join(cacheDir, "results")}$`, "m"));
  assert.match(info.stdout, /^entries  6 \(/m);
  assert.match(info.stdout, /^  llm    5 \(/m);
  assert.match(info.stdout, /^  http   1 \(/m);
  const json = JSON.parse(halo("info", "--json").stdout);
  assert.is(json.byKind.llm.entries, 5);
  assert.is(json.mode, "on");

  const some = halo("clear", "--kind", "http");
  assert.match(some.stdout, /^removed 1 entries of kind http/);
  assert.is(JSON.parse(halo("info", "--json").stdout).entries, 5);
  assert.match(halo("clear").stdout, /^removed 5 entries from /);
  assert.is(JSON.parse(halo("info", "--json").stdout).entries, 0);

  const bad = halo("clear", "--kind", "sql");
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--kind must be llm or http/);
  assert.is(halo("frobnicate").status, 2);
});

test("halo.clearCache({ disk: true }) empties the disk store too; without it, only the session", () => {
  const store = new DiskResultStore(join(cacheDir, "results"), 2 ** 20);
  store.put("llm", "c".repeat(64), "kept");
  const before = process.env.HALO_CACHE_DIR;
  process.env.HALO_CACHE_DIR = cacheDir;
  try {
    api.clearCache();
    assert.is(store.info().entries, 1);
    api.clearCache({ disk: true });
    assert.is(store.info().entries, 0);
  } finally {
    if (before === undefined) delete process.env.HALO_CACHE_DIR;
    else process.env.HALO_CACHE_DIR = before;
  }
});

test.run();
