// A user's schema (a zod 4 schema, any Standard JSON Schema library's schema, or a plain JSON
// Schema object) to the subset Halo decodes to (schema-node.ts). Everything it cannot guarantee
// by construction is refused here, at `.agent()` time, naming the keyword and where it sits:
// a schema that compiled is one whose every answer the automaton can make valid.
import type { Bound, JsonValue, PropertyNode, SchemaNode } from "./schema-node.ts";
import { firstError } from "./validate.ts";

export class SchemaError extends Error {
  constructor(path: string, message: string) {
    super(`schema at ${path || "/"}: ${message}`);
    this.name = "SchemaError";
  }
}

/** Keywords that only describe a schema: accepted and ignored. */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "$defs",
  "definitions",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

const KEYWORDS: Record<string, readonly string[]> = {
  any: ["type", "enum", "const", "anyOf", "oneOf", "$ref"],
  object: ["properties", "required", "additionalProperties"],
  array: ["items", "minItems", "maxItems"],
  string: ["minLength", "maxLength", "pattern"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
};
const SUPPORTED = new Set(Object.values(KEYWORDS).flat());
const TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"];
/** Largest maxItems / maxLength / minItems compiled: each unrolls into automaton states. */
export const MAX_REPEAT = 4096;

/**
 * The JSON Schema of a user's schema: a Standard JSON Schema (zod 4 implements it; its converter
 * is zod's own toJSONSchema) is converted, a plain object is copied as JSON. Halo never imports
 * zod itself: a user passing a zod schema has it.
 */
export function toJsonSchema(schema: unknown): Record<string, unknown> {
  const standard = (schema as { "~standard"?: { vendor?: string; jsonSchema?: unknown } })?.[
    "~standard"
  ];
  if (standard && typeof standard === "object") {
    const converter = standard.jsonSchema as
      | { output?: (o: { target: string }) => Record<string, unknown> }
      | undefined;
    if (typeof converter?.output !== "function")
      throw new SchemaError(
        "",
        `this ${standard.vendor ?? "schema library"} schema has no JSON Schema converter (zod 4 and other Standard JSON Schema libraries have one): pass a JSON Schema object instead`,
      );
    let json: Record<string, unknown>;
    try {
      json = converter.output({ target: "draft-2020-12" });
    } catch (error) {
      throw new SchemaError(
        "",
        `${standard.vendor ?? "the schema library"} could not convert it to JSON Schema: ${(error as Error).message}`,
      );
    }
    return stripSchemaKey(JSON.parse(JSON.stringify(json)) as Record<string, unknown>);
  }
  if (!schema || typeof schema !== "object" || Array.isArray(schema))
    throw new SchemaError(
      "",
      `expected a zod schema or a JSON Schema object, got ${Array.isArray(schema) ? "an array" : typeof schema}`,
    );
  let copy: Record<string, unknown>;
  try {
    copy = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  } catch (error) {
    throw new SchemaError(
      "",
      `a JSON Schema must be plain JSON data (${(error as Error).message})`,
    );
  }
  return stripSchemaKey(copy);
}

function stripSchemaKey(json: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _drop, ...rest } = json;
  return rest;
}

/** The decodable form of a JSON Schema; throws SchemaError naming the keyword and its path. */
export function normalizeSchema(json: Record<string, unknown>): SchemaNode {
  return new Normalizer(json).node(json, "", []);
}

class Normalizer {
  constructor(private readonly root: Record<string, unknown>) {}

  node(raw: unknown, path: string, refs: string[]): SchemaNode {
    if (raw === true || raw === false || !raw || typeof raw !== "object" || Array.isArray(raw))
      throw new SchemaError(
        path,
        raw === true
          ? "`true` accepts any value: give it a type"
          : raw === false
            ? "`false` accepts no value"
            : `expected a schema object, got ${JSON.stringify(raw)}`,
      );
    const s = raw as Record<string, unknown>;
    for (const key of Object.keys(s))
      if (!SUPPORTED.has(key) && !ANNOTATIONS.has(key))
        throw new SchemaError(
          path,
          `unsupported keyword "${key}" (Halo decodes ${[...SUPPORTED].join(", ")}; see docs/api.md, Typed outputs)`,
        );
    if (s.$ref !== undefined) return this.ref(s, path, refs);
    if (s.enum !== undefined || s.const !== undefined) return this.literal(s, path, refs);
    if (s.anyOf !== undefined || s.oneOf !== undefined) return this.union(s, path, refs);
    const type = s.type;
    if (type === undefined)
      throw new SchemaError(path, "no type: give it `type`, `enum`, `const` or `anyOf`");
    if (Array.isArray(type)) {
      if (type.length === 0) throw new SchemaError(path, "`type` is an empty list");
      const options = type.map((t) => this.typed(s, String(t), `${path}/type`, refs));
      return options.length === 1 ? options[0]! : { kind: "anyOf", options };
    }
    return this.typed(s, type as string, path, refs);
  }

  private ref(s: Record<string, unknown>, path: string, refs: string[]): SchemaNode {
    const ref = s.$ref;
    const m = typeof ref === "string" ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
    if (!m)
      throw new SchemaError(path, `$ref ${JSON.stringify(ref)}: only "#/$defs/NAME" is supported`);
    if (refs.includes(ref as string))
      throw new SchemaError(
        path,
        `$ref ${ref} is recursive: a recursive schema has no bounded automaton; unroll it to a fixed depth`,
      );
    const defs = this.root[m[1]!] as Record<string, unknown> | undefined;
    const target = defs?.[decodeURIComponent(m[2]!.replace(/~1/g, "/").replace(/~0/g, "~"))];
    if (target === undefined) throw new SchemaError(path, `$ref ${ref} names nothing`);
    const others = Object.keys(s).filter((k) => k !== "$ref" && !ANNOTATIONS.has(k));
    if (others.length > 0)
      throw new SchemaError(path, `"${others[0]}" beside $ref: move it into the definition`);
    return this.node(target, `${path}/$ref`, [...refs, ref as string]);
  }

  private literal(s: Record<string, unknown>, path: string, refs: string[]): SchemaNode {
    let values: JsonValue[];
    if (s.const !== undefined) values = [s.const as JsonValue];
    else if (Array.isArray(s.enum) && s.enum.length > 0) values = s.enum as JsonValue[];
    else throw new SchemaError(`${path}/enum`, "`enum` must be a non-empty list of values");
    if (s.const !== undefined && s.enum !== undefined) {
      const allowed = new Set((s.enum as JsonValue[]).map((v) => JSON.stringify(v)));
      values = values.filter((v) => allowed.has(JSON.stringify(v)));
    }
    // The other keywords still apply: keep the values they accept.
    const { enum: _e, const: _c, ...rest } = s;
    if (Object.keys(rest).some((k) => !ANNOTATIONS.has(k))) {
      const node = this.node(rest, path, refs);
      values = values.filter((v) => firstError(node, v) === undefined);
    }
    if (values.length === 0) throw new SchemaError(path, "no value of `enum`/`const` is valid");
    return { kind: "literal", values };
  }

  private union(s: Record<string, unknown>, path: string, refs: string[]): SchemaNode {
    const keyword = s.anyOf !== undefined ? "anyOf" : "oneOf";
    const others = Object.keys(s).filter((k) => k !== keyword && !ANNOTATIONS.has(k));
    if (others.length > 0)
      throw new SchemaError(
        path,
        `"${others[0]}" beside ${keyword}: move it into each option of ${keyword}`,
      );
    const list = s[keyword];
    if (!Array.isArray(list) || list.length === 0)
      throw new SchemaError(`${path}/${keyword}`, "must be a non-empty list of schemas");
    const options = list.map((o, i) => this.node(o, `${path}/${keyword}/${i}`, refs));
    if (keyword === "oneOf") checkDisjoint(options, `${path}/oneOf`);
    return options.length === 1 ? options[0]! : { kind: "anyOf", options };
  }

  private typed(
    s: Record<string, unknown>,
    type: string,
    path: string,
    refs: string[],
  ): SchemaNode {
    if (!TYPES.includes(type))
      throw new SchemaError(path, `unknown type "${type}" (one of ${TYPES.join(", ")})`);
    switch (type) {
      case "object":
        return this.object(s, path, refs);
      case "array":
        return this.array(s, path, refs);
      case "string":
        return stringNode(s, path);
      case "number":
      case "integer":
        return numberNode(s, type === "integer", path);
      case "boolean":
        return { kind: "boolean" };
      default:
        return { kind: "null" };
    }
  }

  private object(s: Record<string, unknown>, path: string, refs: string[]): SchemaNode {
    const props = s.properties;
    if (!props || typeof props !== "object" || Array.isArray(props))
      throw new SchemaError(
        path,
        "an object needs `properties`: Halo writes only declared properties (a free-form object or record cannot be generated)",
      );
    const required = s.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== "string"))
      throw new SchemaError(`${path}/required`, "must be a list of property names");
    for (const name of required as string[])
      if (!(name in props))
        throw new SchemaError(
          `${path}/required`,
          `"${name}" is required but not in properties: declare its schema`,
        );
    const extra = s.additionalProperties;
    const emptySchema =
      extra && typeof extra === "object" && Object.keys(extra as object).length === 0;
    if (extra !== undefined && extra !== true && extra !== false && !emptySchema)
      throw new SchemaError(
        `${path}/additionalProperties`,
        "only true or false is supported (Halo never writes undeclared properties)",
      );
    const properties: PropertyNode[] = Object.entries(props as Record<string, unknown>).map(
      ([name, sub]) => ({
        name,
        required: (required as string[]).includes(name),
        schema: this.node(sub, `${path}/properties/${escapePointer(name)}`, refs),
      }),
    );
    return { kind: "object", properties, additional: extra !== false };
  }

  private array(s: Record<string, unknown>, path: string, refs: string[]): SchemaNode {
    if (s.items === undefined || typeof s.items === "boolean")
      throw new SchemaError(path, "an array needs `items` (one schema for every item)");
    const minItems = count(s, "minItems", path) ?? 0;
    const maxItems = count(s, "maxItems", path);
    if (maxItems !== null && maxItems < minItems)
      throw new SchemaError(path, `maxItems ${maxItems} is below minItems ${minItems}`);
    return { kind: "array", items: this.node(s.items, `${path}/items`, refs), minItems, maxItems };
  }
}

function stringNode(s: Record<string, unknown>, path: string): SchemaNode {
  const minLength = count(s, "minLength", path) ?? 0;
  const maxLength = count(s, "maxLength", path);
  if (maxLength !== null && maxLength < minLength)
    throw new SchemaError(path, `maxLength ${maxLength} is below minLength ${minLength}`);
  let pattern: string | null = null;
  if (s.pattern !== undefined) {
    if (typeof s.pattern !== "string") throw new SchemaError(`${path}/pattern`, "must be a string");
    if (minLength > 0 || maxLength !== null)
      throw new SchemaError(
        path,
        "pattern together with minLength/maxLength is not supported: put the length into the pattern, e.g. ^[a-z]{1,20}$",
      );
    pattern = s.pattern;
  }
  return { kind: "string", minLength, maxLength, pattern };
}

function numberNode(s: Record<string, unknown>, integer: boolean, path: string): SchemaNode {
  if (s.multipleOf !== undefined) {
    // multipleOf 1 is how some converters say "integer"; other steps are not decodable exactly.
    if (s.multipleOf !== 1)
      throw new SchemaError(`${path}/multipleOf`, "only multipleOf 1 (an integer) is supported");
    integer = true;
  }
  const num = (k: string): number | undefined => {
    const v = s[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new SchemaError(`${path}/${k}`, `must be a finite number (got ${JSON.stringify(v)})`);
    return v;
  };
  const tighter = (a: Bound | null, b: Bound | null, lower: boolean): Bound | null => {
    if (!a || !b) return a ?? b;
    if (a.value !== b.value) return lower === a.value > b.value ? a : b;
    return a.exclusive ? a : b;
  };
  const bound = (k: string, exclusive: boolean): Bound | null => {
    const v = num(k);
    return v === undefined ? null : { value: v, exclusive };
  };
  let min = tighter(bound("minimum", false), bound("exclusiveMinimum", true), true);
  let max = tighter(bound("maximum", false), bound("exclusiveMaximum", true), false);
  if (integer) {
    // Integer bounds as inclusive integers: exactly what integer-range automata take.
    if (min)
      min = {
        value: min.exclusive ? Math.floor(min.value) + 1 : Math.ceil(min.value),
        exclusive: false,
      };
    if (max)
      max = {
        value: max.exclusive ? Math.ceil(max.value) - 1 : Math.floor(max.value),
        exclusive: false,
      };
  }
  if (
    min &&
    max &&
    (min.value > max.value || (min.value === max.value && (min.exclusive || max.exclusive)))
  )
    throw new SchemaError(path, "no number lies between its minimum and maximum");
  return { kind: "number", integer, min, max };
}

function count(s: Record<string, unknown>, key: string, path: string): number | null {
  const v = s[key];
  if (v === undefined) return null;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new SchemaError(
      `${path}/${key}`,
      `must be a non-negative integer (got ${JSON.stringify(v)})`,
    );
  if ((v as number) > MAX_REPEAT)
    throw new SchemaError(
      `${path}/${key}`,
      `${v} is above ${MAX_REPEAT}: each unit is automaton states; lower it`,
    );
  return v as number;
}

/**
 * oneOf is decoded as anyOf, which is only the same when no value matches two options: options
 * of different JSON types, or objects told apart by a required property with distinct constants.
 */
function checkDisjoint(options: SchemaNode[], path: string): void {
  const kinds = options.map(typeKinds);
  for (let i = 0; i < options.length; i++)
    for (let j = i + 1; j < options.length; j++) {
      const shared = [...kinds[i]!].filter((k) => kinds[j]!.has(k));
      if (shared.length === 0) continue;
      if (shared.every((k) => k === "object") && discriminated(options[i]!, options[j]!)) continue;
      throw new SchemaError(
        path,
        `options ${i} and ${j} may both match one value, which oneOf forbids and decoding cannot rule out: use anyOf, or tell objects apart by a required property with a const`,
      );
    }
}

function typeKinds(node: SchemaNode): Set<string> {
  switch (node.kind) {
    case "number":
      return new Set(["number"]);
    case "literal":
      return new Set(
        node.values.map((v) =>
          v === null
            ? "null"
            : Array.isArray(v)
              ? "array"
              : typeof v === "object"
                ? "object"
                : typeof v,
        ),
      );
    case "anyOf":
      return new Set(node.options.flatMap((o) => [...typeKinds(o)]));
    default:
      return new Set([node.kind]);
  }
}

function discriminated(a: SchemaNode, b: SchemaNode): boolean {
  if (a.kind !== "object" || b.kind !== "object") return false;
  return a.properties.some((p) => {
    const q = b.properties.find((x) => x.name === p.name);
    if (!p.required || !q?.required) return false;
    if (p.schema.kind !== "literal" || q.schema.kind !== "literal") return false;
    const theirs = new Set(q.schema.values.map((v) => JSON.stringify(v)));
    return p.schema.values.every((v) => !theirs.has(JSON.stringify(v)));
  });
}

function escapePointer(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}
