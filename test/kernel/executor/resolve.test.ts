import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSpecifier } from "../../../kernel/executor/resolve.ts";

const dir = mkdtempSync(join(tmpdir(), "halo-resolve-"));
const pkg = (name: string, json: object, files: Record<string, string>) => {
  const d = join(dir, "node_modules", name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "package.json"), JSON.stringify(json));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(d, f, ".."), { recursive: true });
    writeFileSync(join(d, f), text);
  }
};
pkg(
  "esm-only",
  {
    type: "module",
    exports: { ".": { import: "./index.js" }, "./sub/*": { import: "./lib/*.js" } },
  },
  { "index.js": "export const v = 'esm';", "lib/x.js": "export const x = 1;" },
);
pkg("cjs-main", { main: "main.js" }, { "main.js": "module.exports = { v: 'cjs' };" });

test("ESM-only packages (import condition, subpath patterns) from the notebook's folder", async () => {
  const m = (await import(resolveSpecifier("esm-only", dir))) as { v: string };
  assert.is(m.v, "esm");
  const x = (await import(resolveSpecifier("esm-only/sub/x", dir))) as { x: number };
  assert.is(x.x, 1);
});

test("CommonJS packages give module.exports as default", async () => {
  const m = (await import(resolveSpecifier("cjs-main", dir))) as { default: { v: string } };
  assert.is(m.default.v, "cjs");
});

test("Halo's own dependencies are found from any folder; builtins pass through", () => {
  assert.match(resolveSpecifier("apache-arrow", dir), /node_modules\/apache-arrow\//);
  assert.is(resolveSpecifier("node:fs", dir), "node:fs");
  assert.is(resolveSpecifier("path", dir), "path");
});

test("a missing package says how to install it", () => {
  assert.throws(() => resolveSpecifier("@nope/missing/x", dir), /npm install @nope\/missing/);
});

test.run();
