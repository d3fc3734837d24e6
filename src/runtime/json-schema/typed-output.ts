// What the rest of Halo asks of a schema: the `.agent({ schema })` check (convert, normalize,
// compile once so every error shows at `.agent()` time), the decoded answer's columns and their
// types, and the parse + validate step that turns an answer's text into values.
import { compileSchemaNfa } from "./schema-nfa.ts";
import { LazyDfa } from "./lazy-dfa.ts";
import { normalizeSchema, SchemaError, toJsonSchema } from "./normalize.ts";
import { PatternError } from "./pattern.ts";
import { dtypeOf, type JsonValue, type SchemaNode } from "./schema-node.ts";
import { parseTypedAnswer } from "./validate.ts";

export interface PreparedSchema {
  /** The JSON Schema sent to engines and kept in the plan (zod converted, `$schema` dropped). */
  json: Record<string, unknown>;
  node: SchemaNode;
  /** Bytes of the shortest valid answer: the fewest tokens it can take at worst. */
  minBytes: number;
}

const ALL_BYTES = new Uint8Array(256).fill(1);

/** Converts, normalizes and compiles a user's schema; throws SchemaError naming what is wrong. */
export function prepareSchema(schema: unknown): PreparedSchema {
  const json = toJsonSchema(schema);
  try {
    const node = normalizeSchema(json);
    const dfa = new LazyDfa(compileSchemaNfa(node), ALL_BYTES);
    return { json, node, minBytes: dfa.dist[dfa.start]! };
  } catch (error) {
    if (error instanceof SchemaError) throw error;
    if (error instanceof PatternError) throw new SchemaError("", error.message);
    throw new SchemaError("", (error as Error).message);
  }
}

const nodes = new Map<string, SchemaNode>();

/** The normalized form of a schema already checked by prepareSchema (memoized). */
export function schemaNodeOf(json: Record<string, unknown>): SchemaNode {
  const key = JSON.stringify(json);
  let node = nodes.get(key);
  if (!node) {
    node = normalizeSchema(json);
    nodes.set(key, node);
  }
  return node;
}

/** The columns an object schema spreads into (its properties, in order); undefined otherwise. */
export function objectColumns(node: SchemaNode): string[] | undefined {
  return node.kind === "object" ? node.properties.map((p) => p.name) : undefined;
}

/**
 * Column name -> type: each property's for spread columns (an optional property left out is
 * null), else the value's for `output`.
 */
export function columnDtypes(node: SchemaNode, output: string | undefined): Record<string, string> {
  if (output !== undefined) return { [output]: dtypeOf(node) };
  if (node.kind !== "object") return {};
  return Object.fromEntries(
    node.properties.map((p) => {
      const dtype = dtypeOf(p.schema);
      return [p.name, p.required || dtype.split("|").includes("null") ? dtype : `${dtype}|null`];
    }),
  );
}

/** An answer's text as its value (see parseTypedAnswer); throws when it breaks the schema. */
export function typedAnswer(json: Record<string, unknown>, text: string): JsonValue {
  return parseTypedAnswer(text, schemaNodeOf(json));
}
