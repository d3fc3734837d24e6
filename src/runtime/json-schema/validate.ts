// Checks a JSON value against a normalized schema (schema-node.ts), with JSON Schema's meaning:
// what an answer from a remote engine (halo.openai) must pass before it becomes a row's typed
// values, and the check every locally decoded answer passes by construction. The tests hold it
// to ajv, a full validator.
import type { JsonValue, SchemaNode } from "./schema-node.ts";

export interface SchemaViolation {
  /** JSON pointer of the offending value ("" for the whole answer). */
  path: string;
  message: string;
}

/** The first place `value` breaks `node`, or undefined when it is valid. */
export function firstError(
  node: SchemaNode,
  value: unknown,
  path = "",
): SchemaViolation | undefined {
  const fail = (message: string) => ({ path, message });
  switch (node.kind) {
    case "null":
      return value === null ? undefined : fail("must be null");
    case "boolean":
      return typeof value === "boolean" ? undefined : fail("must be a boolean");
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return fail("must be a number");
      if (node.integer && !Number.isInteger(value)) return fail("must be an integer");
      const { min, max } = node;
      if (min && (min.exclusive ? !(value > min.value) : !(value >= min.value)))
        return fail(`must be ${min.exclusive ? ">" : ">="} ${min.value}`);
      if (max && (max.exclusive ? !(value < max.value) : !(value <= max.value)))
        return fail(`must be ${max.exclusive ? "<" : "<="} ${max.value}`);
      return undefined;
    }
    case "string": {
      if (typeof value !== "string") return fail("must be a string");
      const length = [...value].length; // code points, as JSON Schema counts
      if (length < node.minLength) return fail(`must have at least ${node.minLength} characters`);
      if (node.maxLength !== null && length > node.maxLength)
        return fail(`must have at most ${node.maxLength} characters`);
      if (node.pattern !== null && !new RegExp(node.pattern, "u").test(value))
        return fail(`must match the pattern ${node.pattern}`);
      return undefined;
    }
    case "literal":
      return node.values.some((v) => jsonEqual(v, value))
        ? undefined
        : fail(`must be one of ${node.values.map((v) => JSON.stringify(v)).join(", ")}`);
    case "array": {
      if (!Array.isArray(value)) return fail("must be an array");
      if (value.length < node.minItems) return fail(`must have at least ${node.minItems} items`);
      if (node.maxItems !== null && value.length > node.maxItems)
        return fail(`must have at most ${node.maxItems} items`);
      for (let i = 0; i < value.length; i++) {
        const e = firstError(node.items, value[i], `${path}/${i}`);
        if (e) return e;
      }
      return undefined;
    }
    case "object": {
      if (!isPlainObject(value)) return fail("must be an object");
      for (const p of node.properties) {
        if (!(p.name in value)) {
          if (p.required) return fail(`must have the property "${p.name}"`);
          continue;
        }
        const e = firstError(p.schema, value[p.name], `${path}/${p.name}`);
        if (e) return e;
      }
      if (!node.additional) {
        const known = new Set(node.properties.map((p) => p.name));
        const extra = Object.keys(value).find((k) => !known.has(k));
        if (extra !== undefined) return fail(`must not have the property "${extra}"`);
      }
      return undefined;
    }
    case "anyOf": {
      const errors = node.options.map((o) => firstError(o, value, path));
      if (errors.some((e) => e === undefined)) return undefined;
      return fail(`matches no option: ${errors.map((e) => e!.message).join("; or ")}`);
    }
  }
}

/**
 * An answer's text as the typed value its schema describes: parsed as JSON and validated.
 * Throws an Error naming what is wrong (the row's error when it happens in a run).
 */
export function parseTypedAnswer(text: string, node: SchemaNode): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw new Error(`the answer is not JSON: ${preview(text)}`);
  }
  const error = firstError(node, value);
  if (error)
    throw new Error(
      `the answer breaks the schema at ${error.path || "/"}: ${error.message} (answer: ${preview(text)})`,
    );
  return value;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}
