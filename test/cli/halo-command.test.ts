import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const halo = fileURLToPath(new URL("../../bin/halo.js", import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [halo, ...args], { encoding: "utf8" });

test("--help lists every subcommand", () => {
  const r = run("--help");
  assert.is(r.status, 0);
  for (const name of ["install", "kernel", "run", "bench", "serve", "calibrate"]) {
    assert.match(r.stdout, new RegExp(`^  ${name}\\s`, "m"));
  }
});

test("an unknown subcommand prints usage and exits 2", () => {
  const r = run("frobnicate");
  assert.is(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.match(r.stderr, /usage: halo <command>/);
});

test("a subcommand's --help describes its options", () => {
  const r = run("run", "--help");
  assert.is(r.status, 0);
  assert.match(r.stdout, /NOTEBOOK/);
});

test.run();
