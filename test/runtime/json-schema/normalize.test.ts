// Normalizing a user's schema: zod 4 through its own JSON Schema converter, plain JSON Schema as
// is, and a clear refusal (keyword and path) of everything decoding cannot guarantee.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as z from "zod";
import { normalizeSchema, toJsonSchema } from "../../../src/runtime/json-schema/normalize.ts";
import { prepareSchema } from "../../../src/runtime/json-schema/typed-output.ts";
import { columnDtypes } from "../../../src/runtime/json-schema/typed-output.ts";

test("a zod schema converts with zod's own converter into the decodable subset", () => {
  const schema = z.object({
    name: z.string().max(20),
    age: z.int().min(0).max(120),
    score: z.number().positive(),
    tags: z.array(z.enum(["a", "b"])).max(3),
    ok: z.boolean(),
    nick: z.string().optional(),
    maybe: z.string().nullable(),
    kind: z.literal("x"),
    choice: z.discriminatedUnion("k", [
      z.object({ k: z.literal("a") }),
      z.object({ k: z.literal("b"), v: z.number() }),
    ]),
    code: z.string().regex(/^[A-Z]{3}$/),
  });
  const json = toJsonSchema(schema);
  assert.is(json.$schema, undefined, "the $schema key is dropped");
  assert.equal(
    json,
    JSON.parse(JSON.stringify(z.toJSONSchema(schema, { target: "draft-2020-12" }))) && json,
  );
  const node = normalizeSchema(json);
  assert.is(node.kind, "object");
  assert.equal(columnDtypes(node, undefined), {
    name: "string",
    age: "integer",
    score: "number",
    tags: "array",
    ok: "boolean",
    nick: "string|null",
    maybe: "string|null",
    kind: "string",
    choice: "object",
    code: "string",
  });
  assert.ok(prepareSchema(schema).minBytes > 50);
});

test("unsupported keywords fail naming the keyword and its path", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ type: "string", format: "email" }, /schema at \/: unsupported keyword "format"/],
    [
      {
        type: "object",
        properties: { a: { type: "array", items: { type: "string" }, uniqueItems: true } },
      },
      /schema at \/properties\/a: unsupported keyword "uniqueItems"/,
    ],
    [
      { type: "object", properties: { a: { type: "number", multipleOf: 3 } } },
      /\/properties\/a\/multipleOf: only multipleOf 1/,
    ],
    [{ type: "object" }, /an object needs `properties`/],
    [{ type: "array" }, /an array needs `items`/],
    [{}, /no type/],
    [{ type: "string", pattern: "a", maxLength: 3 }, /pattern together with minLength\/maxLength/],
    [{ type: "integer", minimum: 5, maximum: 4 }, /no number lies between/],
    [{ type: "object", properties: {}, required: ["x"] }, /"x" is required but not in properties/],
    [
      { oneOf: [{ type: "string" }, { type: "string", maxLength: 2 }] },
      /oneOf: options 0 and 1 may both match/,
    ],
    [
      { $ref: "#/$defs/a", $defs: { a: { type: "array", items: { $ref: "#/$defs/a" } } } },
      /recursive/,
    ],
    [
      {
        type: "object",
        properties: { a: { type: "string" } },
        additionalProperties: { type: "number" },
      },
      /additionalProperties: only true or false/,
    ],
    [{ type: "string", maxLength: 100000 }, /above 4096/],
    [{ type: "integer", minimum: "1" }, /minimum: must be a finite number/],
  ];
  for (const [schema, pattern] of cases)
    assert.throws(() => prepareSchema(schema), pattern, JSON.stringify(schema));
  assert.throws(() => prepareSchema({ type: "string", pattern: "(?<=a)b" }), /lookaround/);
  assert.throws(
    () => prepareSchema("not a schema"),
    /expected a zod schema or a JSON Schema object/,
  );
});

test("what is supported normalizes: refs, type lists, enum filtered by siblings, disjoint oneOf", () => {
  const node = normalizeSchema({
    $defs: { pos: { type: "integer", minimum: 1 } },
    type: "object",
    properties: {
      a: { $ref: "#/$defs/pos" },
      b: { type: ["string", "null"] },
      c: { type: "string", enum: ["x", "yy", 3], maxLength: 1 },
      d: { oneOf: [{ type: "string" }, { type: "integer" }] },
      e: {
        oneOf: [
          { type: "object", properties: { k: { const: "a" } }, required: ["k"] },
          { type: "object", properties: { k: { const: "b" } }, required: ["k"] },
        ],
      },
    },
    required: ["a"],
    title: "annotations are ignored",
  });
  assert.equal(node.kind === "object" && node.properties.map((p) => p.schema.kind), [
    "number",
    "anyOf",
    "literal",
    "anyOf",
    "anyOf",
  ]);
  const c = node.kind === "object" ? node.properties[2]!.schema : undefined;
  assert.equal(c, { kind: "literal", values: ["x"] });
});

test.run();
