// The globals a cell sees: `display` (with .html/.markdown/.svg/.json/.png/.vegalite), `clearOutput`,
// `input`/`prompt`, `require`, and lazy `dfd` and `halo` (importing danfojs-node costs about 2 s,
// so it loads on first use; kernel start stays under 1 s).
import { createRequire } from "node:module";
import { join } from "node:path";
import { HALO_ROOT } from "../paths.ts";
import type { MimeBundle } from "../protocol/messages.ts";
import { toBundle } from "./bundle.ts";
import type { Executor } from "./executor.ts";
import { setFrameRenderer } from "./frame-table.ts";
import { configureSrcBridge, importSrc } from "./src-bridge.ts";

export interface DisplayOptions {
  /** With an id, a later `{ id, update: true }` replaces this output in place. */
  id?: string;
  update?: boolean;
  metadata?: Record<string, unknown>;
}

/** A plain object whose keys all look like mime types is taken as a ready bundle. */
function isBundle(v: unknown): v is MimeBundle {
  if (
    !v ||
    typeof v !== "object" ||
    Array.isArray(v) ||
    Object.getPrototypeOf(v) !== Object.prototype
  )
    return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^[a-z]+\/[\w.+-]+$/i.test(k));
}

export function installCellGlobals(
  executor: Executor,
  requireFromNotebook: NodeJS.Require,
  halo: () => unknown,
  tsxRegistered: boolean,
): void {
  const showBundle = (data: MimeBundle, options: DisplayOptions = {}): void => {
    const cell = executor.currentCell();
    const transient = options.id ? { display_id: options.id } : {};
    if (options.update) {
      if (!options.id)
        throw new Error("display(value, { update: true }) needs the id given to the first display");
      executor.host.publish(cell, "update_display_data", {
        data,
        metadata: options.metadata ?? {},
        transient,
      });
    } else
      executor.host.publish(cell, "display_data", {
        data,
        metadata: options.metadata ?? {},
        transient,
      });
  };
  // Published when rendered; the executor waits for it before the cell's reply (settleDisplays).
  const showWhenRendered = (bundle: Promise<MimeBundle>, options?: DisplayOptions) => {
    const shown = bundle.then((b) => showBundle(b, options));
    pendingDisplays.add(shown);
    void shown.finally(() => pendingDisplays.delete(shown)).catch(() => {});
    return shown;
  };
  const display = (value: unknown, options?: DisplayOptions): Promise<void> | void => {
    const bundle = isBundle(value) ? value : toBundle(value);
    if (!(bundle instanceof Promise)) return showBundle(bundle, options);
    return showWhenRendered(bundle, options);
  };
  const typed =
    (mime: string, wrap: (v: unknown) => unknown = (v) => v) =>
    (value: unknown, options?: DisplayOptions) =>
      showBundle(
        {
          [mime]: wrap(value),
          "text/plain": typeof value === "string" ? value : JSON.stringify(value),
        },
        options,
      );
  Object.assign(display, {
    html: typed("text/html"),
    markdown: typed("text/markdown"),
    svg: typed("image/svg+xml"),
    json: typed("application/json"),
    // Rendered to SVG too (and HTML with it inline): the classic notebook and nbconvert have no
    // vega-lite renderer and would show the spec as JSON. Waited for like any async display.
    vegalite: (spec: unknown, options?: DisplayOptions) => {
      const bundle = importSrc("display/chart-bundle.ts").then(
        (m) => (m.chartBundle as (s: unknown) => Promise<MimeBundle>)(spec),
        (err: unknown) => {
          throw new Error(`display.vegalite: could not load the chart renderer: ${String(err)}`);
        },
      );
      return showWhenRendered(bundle, options);
    },
    png: typed("image/png", (v) =>
      typeof v === "string" ? v : Buffer.from(v as Uint8Array).toString("base64"),
    ),
    text: (value: unknown, options?: DisplayOptions) =>
      showBundle({ "text/plain": String(value) }, options),
  });

  const clearOutput = (options: { wait?: boolean } = {}): void =>
    executor.host.publish(executor.currentCell(), "clear_output", { wait: options.wait ?? false });

  const input = (prompt = "", password = false): string => {
    const cell = executor.currentCell();
    if (!cell || cell.done) throw new Error("input() can only be called while a cell runs");
    if (!cell.allowStdin)
      throw new Error(
        "input() needs a frontend that accepts input requests (this one sent allow_stdin: false)",
      );
    const value = executor.host.requestInput(cell, String(prompt), password);
    if (value === undefined) {
      const err = new Error("input interrupted");
      err.name = "Interrupted";
      throw err;
    }
    return value;
  };

  const g = globalThis as Record<string, unknown>;
  const define = (name: string, get: () => unknown) =>
    Object.defineProperty(g, name, {
      configurable: true,
      enumerable: false,
      get,
      // A cell may reuse the name: the assignment then replaces the lazy global.
      set: (v: unknown) =>
        Object.defineProperty(g, name, {
          value: v,
          writable: true,
          configurable: true,
          enumerable: true,
        }),
    });
  g.display = display;
  g.clearOutput = clearOutput;
  g.input = input;
  g.prompt = (message = "", defaultValue = ""): string => input(message) || defaultValue;
  g.require = requireFromNotebook;
  let dfd: unknown;
  define("dfd", () => (dfd ??= loadDanfo(requireFromNotebook)));
  define("halo", halo);

  configureSrcBridge({
    tsxRegistered,
    displayHost: { rich: true, display: (bundle, options) => showBundle(bundle, options) },
    signal: () => (executor.cells.getStore() ?? executor.running)?.controller.signal,
  });
}

const pendingDisplays = new Set<Promise<void>>();

/** Waits for display() calls whose bundles were still rendering. */
export async function settleDisplays(): Promise<void> {
  while (pendingDisplays.size) await Promise.allSettled([...pendingDisplays]);
}

function loadDanfo(req: NodeJS.Require): unknown {
  try {
    return req("danfojs-node");
  } catch {
    // Not in the notebook's folder: Halo's own copy.
    return createRequire(join(HALO_ROOT, "package.json"))("danfojs-node");
  }
}

let richerTried = false;

/** src/display/table.ts (the display module) may export a richer DataFrame renderer; tried once,
 *  when a cell first mentions `dfd` or `halo`, so kernel start does not pay for it. */
export async function loadRicherTable(): Promise<void> {
  if (richerTried) return;
  richerTried = true;
  try {
    const mod = (await importSrc("display/table.ts")) as {
      dataFrameBundle?: (df: unknown) => MimeBundle;
    };
    if (typeof mod.dataFrameBundle === "function") setFrameRenderer(mod.dataFrameBundle);
  } catch {
    // not there (yet): the plain table serves
  }
}
