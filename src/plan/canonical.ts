// Canonical JSON and hashes for signatures. Signatures must be stable across cells and sessions,
// so they hash data (sorted keys, explicit encodings of what JSON loses), never object identity.
import { createHash } from "node:crypto";

/**
 * JSON with sorted object keys; NaN, infinities, bigints, dates and undefined kept distinct.
 * Iterative, so a value nested deeper than the call stack (a hostile JSON query in `halo serve`)
 * is hashed like any other instead of failing the whole plan; a cycle is a clear TypeError.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  // Work left to do, last first: values to write, text to emit, containers to leave.
  const stack: unknown[] = [value];
  const open = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof Text) out.push(v.text);
    else if (v instanceof Leave) open.delete(v.container);
    else writeValue(v, out, stack, open);
  }
  return out.join("");
}

/** Text to emit as is (brackets, commas, `"key":`). */
class Text {
  constructor(readonly text: string) {}
}
/** The end of a container: it may appear again beside itself, just not inside itself. */
class Leave {
  constructor(readonly container: object) {}
}
const COMMA = new Text(",");
const CLOSE_ARRAY = new Text("]");
const CLOSE_OBJECT = new Text("}");

function writeValue(v: unknown, out: string[], stack: unknown[], open: Set<object>): void {
  if (v === null) out.push("null");
  else if (v === undefined) out.push('{"$u":1}');
  else if (typeof v === "number")
    out.push(Number.isFinite(v) ? JSON.stringify(v) : `{"$n":"${v}"}`);
  else if (typeof v === "string" || typeof v === "boolean") out.push(JSON.stringify(v));
  else if (typeof v === "bigint") out.push(`{"$b":"${v}"}`);
  else if (v instanceof Date)
    out.push(`{"$d":${Number.isNaN(v.getTime()) ? "null" : JSON.stringify(v.toISOString())}}`);
  else if (typeof v === "function") out.push(`{"$f":${JSON.stringify(v.toString())}}`);
  else if (typeof v === "object") {
    if (open.has(v))
      throw new TypeError(
        "canonicalJson: the value contains itself (a cycle); pass plain data (objects, arrays, values)",
      );
    open.add(v);
    stack.push(new Leave(v));
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      out.push("[");
      const arr = Array.from(v as ArrayLike<unknown>);
      stack.push(CLOSE_ARRAY);
      for (let i = arr.length - 1; i >= 0; i--) {
        stack.push(arr[i]);
        if (i) stack.push(COMMA);
      }
    } else {
      out.push("{");
      const keys = Object.keys(v).sort();
      stack.push(CLOSE_OBJECT);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((v as Record<string, unknown>)[keys[i]!]);
        stack.push(new Text(`${i ? "," : ""}${JSON.stringify(keys[i])}:`));
      }
    }
  } else out.push(JSON.stringify(String(v)));
}

/** 64 bits of SHA-256 in hex: short enough for explain, collisions negligible per session. */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 16);
}

/** Identity of a closure for signatures: its name and source text (captured values unseen). */
export function functionKey(fn: Function): string {
  return `${fn.name || "anonymous"}:${createHash("sha256").update(fn.toString()).digest("hex").slice(0, 16)}`;
}
