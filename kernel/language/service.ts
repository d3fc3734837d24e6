// Completion and inspection from the TypeScript language service (typescript 6.x: 7.x has no
// language service). The service sees one virtual file: the declarations of earlier cells that
// ran (the latest declaration of each name wins, as at run time), then the current code; plus
// ambient declarations of the cell globals. Its first use loads typescript, the lib and
// @types/node declarations and src/'s types (3.5-4.6 s of CPU): the kernel runs it on a worker
// thread (language/worker.ts) and warms it there once the kernel is idle.
import ts from "typescript";
import { join } from "node:path";
import { HALO_ROOT as ROOT } from "../paths.ts";
import type { Completion, Inspection, LanguageTools } from "./tools.ts";
import { globalsDeclarations } from "./globals-dts.ts";
import { inspectLiveValue, wordCursor } from "./live-value.ts";

const MAX_MATCHES = 500;

/** `liveValues`: fall back on the live value of an untyped name (only where the cells' values
 *  are: the main thread). */
export async function createLanguageTools(
  notebookDir = process.cwd(),
  o: { liveValues?: boolean } = {},
): Promise<LanguageTools> {
  const cellFile = join(notebookDir, "__halo_notebook__.ts");
  const globalsFile = join(notebookDir, "__halo_globals__.d.ts");
  const files = new Map<string, { text: string; version: number }>([
    [globalsFile, { text: globalsDeclarations(ROOT), version: 1 }],
    [cellFile, { text: "", version: 1 }],
  ]);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    esModuleInterop: true,
    lib: ["lib.es2023.d.ts"],
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules", "@types")],
    // Packages not in the notebook's folder come from Halo's own dependencies, as at run time.
    paths: { "*": [join(ROOT, "node_modules", "*"), join(ROOT, "node_modules", "@types", "*")] },
  };
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [...files.keys()],
    getScriptVersion: (f) => String(files.get(f)?.version ?? 0),
    getScriptSnapshot: (f) => {
      const v = files.get(f);
      if (v) return ts.ScriptSnapshot.fromString(v.text);
      const text = ts.sys.readFile(f);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => notebookDir,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => files.has(f) || ts.sys.fileExists(f),
    readFile: (f) => files.get(f)?.text ?? ts.sys.readFile(f),
    readDirectory: ts.sys.readDirectory,
    // node_modules may be a symlink: without realpath one package can load twice under two
    // paths, and module augmentations (df.agent() on danfo's DataFrame) miss the copy in use.
    realpath: ts.sys.realpath,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  const service = ts.createLanguageService(host, ts.createDocumentRegistry());

  /** Writes the virtual file; returns the offset of the current code inside it. */
  const update = (earlier: string[], code: string): number => {
    const prelude = earlierDeclarations(earlier, code);
    const entry = files.get(cellFile)!;
    entry.text = `${prelude}\n${code}\nexport {};\n`;
    entry.version++;
    return prelude.length + 1;
  };

  return {
    async complete(earlier, code, cursor): Promise<Completion> {
      const offset = update(earlier, code);
      let start = cursor;
      while (start > 0 && /[\w$]/.test(code[start - 1]!)) start--;
      let end = cursor;
      while (end < code.length && /[\w$]/.test(code[end]!)) end++;
      const prefix = code.slice(start, cursor);
      const info = service.getCompletionsAtPosition(cellFile, offset + cursor, {
        includeCompletionsWithInsertText: true,
        includeCompletionsForModuleExports: false,
      });
      const entries = (info?.entries ?? []).filter(
        (e) => e.name.startsWith(prefix) && !e.name.startsWith("__halo"),
      );
      entries.sort((a, b) =>
        a.sortText === b.sortText ? a.name.localeCompare(b.name) : a.sortText < b.sortText ? -1 : 1,
      );
      const seen = new Set<string>();
      const picked = entries
        .filter((e) => !seen.has(e.name) && seen.add(e.name) !== undefined)
        .slice(0, MAX_MATCHES);
      return {
        matches: picked.map((e) => e.name),
        start,
        end,
        metadata: {
          _jupyter_types_experimental: picked.map((e) => ({
            start,
            end,
            text: e.name,
            type: e.kind,
          })),
        },
      };
    },

    async inspect(earlier, code, cursor): Promise<Inspection> {
      const offset = update(earlier, code);
      const at = wordCursor(code, cursor);
      const quick = service.getQuickInfoAtPosition(cellFile, offset + at);
      if (quick) {
        const signature = ts.displayPartsToString(quick.displayParts);
        const docs = ts.displayPartsToString(quick.documentation);
        const tags = (quick.tags ?? [])
          .map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`)
          .join("\n");
        const text = [signature, docs, tags].filter(Boolean).join("\n\n");
        return {
          found: true,
          data: {
            "text/plain": text,
            "text/markdown": ["```typescript", signature, "```", docs, tags]
              .filter(Boolean)
              .join("\n"),
          },
        };
      }
      // Not typed (plain JavaScript values): show the live value of a dotted name, without calls.
      return o.liveValues === false ? { found: false } : inspectLiveValue(code, cursor);
    },
  };
}

/** Top-level statements of earlier cells that declare something, latest declaration of each
 *  name only (and none the current code redeclares), in their original order. */
export function earlierDeclarations(earlier: string[], current: string): string {
  const taken = new Set(
    declaredNames(ts.createSourceFile("c.ts", current, ts.ScriptTarget.Latest)).flatMap(
      (d) => d.names,
    ),
  );
  const kept: string[] = [];
  for (let i = earlier.length - 1; i >= 0; i--) {
    const sf = ts.createSourceFile(`e${i}.ts`, earlier[i]!, ts.ScriptTarget.Latest);
    const decls = declaredNames(sf);
    const cellKept: string[] = [];
    for (let j = decls.length - 1; j >= 0; j--) {
      const d = decls[j]!;
      if (d.names.length > 0 && d.names.every((n) => taken.has(n))) continue;
      d.names.forEach((n) => taken.add(n));
      cellKept.unshift(d.text);
    }
    kept.unshift(...cellKept);
  }
  return kept.join("\n");
}

function declaredNames(sf: ts.SourceFile): { names: string[]; text: string }[] {
  const out: { names: string[]; text: string }[] = [];
  for (const st of sf.statements) {
    const text = st.getText(sf);
    if (ts.isVariableStatement(st)) {
      const names: string[] = [];
      for (const d of st.declarationList.declarations) collectBindingNames(d.name, names);
      out.push({ names, text });
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st)) &&
      st.name
    ) {
      out.push({ names: [st.name.text], text });
    } else if (ts.isImportDeclaration(st) && st.importClause) {
      const names: string[] = [];
      const c = st.importClause;
      if (c.name) names.push(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings))
        names.push(c.namedBindings.name.text);
      if (c.namedBindings && ts.isNamedImports(c.namedBindings))
        for (const e of c.namedBindings.elements) names.push(e.name.text);
      out.push({ names, text });
    }
  }
  return out;
}

function collectBindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else
    for (const el of name.elements)
      if (!ts.isOmittedExpression(el)) collectBindingNames(el.name, out);
}
