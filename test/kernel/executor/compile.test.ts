import { test } from "uvu";
import * as assert from "uvu/assert";
import vm from "node:vm";
import { compileCell, CellSyntaxError } from "../../../kernel/executor/compile.ts";

test("declarations become global assignments; the last expression is the result", () => {
  const c = compileCell(
    "const a: number = 1, b = 2;\nlet c;\nvar d;\nclass K {}\nfunction f() { return a + b }\nf()",
  );
  assert.ok(c.hasResult);
  assert.not.ok(c.isAsync);
  const g = globalThis as Record<string, unknown>;
  g.d = "kept";
  const value = new vm.Script(c.code).runInThisContext();
  assert.is(value, 3);
  assert.is(g.a, 1);
  assert.is(g.c, undefined);
  assert.is(g.d, "kept"); // `var d;` keeps an existing value, as JavaScript does
  assert.type(g.K, "function");
  assert.type(g.f, "function");
});

test("destructuring, imports and top-level await make an async cell", () => {
  const c = compileCell(
    "import fs, { readFileSync as rf } from 'node:fs';\nimport * as p from 'node:path';\nconst { x, y: [z] } = { x: 1, y: [2] };\nawait 0;\nx + z",
  );
  assert.ok(c.isAsync);
  assert.match(c.code, /\(\{ default: fs, readFileSync: rf \} = await __haloImport\("node:fs"\)\)/);
  assert.match(c.code, /p = await __haloImport\("node:path"\)/);
  assert.match(c.code, /\(\{ x, y: \[z\] \} = \{ x: 1, y: \[2\] \}\)/);
});

test("a folded string expression still gives a result", () => {
  const c = compileCell('"a" + "b"');
  assert.ok(c.hasResult);
});

test("line numbers map back to the TypeScript, through stripped types", () => {
  const source =
    "interface P {\n  a: number;\n}\n\nconst p: P = { a: 1 };\nfunction boom(): never {\n  throw new Error('x');\n}\nboom();";
  const c = compileCell(source);
  let stack = "";
  try {
    new vm.Script(c.code, { filename: "halo-cell-1" }).runInThisContext();
  } catch (err) {
    stack = (err as Error).stack ?? "";
  }
  const frames = [...stack.matchAll(/halo-cell-1:(\d+):(\d+)/g)].map((m) =>
    c.toSource({ line: Number(m[1]), column: Number(m[2]) }),
  );
  assert.is(frames[0]!.line, 7);
  assert.is(frames[1]!.line, 9);
});

test("syntax errors carry the cell position", () => {
  try {
    compileCell("const a = 1;\nlet = = 2;");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CellSyntaxError);
    assert.is((err as CellSyntaxError).position?.line, 2);
  }
});

test.run();
