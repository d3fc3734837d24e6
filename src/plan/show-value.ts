// How an error message shows a value the user passed: the value itself, shortened, not its type
// (`maxTokens must be an integer from 1 to 8192, got 3.5`, never `got number`), so the message
// says what to change without a debugger.

/** Longer renderings are cut here, with "…": a message stays one readable line. */
const MAX_CHARS = 60;

function shorten(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
}

export function showValue(x: unknown): string {
  if (x === undefined) return "undefined";
  if (x === null) return "null";
  switch (typeof x) {
    case "string":
      return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
    case "number":
    case "boolean":
      return String(x);
    case "bigint":
      return `${x}n`;
    case "symbol":
      return x.toString();
    case "function":
      return x.name ? `a function (${x.name})` : "a function";
  }
  if (x instanceof Date)
    return `a Date (${Number.isNaN(x.getTime()) ? "invalid" : x.toISOString()})`;
  const proto = Object.getPrototypeOf(x) as object | null;
  if (!Array.isArray(x) && proto !== null && proto !== Object.prototype)
    return `a ${(proto.constructor as { name?: string } | undefined)?.name || "object"} object`;
  try {
    // Plain data: the JSON text (bigints as their digits) is what the user wrote.
    const json = JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
    return shorten(json);
  } catch {
    return Array.isArray(x) ? `an array of ${x.length}` : "an object"; // a cycle
  }
}
