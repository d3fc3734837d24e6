// Inspection of live values for names the language service cannot type (plain JavaScript
// values made by earlier cells). Runs on the main thread: the values live there, while the
// language service runs on its own worker (language/remote.ts).
import { inspect as inspectValue } from "node:util";
import type { Inspection } from "./tools.ts";

/** Jupyter sends the cursor after the word (`Math.max|`): look at the word's last character. */
export function wordCursor(code: string, cursor: number): number {
  if (cursor > 0 && !/[\w$]/.test(code[cursor] ?? "") && /[\w$]/.test(code[cursor - 1] ?? ""))
    return cursor - 1;
  return cursor;
}

/** The live value of the dotted name at the cursor, without running getters or calls. */
export function inspectLiveValue(code: string, cursor: number): Inspection {
  const name = dottedNameAt(code, wordCursor(code, cursor));
  const value = name ? lookupGlobal(name) : { found: false };
  if (!value.found) return { found: false };
  return {
    found: true,
    data: { "text/plain": `${name}: ${inspectValue(value.value, { depth: 1 })}` },
  };
}

function dottedNameAt(code: string, at: number): string | undefined {
  let s = at;
  while (s > 0 && /[\w$.]/.test(code[s - 1]!)) s--;
  let e = at;
  while (e < code.length && /[\w$]/.test(code[e]!)) e++;
  const name = code.slice(s, e).replace(/^\.+|\.+$/g, "");
  return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(name) ? name : undefined;
}

function lookupGlobal(name: string): { found: boolean; value?: unknown } {
  let v: unknown = globalThis;
  for (const part of name.split(".")) {
    if (v === null || v === undefined) return { found: false };
    const desc = Object.getOwnPropertyDescriptor(Object(v), part);
    // Never run getters (a lazy `dfd` would load danfojs for a hover).
    if (desc && "get" in desc && desc.get) return { found: false };
    if (!(part in Object(v))) return { found: false };
    v = (v as Record<string, unknown>)[part];
  }
  return { found: true, value: v };
}
