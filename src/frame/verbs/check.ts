// Argument checks shared by the verbs: bad input fails at the call, naming the verb, the
// argument, what was given and what would work.
import { ERRORS_COLUMN } from "../../executor/types.ts";
import { showValue as describe } from "../../plan/show-value.ts";

/** The value as messages show it: the value itself, shortened (src/plan/show-value.ts). */
export { describe };

export function checkSpec(
  where: string,
  spec: unknown,
  allowed: readonly string[],
  required: readonly string[],
): Record<string, unknown> {
  if (!spec || typeof spec !== "object" || Array.isArray(spec))
    throw new TypeError(
      `${where}: expected an options object { ${required.join(", ")}, ... }, got ${describe(spec)}`,
    );
  const s = spec as Record<string, unknown>;
  const unknown = Object.keys(s).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new TypeError(
      `${where}: unknown option(s) ${unknown.join(", ")}; the options are ${allowed.join(", ")}`,
    );
  const missing = required.filter((k) => s[k] === undefined);
  if (missing.length)
    throw new TypeError(`${where}: missing required option(s) ${missing.join(", ")}`);
  return s;
}

export function checkString(
  where: string,
  name: string,
  v: unknown,
  { empty = false } = {},
): string {
  if (typeof v !== "string")
    throw new TypeError(`${where}: ${name} must be a string, got ${describe(v)}`);
  if (!empty && v.trim() === "") throw new TypeError(`${where}: ${name} must not be empty`);
  return v;
}

export function optionalString(where: string, name: string, v: unknown): string | undefined {
  return v === undefined ? undefined : checkString(where, name, v, { empty: true });
}

export function checkOutput(where: string, v: unknown): string {
  const name = checkString(where, "output", v);
  if (name === ERRORS_COLUMN)
    throw new TypeError(
      `${where}: output '${ERRORS_COLUMN}' is reserved for row errors; choose another name`,
    );
  return name;
}

export function checkInteger(
  where: string,
  name: string,
  v: unknown,
  min: number,
  max: number,
): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new TypeError(
      `${where}: ${name} must be an integer from ${min} to ${max}, got ${describe(v)}`,
    );
  return v;
}

export function checkNumber(
  where: string,
  name: string,
  v: unknown,
  min: number,
  max: number,
): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
    throw new TypeError(
      `${where}: ${name} must be a number from ${min} to ${max}, got ${describe(v)}`,
    );
  return v;
}

export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== "boolean")
    throw new TypeError(`${where}: ${name} must be true or false, got ${describe(v)}`);
  return v;
}

export function checkStringList(
  where: string,
  name: string,
  v: unknown,
  { single = false } = {},
): string[] {
  const list = single && typeof v === "string" ? [v] : v;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((x) => typeof x === "string" && x !== "")
  )
    throw new TypeError(
      `${where}: ${name} must be a non-empty array of non-empty strings${single ? " (or one string)" : ""}, got ${describe(v)}`,
    );
  if (new Set(list).size !== list.length)
    throw new TypeError(`${where}: ${name} has duplicates: ${JSON.stringify(list)}`);
  return [...list];
}

export function checkFunction(
  where: string,
  name: string,
  v: unknown,
): (...args: never[]) => unknown {
  if (typeof v !== "function")
    throw new TypeError(`${where}: ${name} must be a function, got ${describe(v)}`);
  return v as (...args: never[]) => unknown;
}

/** Columns that must exist in the frame (unknown schema: checked when the plan runs). */
export function checkColumnsExist(where: string, wanted: string[], columns: string[] | null): void {
  if (columns === null) return;
  const missing = wanted.filter((c) => !columns.includes(c));
  if (missing.length)
    throw new Error(
      `${where}: no column(s) ${missing.map((m) => `'${m}'`).join(", ")} in this frame; the columns are: ${columns.join(", ") || "(none)"}`,
    );
}
