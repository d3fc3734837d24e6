// Canonical text of a call's arguments, so equal calls get equal cache keys whatever the key
// order of their objects.

/** JSON with object keys sorted; undefined fields dropped; bigint and Date written explicitly. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(normalize(value, new Set()));
}

function normalize(value: unknown, seen: Set<object>): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { $date: value.toISOString() };
  if (seen.has(value)) {
    throw new TypeError(
      "tool arguments contain a cycle: pass plain data (objects, arrays, values)",
    );
  }
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => normalize(v, seen));
  else if (ArrayBuffer.isView(value)) out = Array.from(value as unknown as ArrayLike<number>);
  else {
    const obj: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) obj[k] = normalize(v, seen);
    }
    out = obj;
  }
  seen.delete(value);
  return out;
}
