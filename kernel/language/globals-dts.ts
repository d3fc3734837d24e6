// Ambient declarations the language service sees for the cell globals (the executor defines the
// values: executor/globals.ts). `halo` takes its type from src/index.ts once it exports one.
import { join } from "node:path";

export function globalsDeclarations(root: string): string {
  const index = JSON.stringify(join(root, "src", "index.ts"));
  return `
interface HaloDisplayOptions {
  /** With an id, a later call with { id, update: true } replaces this output in place. */
  id?: string;
  update?: boolean;
  metadata?: Record<string, unknown>;
}
interface HaloDisplay {
  /** Shows a value with its richest representation: Symbol.for("Jupyter.display"), toMimeBundle(),
   *  a DataFrame table, or text. A plain object of mime types is shown as that bundle. */
  (value: unknown, options?: HaloDisplayOptions): void;
  html(html: string, options?: HaloDisplayOptions): void;
  markdown(markdown: string, options?: HaloDisplayOptions): void;
  svg(svg: string, options?: HaloDisplayOptions): void;
  json(value: unknown, options?: HaloDisplayOptions): void;
  /** A Vega-Lite v5 spec. */
  vegalite(spec: object, options?: HaloDisplayOptions): void;
  /** PNG bytes or base64 text. */
  png(data: Uint8Array | string, options?: HaloDisplayOptions): void;
  text(text: string, options?: HaloDisplayOptions): void;
}
/** Rich output for the running cell. */
declare const display: HaloDisplay;
/** Clears the cell's output; with wait: true, only when the next output arrives. */
declare function clearOutput(options?: { wait?: boolean }): void;
/** Asks the frontend for a line of text (blocks until answered). */
declare function input(prompt?: string, password?: boolean): string;
/** Like input(), returning defaultValue for an empty answer. */
declare function prompt(message?: string, defaultValue?: string): string;
/** danfojs-node, loaded on first use. */
declare const dfd: typeof import("danfojs-node");
/** Halo: lazy agent workflows over DataFrames. */
declare const halo: typeof import(${index}) extends { halo: infer H } ? H : any;
`;
}
