// Value -> Jupyter mime bundle. The richest representation wins: an object's own
// `Symbol.for("Jupyter.display")` or `toMimeBundle()`, then danfojs frames as tables, then
// `util.inspect` text.
import { inspect } from "node:util";
// The same symbol as src/display/host.ts's DISPLAY_SYMBOL (Symbol.for is global), without
// importing src/ at kernel start (see src-bridge.ts).
const DISPLAY_SYMBOL = Symbol.for("Jupyter.display");
import type { MimeBundle } from "../protocol/messages.ts";
import { frameBundle, isFrameLike } from "./frame-table.ts";

export function toBundle(value: unknown): MimeBundle | Promise<MimeBundle> {
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const v = value as Record<PropertyKey, unknown>;
    for (const method of [v[DISPLAY_SYMBOL], v.toMimeBundle]) {
      if (typeof method === "function") {
        const bundle = method.call(value) as unknown;
        // Rendering charts and drawings is asynchronous (vega's toSVG, elk's layout), so an
        // object may answer with a Promise of its bundle.
        if (isThenable(bundle))
          return Promise.resolve(bundle).then(
            (b) =>
              b && typeof b === "object" ? withText(b as MimeBundle, value) : textBundle(value),
            (err: unknown) => ({
              "text/plain": `${formatText(value)}\n(display failed: ${err instanceof Error ? err.message : String(err)})`,
            }),
          );
        if (bundle && typeof bundle === "object") return withText(bundle as MimeBundle, value);
      }
    }
    if (isFrameLike(value)) return frameBundle(value);
  }
  return textBundle(value);
}

/** For callers that cannot wait (user_expressions): the text form when the bundle is async. */
export function toBundleNow(value: unknown): MimeBundle {
  const bundle = toBundle(value);
  return isThenable(bundle) ? textBundle(value) : bundle;
}

function textBundle(value: unknown): MimeBundle {
  return { "text/plain": formatText(value) };
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return !!x && typeof (x as { then?: unknown }).then === "function";
}

export function formatText(value: unknown): string {
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100, breakLength: 100 });
}

function withText(bundle: MimeBundle, value: unknown): MimeBundle {
  return "text/plain" in bundle ? bundle : { ...bundle, "text/plain": formatText(value) };
}
