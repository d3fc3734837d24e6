// Value -> Jupyter mime bundle. The richest representation wins: an object's own
// `Symbol.for("Jupyter.display")` or `toMimeBundle()`, then danfojs frames as tables, then
// `util.inspect` text.
import { inspect } from "node:util";
// The same symbol as src/display/host.ts's DISPLAY_SYMBOL (Symbol.for is global), without
// importing src/ at kernel start (see src-bridge.ts).
const DISPLAY_SYMBOL = Symbol.for("Jupyter.display");
import type { MimeBundle } from "../protocol/messages.ts";
import { frameBundle, isFrameLike } from "./frame-table.ts";

export function toBundle(value: unknown): MimeBundle {
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const v = value as Record<PropertyKey, unknown>;
    for (const method of [v[DISPLAY_SYMBOL], v.toMimeBundle]) {
      if (typeof method === "function") {
        const bundle = method.call(value) as unknown;
        if (bundle && typeof bundle === "object") return withText(bundle as MimeBundle, value);
      }
    }
    if (isFrameLike(value)) return frameBundle(value);
  }
  return { "text/plain": formatText(value) };
}

export function formatText(value: unknown): string {
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100, breakLength: 100 });
}

function withText(bundle: MimeBundle, value: unknown): MimeBundle {
  return "text/plain" in bundle ? bundle : { ...bundle, "text/plain": formatText(value) };
}
