// Turns a cell (already JavaScript, from esbuild) into a script that runs in the main realm with
// persistent top-level bindings: declarations become assignments to globals (so re-running a
// cell with `const x` works and later cells see `x`), imports become awaited dynamic imports
// resolved from the notebook's folder, and the last expression statement becomes the result.
// Every edit keeps the number of newlines, so line numbers survive; columns are mapped back
// through the edit list (see `toGeneratedOffset`).
import type * as acorn from "acorn";
import { acorn as loadAcorn } from "./lazy-deps.ts";

export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Rewritten {
  /** The cell body (to be wrapped by the caller's one-line prefix). */
  body: string;
  edits: Edit[];
  /** Statements at the very start of the wrapper: export hoisted function declarations. */
  prologue: string;
  /** True when the body needs an async wrapper (top-level await or an import). */
  isAsync: boolean;
  /** True when the last statement's value is returned. */
  hasResult: boolean;
  /** Names the cell reads or writes that are not declared inside it (to pre-load lazy globals). */
  freeNames: Set<string>;
}

// Our rewritten `import` statements and `import()` calls go through this global.
export const IMPORT_HOOK = "__haloImport";
export const META_HOOK = "__haloImportMeta";

type AnyNode = acorn.Node & Record<string, unknown>;

export function rewriteCell(js: string): Rewritten {
  const ast = loadAcorn().parse(js, {
    ecmaVersion: "latest",
    sourceType: "module",
    allowAwaitOutsideFunction: true,
    allowReturnOutsideFunction: true,
  }) as unknown as acorn.Program;
  const edits: Edit[] = [];
  const hoisted: string[] = [];
  let isAsync = false;
  let hasResult = false;
  const freeNames = new Set<string>();
  const src = (n: acorn.Node) => js.slice(n.start, n.end);

  // Walk everything for `await` outside functions, `import()`, `import.meta`, identifiers.
  const walk = (node: AnyNode, fnDepth: number): void => {
    switch (node.type) {
      case "AwaitExpression":
        if (fnDepth === 0) isAsync = true;
        break;
      case "ForOfStatement":
        if (node.await && fnDepth === 0) isAsync = true;
        break;
      case "ImportExpression":
        edits.push({ start: node.start, end: node.start + "import".length, text: IMPORT_HOOK });
        break;
      case "MetaProperty":
        if (src(node) === "import.meta")
          edits.push({ start: node.start, end: node.end, text: META_HOOK });
        break;
      case "Identifier":
        freeNames.add(node.name as string);
        break;
    }
    const inner =
      node.type === "FunctionDeclaration" ||
      node.type === "FunctionExpression" ||
      node.type === "ArrowFunctionExpression"
        ? fnDepth + 1
        : fnDepth;
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v)
          if (c && typeof c === "object" && typeof (c as AnyNode).type === "string")
            walk(c as AnyNode, inner);
      } else if (v && typeof v === "object" && typeof (v as AnyNode).type === "string")
        walk(v as AnyNode, inner);
    }
  };

  const body = ast.body as AnyNode[];
  for (const stmt of body) walk(stmt, 0);

  const rewriteDeclaration = (decl: acorn.VariableDeclaration, start: number): void => {
    const first = decl.declarations[0]!;
    edits.push({ start, end: first.start, text: "(" });
    for (const d of decl.declarations) {
      if (!d.init) {
        // `var x;` keeps an existing value, as JavaScript does; `let x;` resets it.
        edits.push({
          start: d.id.end,
          end: d.id.end,
          text: decl.kind === "var" ? ` = globalThis.${src(d.id)}` : " = void 0",
        });
      }
    }
    const last = decl.declarations[decl.declarations.length - 1]!;
    edits.push({ start: last.end, end: last.end, text: ")" });
  };

  body.forEach((stmt, i) => {
    const isLast = i === body.length - 1;
    let node = stmt;
    if (node.type === "ExportNamedDeclaration" || node.type === "ExportDefaultDeclaration") {
      const declaration = node.declaration as AnyNode | null;
      if (!declaration) {
        edits.push({ start: node.start, end: node.end, text: keepNewlines(src(node), "") });
        return;
      }
      edits.push({ start: node.start, end: declaration.start, text: "" });
      node = declaration;
    }
    switch (node.type) {
      case "VariableDeclaration":
        rewriteDeclaration(node as unknown as acorn.VariableDeclaration, node.start);
        break;
      case "FunctionDeclaration": {
        const id = (node as unknown as acorn.FunctionDeclaration).id;
        if (id) hoisted.push(`globalThis.${id.name} = ${id.name};`);
        break;
      }
      case "ClassDeclaration": {
        const id = (node as unknown as acorn.ClassDeclaration).id;
        if (id) {
          edits.push({ start: node.start, end: node.start, text: `${id.name} = ` });
          edits.push({ start: node.end, end: node.end, text: ";" });
        }
        break;
      }
      case "ImportDeclaration": {
        isAsync = true;
        edits.push({
          start: node.start,
          end: node.end,
          text: keepNewlines(
            src(node),
            importToAssignment(node as unknown as acorn.ImportDeclaration),
          ),
        });
        break;
      }
      case "ExpressionStatement":
        if (isLast) {
          const expr = node.expression as AnyNode;
          hasResult = true;
          edits.push({ start: expr.start, end: expr.start, text: "return (" });
          edits.push({ start: expr.end, end: expr.end, text: ")" });
        }
        break;
    }
  });

  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let at = 0;
  for (const e of edits) {
    out += js.slice(at, e.start) + e.text;
    at = e.end;
  }
  out += js.slice(at);
  return { body: out, edits, prologue: hoisted.join(" "), isAsync, hasResult, freeNames };
}

function importToAssignment(node: acorn.ImportDeclaration): string {
  const source = JSON.stringify(node.source.value);
  const load = `await ${IMPORT_HOOK}(${source})`;
  if (node.specifiers.length === 0) return `${load};`;
  const parts: string[] = [];
  let namespace: string | undefined;
  for (const s of node.specifiers) {
    if (s.type === "ImportNamespaceSpecifier") namespace = s.local.name;
    else if (s.type === "ImportDefaultSpecifier") parts.push(`default: ${s.local.name}`);
    else {
      const imported =
        s.imported.type === "Identifier" ? s.imported.name : JSON.stringify(s.imported.value);
      parts.push(`${imported}: ${s.local.name}`);
    }
  }
  if (namespace && parts.length === 0) return `${namespace} = ${load};`;
  if (namespace) return `(${namespace} = ${load}, { ${parts.join(", ")} } = ${namespace});`;
  return `({ ${parts.join(", ")} } = ${load});`;
}

/** Appends the newlines `original` had, so the line count is unchanged. */
function keepNewlines(original: string, replacement: string): string {
  const want = original.split("\n").length - 1;
  const have = replacement.split("\n").length - 1;
  return replacement + "\n".repeat(Math.max(0, want - have));
}

/** Maps an offset in the rewritten body back to the offset in esbuild's output. */
export function toGeneratedOffset(edits: Edit[], offset: number): number {
  let delta = 0;
  for (const e of edits) {
    const newStart = e.start + delta;
    if (offset < newStart) break;
    if (offset < newStart + e.text.length) return e.start;
    delta += e.text.length - (e.end - e.start);
  }
  return offset - delta;
}
