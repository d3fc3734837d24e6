import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needSystem, hasCommand } from "../helpers/system.ts";

const halo = fileURLToPath(new URL("../../bin/halo.js", import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [halo, ...args], { encoding: "utf8" });

test("halo install --prefix writes a valid kernelspec with an absolute argv and logos", () => {
  const prefix = mkdtempSync(join(tmpdir(), "halo-install-"));
  const r = run(
    "install",
    "--prefix",
    prefix,
    "--name",
    "halo-test",
    "--display-name",
    "Halo Test",
  );
  assert.is(r.status, 0, r.stderr);
  const dir = join(prefix, "share", "jupyter", "kernels", "halo-test");
  assert.match(r.stdout, new RegExp(dir));
  const spec = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
  assert.is(spec.display_name, "Halo Test");
  assert.is(spec.language, "typescript");
  assert.is(spec.interrupt_mode, "message");
  assert.is(spec.argv[0], process.execPath);
  assert.ok(spec.argv[1].startsWith("/") && existsSync(spec.argv[1]));
  assert.equal(spec.argv.slice(2), ["-f", "{connection_file}"]);
  for (const logo of ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"])
    assert.ok(statSync(join(dir, logo)).size > 0);
  if (spec.env.ESBUILD_BINARY_PATH) assert.ok(existsSync(spec.env.ESBUILD_BINARY_PATH));
  if (needSystem("jupyter", () => hasCommand("jupyter"), "apt-get install jupyter-client")) {
    const list = spawnSync("jupyter", ["kernelspec", "list", "--json"], {
      encoding: "utf8",
      env: {
        ...process.env,
        JUPYTER_PATH: join(prefix, "share", "jupyter"),
        JUPYTER_DATA_DIR: join(prefix, "data"),
      },
    });
    assert.is(list.status, 0, list.stderr);
    assert.is(JSON.parse(list.stdout).kernelspecs["halo-test"].spec.display_name, "Halo Test");
  }
});

test("bad options are refused with a clear message", () => {
  const r = run("install", "--name", "bad name!");
  assert.is(r.status, 1);
  assert.match(r.stderr, /--name 'bad name!'/);
  const r2 = run("install", "--frobnicate");
  assert.match(r2.stderr, /unknown option '--frobnicate'/);
});

test("halo kernel without a connection file says what to pass", () => {
  const r = run("kernel");
  assert.is(r.status, 2);
  assert.match(r.stderr, /missing connection file/);
});

test.run();
