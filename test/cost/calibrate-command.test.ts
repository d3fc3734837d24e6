import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getProfile } from "../../src/cost/profile-cache.ts";
import { FIXTURE_DIR } from "./model-dir.ts";

const halo = fileURLToPath(new URL("../../bin/halo.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "halo-calibrate-"));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [halo, "calibrate", ...args], {
    encoding: "utf8",
    env: { ...process.env, HALO_CACHE_DIR: tmp },
  });

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test("halo calibrate prints the fitted constants and fit error and writes --out", () => {
  const out = join(tmp, "profile.json");
  const r = run("--model", FIXTURE_DIR, "--out", out);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /c_call [\d.e-]+ ms\s+c_tok [\d.e-]+ ms\s+c_att/);
  assert.match(r.stdout, /d_0 [\d.e-]+ ms\s+d_row [\d.e-]+ ms\s+d_kv/);
  assert.match(r.stdout, /median error \d+%/);
  const profile = JSON.parse(readFileSync(out, "utf8"));
  assert.is(profile.modelId, "qwen2");
  assert.ok(existsSync(join(tmp, "profiles")));
  const fit = r.stdout.match(/median error (\d+)%/g);
  console.log(`measure: halo calibrate fit: ${fit?.join(", ")}`);
});

test("--dtype calibrates that variant, filed as folder:dtype where collect() looks it up", async () => {
  const r = run("--model", FIXTURE_DIR, "--dtype", "q4");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^model qwen2:q4 on cpu/);
  // what collect() asks for a model registered with { dtype: "q4" } (frame/cost-profiles.ts)
  let measured = false;
  const profile = await getProfile(FIXTURE_DIR, {
    cacheDir: join(tmp, "profiles"),
    onnx: { dtype: "q4" },
    onProgress: () => (measured = true),
  });
  assert.is(profile.modelId, "qwen2:q4");
  assert.not.ok(measured, "the filed profile is found, not measured again");
  const bad = run("--model", FIXTURE_DIR, "--dtype", "fp8");
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /--dtype must be one of fp32, fp16/);
});

test("bad arguments say what is wrong", () => {
  const r = run("--threads", "zero");
  assert.is(r.status, 2);
  assert.match(r.stderr, /--threads must be a positive integer/);
  const missing = run("--model", join(tmp, "nothing-here"));
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /no model folder at .*nothing-here/);
});

test("--model takes a hub id, fetched offline-first from the Hugging Face cache", () => {
  // An empty cache and HF_HUB_OFFLINE=1: the error says what is missing and how to fetch it.
  const r = spawnSync(process.execPath, [halo, "calibrate", "--model", "acme/tiny"], {
    encoding: "utf8",
    env: {
      ...process.env,
      HALO_CACHE_DIR: tmp,
      HF_HUB_CACHE: join(tmp, "hub"),
      HF_HUB_OFFLINE: "1",
    },
  });
  assert.is(r.status, 1);
  assert.match(r.stderr, /acme\/tiny@main is not in the cache/);
  assert.match(r.stderr, /halo pull acme\/tiny/);
});

test.run();
