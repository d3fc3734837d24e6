// The JSON Schema subset Halo decodes to, as a small tree: what normalize.ts makes of a user's
// schema, what schema-nfa.ts compiles into an automaton and validate.ts checks answers against.
// Plain data, so a schema's canonical JSON keys every cache.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** A numeric bound; `exclusive` for exclusiveMinimum / exclusiveMaximum. */
export interface Bound {
  value: number;
  exclusive: boolean;
}

export interface PropertyNode {
  name: string;
  required: boolean;
  schema: SchemaNode;
}

export type SchemaNode =
  | {
      kind: "object";
      properties: PropertyNode[];
      /** Whether an answer may hold undeclared keys (generation never writes any). */
      additional: boolean;
    }
  | { kind: "array"; items: SchemaNode; minItems: number; maxItems: number | null }
  | { kind: "string"; minLength: number; maxLength: number | null; pattern: string | null }
  | { kind: "number"; integer: boolean; min: Bound | null; max: Bound | null }
  | { kind: "boolean" }
  | { kind: "null" }
  /** `enum` / `const`: exactly these JSON values. */
  | { kind: "literal"; values: JsonValue[] }
  | { kind: "anyOf"; options: SchemaNode[] };

/** The column type a schema's value gets in a result: what `halo.lastRun` and explain show. */
export function dtypeOf(node: SchemaNode): string {
  switch (node.kind) {
    case "number":
      return node.integer ? "integer" : "number";
    case "literal": {
      const kinds = new Set(node.values.map(jsonKind));
      return [...kinds].join("|");
    }
    case "anyOf":
      return [...new Set(node.options.flatMap((o) => dtypeOf(o).split("|")))].join("|");
    default:
      return node.kind;
  }
}

function jsonKind(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
