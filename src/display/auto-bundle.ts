// What a value looks like in a notebook, for the kernel's `display(x)` and cell results:
// objects that know how to show themselves (DISPLAY_SYMBOL, sync or async) first, then tables
// (danfojs, arrow), else undefined and the kernel prints util.inspect text.
import { DISPLAY_SYMBOL, type MimeBundle } from "./host.ts";
import { dataFrameBundle } from "./table.ts";

function isTableLike(x: object): boolean {
  const o = x as Record<string, unknown>;
  const danfo = Array.isArray(o["columns"]) && Array.isArray(o["shape"]) && "values" in o;
  const arrow =
    typeof o["numRows"] === "number" && typeof o["getChildAt"] === "function" && "schema" in o;
  return danfo || arrow;
}

export async function bundleFor(value: unknown): Promise<MimeBundle | undefined> {
  if (value === null || (typeof value !== "object" && typeof value !== "function"))
    return undefined;
  const show = (value as { [DISPLAY_SYMBOL]?: unknown })[DISPLAY_SYMBOL];
  if (typeof show === "function") {
    const b = await (show as () => MimeBundle | Promise<MimeBundle>).call(value);
    if (!b || typeof b !== "object" || Array.isArray(b)) {
      throw new TypeError(
        "[Symbol.for('Jupyter.display')]() must return a mime bundle object such as " +
          `{ "text/plain": "..." }, got ${Array.isArray(b) ? "an array" : typeof b}`,
      );
    }
    return b;
  }
  if (isTableLike(value)) return dataFrameBundle(value);
  return undefined;
}
