// Canonical JSON and hashes for signatures. Signatures must be stable across cells and sessions,
// so they hash data (sorted keys, explicit encodings of what JSON loses), never object identity.
import { createHash } from "node:crypto";

/** JSON with sorted object keys; NaN, infinities, bigints, dates and undefined kept distinct. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

function write(v: unknown, out: string[]): void {
  if (v === null) out.push("null");
  else if (v === undefined) out.push('{"$u":1}');
  else if (typeof v === "number")
    out.push(Number.isFinite(v) ? JSON.stringify(v) : `{"$n":"${v}"}`);
  else if (typeof v === "string" || typeof v === "boolean") out.push(JSON.stringify(v));
  else if (typeof v === "bigint") out.push(`{"$b":"${v}"}`);
  else if (v instanceof Date) out.push(`{"$d":${JSON.stringify(v.toISOString())}}`);
  else if (typeof v === "function") out.push(`{"$f":${JSON.stringify(v.toString())}}`);
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    out.push("[");
    const arr = Array.from(v as ArrayLike<unknown>);
    for (let i = 0; i < arr.length; i++) {
      if (i) out.push(",");
      write(arr[i], out);
    }
    out.push("]");
  } else if (typeof v === "object") {
    out.push("{");
    const keys = Object.keys(v as object).sort();
    keys.forEach((k, i) => {
      if (i) out.push(",");
      out.push(JSON.stringify(k), ":");
      write((v as Record<string, unknown>)[k], out);
    });
    out.push("}");
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
