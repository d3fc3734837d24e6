// Runs TypeScript cells in the main realm (so apache-arrow's typed arrays keep working) with
// `vm.Script#runInThisContext({ breakOnSigint: true })`: SIGINT stops a synchronous busy loop
// and throws inside it, leaving every global intact. A pending `await` is stopped by racing
// the cell against its interrupt; `collect()` sees the cell's AbortSignal through src/cancel.ts.
import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import type { ErrorContent, Header, MimeBundle } from "../protocol/messages.ts";
import { compileCell, CellSyntaxError, RESULT_HOOK } from "./compile.ts";
import type { CompiledCell } from "./compile.ts";
import type { Position } from "./source-map.ts";
import { toBundle, toBundleNow } from "./bundle.ts";
import { IMPORT_HOOK, META_HOOK } from "./rewrite.ts";
import { resolveSpecifier } from "./resolve.ts";
import { formatTraceback, InterruptError } from "./traceback.ts";
import { installCellGlobals, loadRicherTable, settleDisplays } from "./globals.ts";
import { ensureTypeScript, importSrc, srcUrl } from "./src-bridge.ts";

export interface CellContext {
  seq: number;
  /** How tracebacks name the cell: "In[3]". */
  label: string;
  /** The execute_request's header: every output of the cell is its child. */
  parent: Partial<Header>;
  identities: Buffer[];
  allowStdin: boolean;
  controller: AbortController;
  startedAt: number;
  done: boolean;
  /** Ends a pending `await` with this error (interrupt, or an uncaught error in a callback). */
  fail?: (err: unknown) => void;
}

export interface ExecutorHost {
  publish(cell: CellContext | undefined, msgType: string, content: Record<string, unknown>): void;
  stream(cell: CellContext | undefined, name: "stdout" | "stderr", text: string): void;
  /** Asks the frontend for a line of input; undefined when interrupted. */
  requestInput(cell: CellContext, prompt: string, password: boolean): string | undefined;
  /** Marks the main thread as inside synchronous cell code (the transport then raises SIGINT). */
  setInSyncCode(inSync: boolean): void;
  log(text: string): void;
}

export type RunOutcome =
  | { status: "ok"; result?: MimeBundle }
  | { status: "error"; error: ErrorContent };

export class Executor {
  readonly cells = new AsyncLocalStorage<CellContext>();
  readonly compiled = new Map<number, { cell: CompiledCell; label: string; source: string }>();
  running: CellContext | undefined;
  last: CellContext | undefined;
  #halo: { loaded: boolean; value: unknown; error?: Error } = { loaded: false, value: undefined };

  constructor(
    readonly host: ExecutorHost,
    readonly notebookDir: string = process.cwd(),
    /** True when the process runs under tsx already (see src-bridge.ts). */
    tsxRegistered = true,
  ) {
    const g = globalThis as Record<string, unknown>;
    g[IMPORT_HOOK] = (spec: string) => this.importModule(String(spec));
    g[RESULT_HOOK] = (v: unknown) => v;
    g[META_HOOK] = {
      url: pathToFileURL(join(this.notebookDir, "notebook.ts")).href,
      dirname: this.notebookDir,
      filename: join(this.notebookDir, "notebook.ts"),
      resolve: (spec: string) => resolveSpecifier(spec, this.notebookDir),
    };
    installCellGlobals(
      this,
      createRequire(join(this.notebookDir, "notebook.js")),
      () => this.#haloValue(),
      tsxRegistered,
    );
  }

  /** `import` in a cell: resolved from the notebook's folder; TypeScript files load through tsx. */
  async importModule(spec: string): Promise<unknown> {
    const url = resolveSpecifier(spec, this.notebookDir);
    if (/\.[mc]?tsx?$/.test(url) || url.startsWith(srcUrl(""))) await ensureTypeScript();
    return import(url);
  }

  /** The cell whose code is running now: its async context first, else the one executing. */
  currentCell(): CellContext | undefined {
    return this.cells.getStore() ?? this.running ?? this.last;
  }

  async run(code: string, cell: CellContext): Promise<RunOutcome> {
    this.last = cell;
    let compiled: CompiledCell;
    try {
      compiled = compileCell(code);
    } catch (err) {
      if (err instanceof CellSyntaxError)
        return { status: "error", error: this.#syntaxError(err, code, cell.label) };
      throw err;
    }
    this.compiled.set(cell.seq, { cell: compiled, label: cell.label, source: code });
    this.running = cell;
    try {
      // Loading halo also gives danfo DataFrames their plan verbs (df.agent(...)).
      if (compiled.freeNames.has("halo") || compiled.freeNames.has("dfd")) await this.#loadHalo();
      if (compiled.freeNames.has("halo") || compiled.freeNames.has("dfd")) await loadRicherTable();
      const script = new vm.Script(compiled.code, { filename: cellFileName(cell.seq) });
      const failed = new Promise<never>((_, reject) => (cell.fail = reject));
      failed.catch(() => {});
      this.host.setInSyncCode(true);
      let value: unknown;
      try {
        value = this.cells.run(cell, () =>
          script.runInThisContext({ breakOnSigint: true, displayErrors: false }),
        );
      } finally {
        this.host.setInSyncCode(false);
      }
      if (compiled.isAsync) value = await Promise.race([value, failed]);
      if (cell.controller.signal.aborted) throw new InterruptError();
      const result = compiled.hasResult && value !== undefined ? await toBundle(value) : undefined;
      // display() calls whose bundles render asynchronously publish before this cell's idle.
      await settleDisplays();
      return { status: "ok", result };
    } catch (err) {
      return { status: "error", error: this.formatError(err) };
    } finally {
      cell.done = true;
      cell.fail = undefined;
      if (this.running === cell) this.running = undefined;
    }
  }

  /** Stops the running cell: from an interrupt_request (with the time it arrived) or SIGINT. */
  interrupt(requestedAt = Date.now()): void {
    const cell = this.running;
    if (!cell || cell.done || requestedAt < cell.startedAt) return;
    const err = new InterruptError();
    cell.controller.abort(err);
    cell.fail?.(err);
  }

  /** An exception from a callback or an unhandled rejection: fails the cell that started it
   *  while it runs; after that, it is shown as stderr like other late output (the cell running
   *  then, or the next one: kernel/late-output.ts). */
  reportUncaught(err: unknown): void {
    const cell = this.cells.getStore() ?? this.running;
    if (cell && !cell.done && cell.fail) {
      cell.fail(err);
      return;
    }
    const e = this.formatError(err);
    const origin = cell ? ` (from ${cell.label})` : "";
    this.host.log(`uncaught error after its cell finished${origin}: ${e.ename}: ${e.evalue}`);
    this.host.stream(
      cell,
      "stderr",
      `Uncaught in a callback${origin}:\n${e.traceback.join("\n")}\n`,
    );
  }

  /** user_expressions: evaluated synchronously after the cell, each with its own status. */
  evaluateExpression(expression: string): Record<string, unknown> {
    try {
      const compiled = compileCell(expression);
      if (compiled.isAsync) throw new Error("user_expressions cannot await");
      const value = new vm.Script(compiled.code, {
        filename: "user-expression",
      }).runInThisContext();
      return { status: "ok", data: toBundleNow(value), metadata: {} };
    } catch (err) {
      return { status: "error", ...this.formatError(err) };
    }
  }

  formatError(err: unknown): ErrorContent {
    return formatTraceback(err, (seq, pos) => this.#mapFrame(seq, pos));
  }

  #mapFrame(
    seq: number,
    pos: Position,
  ): { label: string; pos: Position; line?: string } | undefined {
    const entry = this.compiled.get(seq);
    if (!entry) return undefined;
    const mapped = entry.cell.toSource(pos);
    if (!mapped) return undefined;
    return { label: entry.label, pos: mapped, line: entry.source.split("\n")[mapped.line - 1] };
  }

  #syntaxError(err: CellSyntaxError, code: string, label: string): ErrorContent {
    const traceback = [`SyntaxError: ${err.message}`];
    if (err.position) {
      const line = code.split("\n")[err.position.line - 1] ?? "";
      traceback.push(
        `    at ${label}:${err.position.line}:${err.position.column}`,
        `  ${line}`,
        `  ${" ".repeat(Math.max(0, err.position.column - 1))}^`,
      );
    }
    return { ename: "SyntaxError", evalue: err.message, traceback };
  }

  async #loadHalo(): Promise<void> {
    if (this.#halo.loaded) return;
    try {
      const mod = await importSrc("index.ts");
      this.#halo = { loaded: true, value: mod.halo };
      if (mod.halo === undefined)
        this.#halo.error = new Error(
          "`halo` is not available yet: src/index.ts exports no `halo` (the frame issue provides it)",
        );
    } catch (err) {
      this.#halo = { loaded: true, value: undefined, error: err as Error };
    }
  }

  #haloValue(): unknown {
    if (!this.#halo.loaded)
      throw new Error("`halo` is loaded when a cell mentions it: run the cell again");
    if (this.#halo.error) throw this.#halo.error;
    return this.#halo.value;
  }
}

export function cellFileName(seq: number): string {
  return `halo-cell-${seq}`;
}
