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
/** Halo: lazy agent workflows over DataFrames. */
declare const halo: typeof import(${index}) extends { halo: infer H } ? H : any;
type HaloLazyFrame = typeof halo extends { lazy(source: any): infer L } ? L : any;
type HaloVerbArg<K extends string> = HaloLazyFrame extends Record<K, (arg: infer A, ...rest: any[]) => any> ? A : any;
/** The plan verbs Halo adds to danfo DataFrames (src/frame/danfo-verbs.ts). danfo's DataFrame is
 *  a default-exported class with a string index signature, so a module augmentation does not
 *  reach it (df.agent typed as any): the kernel types frames made with dfd.DataFrame here. */
interface HaloFrameVerbs {
  /** This frame as the source of a lazy plan. */
  lazy(): HaloLazyFrame;
  /** An LLM call per row, planned lazily: runs at collect(). */
  agent(spec: HaloVerbArg<"agent">): HaloLazyFrame;
  /** A SQL query per row (DuckDB, or PostgreSQL by URL). */
  sql(spec: HaloVerbArg<"sql">): HaloLazyFrame;
  /** An HTTP request per row. */
  http(spec: HaloVerbArg<"http">): HaloLazyFrame;
  /** A JavaScript function per row. */
  tool(fn: (...args: any[]) => unknown, spec: any): HaloLazyFrame;
}
type HaloDanfo = typeof import("danfojs-node");
/** danfojs-node, loaded on first use; its DataFrames carry Halo's plan verbs. */
declare const dfd: Omit<HaloDanfo, "DataFrame"> & {
  DataFrame: {
    new (...args: ConstructorParameters<HaloDanfo["DataFrame"]>): InstanceType<HaloDanfo["DataFrame"]> & HaloFrameVerbs;
  } & HaloDanfo["DataFrame"];
};
`;
}
