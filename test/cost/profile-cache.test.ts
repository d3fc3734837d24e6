import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { openSync, readSync, writeSync, closeSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getProfile, profileCacheDir, readCachedProfile } from "../../src/cost/profile-cache.ts";
import { parseProfile, priorProfile } from "../../src/cost/profile.ts";
import { FIXTURE_DIR } from "./model-dir.ts";

const tmp = mkdtempSync(join(tmpdir(), "halo-cost-"));
const modelDir = join(tmp, "model");
const cacheDir = join(tmp, "cache");
cpSync(FIXTURE_DIR, modelDir, { recursive: true });
// A short grid keeps this test about the cache, not about measuring.
const quick = {
  cacheDir,
  repeats: 1,
  prefillGrid: [
    [1, 8, 0],
    [1, 64, 0],
    [2, 8, 64],
    [2, 32, 0],
  ] as [number, number, number][],
  decodeGrid: [
    [1, 16],
    [4, 16],
    [4, 128],
    [1, 128],
  ] as [number, number][],
};

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test("the cache dir follows HALO_CACHE_DIR, else ~/.cache/halo/profiles", () => {
  assert.is(profileCacheDir({ HALO_CACHE_DIR: "/x" }), "/x/profiles");
  assert.match(profileCacheDir({ HOME: "/h" }), /halo\/profiles$/);
});

test("the first getProfile calibrates and caches; the second reads the cache", async () => {
  const first = await getProfile(modelDir, quick);
  assert.is(first.source, "calibrated");
  assert.is(first.modelId, "model");
  const files = readdirSync(cacheDir);
  assert.is(files.length, 1);
  const second = await getProfile(modelDir, { cacheDir });
  assert.equal(second, first);
  assert.is(second.createdAt, first.createdAt);
});

test("changing the model file invalidates its profile", async () => {
  const before = await getProfile(modelDir, { cacheDir });
  // Flip one byte in the weights: the ONNX file still loads, its content hash changes.
  const file = join(modelDir, "onnx", "model.onnx");
  const at = Math.floor(statSync(file).size / 2);
  const fd = openSync(file, "r+");
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  const after = await getProfile(modelDir, quick);
  assert.is.not(after.modelHash, before.modelHash);
  assert.is.not(after.createdAt, before.createdAt);
  assert.is(readdirSync(cacheDir).length, 1, "the stale profile is removed");
});

test("an unreadable or old-version profile is recalibrated, not trusted", () => {
  const [name] = readdirSync(cacheDir);
  const path = join(cacheDir, name!);
  const good = parseProfile(readFileSync(path, "utf8"), path);
  writeFileSync(path, JSON.stringify({ ...good, version: 0 }));
  assert.is(readCachedProfile(cacheDir, good.modelId, good.provider, good.modelHash), undefined);
  writeFileSync(path, "{ not json");
  assert.is(readCachedProfile(cacheDir, good.modelId, good.provider, good.modelHash), undefined);
});

test("parseProfile names the field that is wrong", () => {
  const p = priorProfile("m");
  const bad = { ...p, decode: { ...p.decode, kvMs: -1 } };
  assert.throws(
    () => parseProfile(JSON.stringify(bad), "f.json"),
    /decode\.kvMs must be a non-negative/,
  );
  assert.throws(() => parseProfile("[1", "f.json"), /f\.json: not JSON/);
});

test.run();
