// `halo pull` as a user runs it: a real `halo` process against a stand-in hub on 127.0.0.1.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HubStandIn } from "../../helpers/hub-stand-in.ts";

const halo = fileURLToPath(new URL("../../../bin/halo.js", import.meta.url));
let hub: HubStandIn;
let root: string;
let commit = "";

const files = new Map(
  Object.entries({
    "config.json": Buffer.from(JSON.stringify({ model_type: "llama" })),
    "tokenizer.json": Buffer.from("{}"),
    "onnx/model.onnx": Buffer.alloc(4000, 1),
    "onnx/model_q4.onnx": Buffer.alloc(2000, 2),
  }),
);

function pull(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [halo, "pull", ...args], {
      env: {
        ...process.env,
        HF_ENDPOINT: hub.hubUrl,
        HF_HOME: root,
        HF_HUB_CACHE: "",
        HF_TOKEN: "",
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

test.before(async () => {
  hub = await new HubStandIn().start();
  root = mkdtempSync(join(tmpdir(), "halo-pull-"));
  commit = hub.commit("acme/tiny", files);
  hub.commit("acme/gated", files, "main", "tok");
});
test.after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

test("halo pull fills the cache under HF_HOME/hub and prints the folder", async () => {
  const r = await pull(["acme/tiny", "--dtype", "q4"]);
  assert.is(r.status, 0, r.stderr);
  const dir = join(root, "hub", "models--acme--tiny", "snapshots", commit);
  assert.match(
    r.stdout,
    new RegExp(
      `acme/tiny@main: commit ${commit}, q4 \\(onnx/model_q4\\.onnx\\); .* downloaded from ${hub.hubUrl}`,
    ),
  );
  assert.ok(r.stdout.includes(`model folder: ${dir}\n`));
  assert.ok(existsSync(join(dir, "onnx/model_q4.onnx")));
  assert.not.ok(existsSync(join(dir, "onnx/model.onnx")));
  assert.match(r.stderr, /acme\/tiny: downloaded · file 2\/2/, "a progress line on stderr");
  const again = await pull(["acme/tiny", "--dtype", "q4"]);
  assert.match(again.stdout, /already in the cache/);
});

test("offline, a missing dtype says how to fetch it; errors exit 1, bad arguments 2", async () => {
  const off = await pull(["acme/tiny", "--dtype", "fp32"], { HF_HUB_OFFLINE: "1" });
  assert.is(off.status, 1);
  assert.match(off.stderr, /missing the fp32 decoder graph/);
  assert.match(off.stderr, /halo pull acme\/tiny --dtype fp32/);
  const gated = await pull(["acme/gated"]);
  assert.is(gated.status, 1);
  assert.match(gated.stderr, /set HF_TOKEN/);
  const allowed = await pull(["acme/gated"], { HF_TOKEN: "tok" });
  assert.is(allowed.status, 0, allowed.stderr);
  const lacks = await pull(["acme/tiny", "--dtype", "int8"]);
  assert.is(lacks.status, 1);
  assert.match(
    lacks.stderr,
    /no int8 decoder .* it has fp32 \(onnx\/model\.onnx\), q4 \(onnx\/model_q4\.onnx\)/,
  );
  const bad = await pull(["acme/tiny", "--dtype", "fp8"]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--dtype must be one of/);
  const notId = await pull(["./some/folder"]);
  assert.is(notId.status, 2);
  assert.match(notId.stderr, /expected one hub id/);
});

test.run();
