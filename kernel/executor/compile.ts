// TypeScript cell -> a script for `vm.Script`: esbuild strips types (about 2 ms per cell against
// 25 ms for the TypeScript compiler), `rewriteCell` makes bindings persistent, and the result is
// wrapped in a function on the cell's first line so line numbers stay the cell's own.
import { esbuild } from "./lazy-deps.ts";
import { decodeMappings, originalPosition } from "./source-map.ts";
import type { DecodedMap, Position } from "./source-map.ts";
import { rewriteCell, toGeneratedOffset } from "./rewrite.ts";
import type { Edit } from "./rewrite.ts";

export interface CompiledCell {
  code: string;
  isAsync: boolean;
  hasResult: boolean;
  freeNames: Set<string>;
  /** Maps a (line, column) of `code`, as V8 reports it, to the cell's TypeScript; undefined
   *  for the wrapper's own closing line. */
  toSource(pos: Position): Position | undefined;
}

/** A syntax error in the cell, with the position in the cell's TypeScript. */
export class CellSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position | undefined,
  ) {
    super(message);
    this.name = "SyntaxError";
  }
}

/** Identity function the fallback below wraps a lone expression in. */
export const RESULT_HOOK = "__haloResult";

function transpile(source: string): { js: string; map: DecodedMap } {
  try {
    const out = esbuild().transformSync(source, {
      loader: "ts",
      sourcefile: "cell.ts",
      sourcemap: "external",
      target: "es2023",
      // Without it esbuild drops imports that look unused (type-only by its guess).
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      logLevel: "silent",
    });
    return {
      js: out.code,
      map: decodeMappings((JSON.parse(out.map) as { mappings: string }).mappings),
    };
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { line: number; column: number } }[] };
    const first = e.errors?.[0];
    if (!first) throw err;
    const loc = first.location;
    throw new CellSyntaxError(
      first.text,
      loc ? { line: loc.line, column: loc.column + 1 } : undefined,
    );
  }
}

function rewrite(js: string, map: DecodedMap) {
  try {
    return rewriteCell(js);
  } catch (err) {
    // esbuild accepted it but acorn did not: report acorn's position through the map.
    const e = err as Error & { loc?: { line: number; column: number } };
    const pos = e.loc
      ? originalPosition(map, { line: e.loc.line, column: e.loc.column + 1 })
      : undefined;
    throw new CellSyntaxError(e.message.replace(/ \(\d+:\d+\)$/, ""), pos);
  }
}

export function compileCell(source: string): CompiledCell {
  let { js, map } = transpile(source);
  let rewritten = rewrite(js, map);
  // esbuild folds `"a" + "b"` into a string statement and drops it, losing the cell's value: a
  // cell that is one expression is compiled again as an argument, which esbuild keeps.
  let shift = 0;
  if (!rewritten.hasResult && source.trim() !== "") {
    try {
      const again = transpile(`${RESULT_HOOK}(${source}\n)`);
      const r = rewrite(again.js, again.map);
      if (r.hasResult) {
        ({ js, map } = again);
        rewritten = r;
        shift = RESULT_HOOK.length + 1;
      }
    } catch {
      // not a single expression: the cell has no value
    }
  }

  const prefix = `(${rewritten.isAsync ? "async " : ""}function () {${rewritten.prologue}`;
  const code = `${prefix}${rewritten.body}\n}).call(globalThis)`;
  const lineStarts = [0];
  for (let i = 0; i < rewritten.body.length; i++)
    if (rewritten.body[i] === "\n") lineStarts.push(i + 1);
  const jsLineStarts = [0];
  for (let i = 0; i < js.length; i++) if (js[i] === "\n") jsLineStarts.push(i + 1);

  return {
    code,
    isAsync: rewritten.isAsync,
    hasResult: rewritten.hasResult,
    freeNames: rewritten.freeNames,
    toSource(pos: Position): Position | undefined {
      if (pos.line > lineStarts.length) return undefined;
      const column = pos.line === 1 ? Math.max(1, pos.column - prefix.length) : pos.column;
      const lineStart = lineStarts[pos.line - 1];
      if (lineStart === undefined) return pos;
      const generated = toGeneratedOffset(rewritten.edits as Edit[], lineStart + column - 1);
      let line = 0;
      while (line + 1 < jsLineStarts.length && jsLineStarts[line + 1]! <= generated) line++;
      const mapped = originalPosition(map, {
        line: line + 1,
        column: generated - jsLineStarts[line]! + 1,
      });
      return mapped ?? pos;
    },
  };
}
