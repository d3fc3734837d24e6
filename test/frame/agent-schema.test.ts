// Typed outputs end to end on the shipped model: every supported construct decodes to a valid
// value on every row (the tiny model's values are noise; validity is by construction), batched
// equals one at a time, object schemas spread into typed columns that later verbs read, the
// schema is part of the node's signature, requests with different schemas share batches, YAML
// workflows take `schema:`, and bad schemas fail at .agent() time.
import { Ajv2020 } from "ajv/dist/2020.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as z from "zod";
import { halo } from "../../src/index.ts";
import { planFor } from "../../src/frame/collect.ts";
import { getModel } from "../../src/runtime/index.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const rows = [
  "Name: Ada Lovelace, age 36, from London.",
  "The kettle is great value. The price is excellent.",
  "Name: Bob Stone, age 52, from Leeds.",
  "The battery died after two days.",
  "Name: Chen Wu, age 29, from Paris.",
  "The jacket fits perfectly.",
].map((text, id) => ({ id, text }));
const PROMPT = "Extract the person as JSON.\nText: {{text}}";

/** Every construct the docs list, in one object. */
const EVERYTHING = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 12 },
    mood: { type: "string", enum: ["happy", "sad", "neutral"] },
    code: { type: "string", pattern: "^[A-Z]{2}-\\d{1,3}$" },
    age: { type: "integer", minimum: 0, maximum: 120 },
    score: { type: "number", exclusiveMinimum: -1, maximum: 1 },
    ok: { type: "boolean" },
    tags: { type: "array", items: { type: "string", maxLength: 5 }, minItems: 1, maxItems: 3 },
    where: {
      type: "object",
      properties: { city: { type: "string", maxLength: 10 }, zip: { type: ["integer", "null"] } },
      required: ["city"],
    },
    either: { anyOf: [{ type: "boolean" }, { type: "integer", minimum: 5, maximum: 9 }] },
    nothing: { type: "null" },
    kind: { const: "person" },
    note: { type: "string", maxLength: 4 },
  },
  required: [
    "name",
    "mood",
    "code",
    "age",
    "score",
    "ok",
    "tags",
    "where",
    "either",
    "nothing",
    "kind",
  ],
  additionalProperties: false,
};

test("every construct: each row's answer is valid JSON that ajv accepts", async () => {
  if (!present) return;
  const validate = new Ajv2020({ strict: true }).compile(EVERYTHING);
  const { rows: out } = await halo
    .lazy(rows)
    .agent({ prompt: PROMPT, schema: EVERYTHING, output: "person", maxTokens: 160 })
    .collectRows({ reuse: false });
  for (const r of out) {
    assert.ok(
      validate(r.person),
      `${JSON.stringify(r.person)}: ${JSON.stringify(validate.errors)}`,
    );
    assert.is((r.person as { kind: string }).kind, "person");
  }
  console.log(`measure: e.g. ${JSON.stringify(out[0]!.person)}`);
});

test("batched equals one at a time, and equals the runtime's own generate per request", async () => {
  if (!present) return;
  const lf = halo.lazy(rows).agent({ prompt: PROMPT, schema: EVERYTHING, maxTokens: 160 });
  const batched = await lf.collectRows({ reuse: false });
  const single = await lf.collectRows({ reuse: false, executor: "row-by-row" });
  assert.equal(batched.rows, single.rows);
  assert.ok(halo.lastRun!.tasks.every((t) => (t.batchSize ?? 1) === 1));
  // spread columns hold exactly the properties of the runtime's own answer
  const model = await getModel();
  const [one] = await model.generate([
    {
      promptTokens: model.encodeChat([
        { role: "user", content: PROMPT.replace("{{text}}", rows[2]!.text) },
      ]),
      sampling: { maxTokens: 160, schema: EVERYTHING },
    },
  ]);
  const value = JSON.parse(one!.text) as Record<string, unknown>;
  for (const key of Object.keys(EVERYTHING.properties))
    assert.equal(batched.rows[2]![key], value[key] ?? null, key);
});

test("object schemas spread into typed columns: filters and later verbs read them; dtypes follow", async () => {
  if (!present) return;
  const schema = z.object({
    name: z.string().max(10),
    age: z.int().min(0).max(99),
    score: z.number().min(0).max(1),
    member: z.boolean(),
    tags: z.array(z.enum(["a", "b"])).max(2),
  });
  const lf = halo
    .lazy(rows)
    .agent({ prompt: PROMPT, schema, maxTokens: 80 })
    .filter(halo.col("age").ge(0))
    .agent({ prompt: "Greet {{name}}", output: "greeting", maxTokens: 4 });
  const plan = lf.explain();
  assert.match(
    plan,
    /\(name: string, age: integer, score: number, member: boolean, tags: array\) = llm\(/,
  );
  const df = await lf.collect({ reuse: false });
  assert.equal(df.columns, ["id", "text", "name", "age", "score", "member", "tags", "greeting"]);
  assert.equal(df.dtypes.slice(2, 6), ["string", "int32", "float32", "boolean"]);
  const result = (df.values as unknown[][]).map((r) => r.slice(2, 7));
  for (const [name, age, score, member, tags] of result) {
    assert.type(name, "string");
    assert.ok(Number.isInteger(age) && (age as number) <= 99);
    assert.ok(typeof score === "number" && score >= 0 && score <= 1);
    assert.type(member, "boolean");
    assert.ok(
      Array.isArray(tags) && tags.every((t) => t === "a" || t === "b"),
      "arrays stay JS values",
    );
  }
  const report = halo.lastRun!;
  assert.equal(report.dtypes[0], {
    name: "string",
    age: "integer",
    score: "number",
    member: "boolean",
    tags: "array",
    greeting: "string",
  });
  assert.match(report.summary(), /columns: name: string, age: integer, score: number/);
  // a filter on a schema column moves nowhere below the call that writes it
  const filtered = halo
    .lazy(rows)
    .agent({ prompt: PROMPT, schema, maxTokens: 80 })
    .filter(halo.col("member").eq(true));
  const dag = filtered.plan();
  const order = dag.nodes.map((n) => n.kind);
  assert.ok(order.indexOf("LlmCall") < order.indexOf("Filter"), order.join(","));
});

test("the schema is part of the signature; different schemas and choices share batches", async () => {
  if (!present) return;
  const a = { type: "object", properties: { x: { type: "integer", maximum: 5 } }, required: ["x"] };
  const b = { type: "object", properties: { x: { type: "boolean" } }, required: ["x"] };
  const src = halo.lazy(rows);
  const f1 = src.agent({ prompt: PROMPT, schema: a, output: "v" });
  const f2 = src.agent({ prompt: PROMPT, schema: a, output: "v" });
  const f3 = src.agent({ prompt: PROMPT, schema: b, output: "v" });
  const count = (frames: (typeof f1)[]) =>
    planFor(frames.map((f) => f.node)).dag.nodes.filter((n) => n.kind === "LlmCall").length;
  assert.is(count([f1, f2]), 1, "equal schemas merge");
  assert.is(count([f1, f3]), 2, "different schemas do not");
  const labels = ["positive", "negative"];
  const f4 = src.agent({ prompt: PROMPT, choices: labels, output: "label" });
  const [r1, r3, r4] = await halo.collectAll([f1, f3, f4], { reuse: false });
  for (const l of r4!.column("label").values as string[]) assert.ok(labels.includes(l), l);
  for (const r of r1!.values as unknown[][])
    assert.ok(Number.isInteger((r.at(-1) as { x: unknown }).x), "schema a: an integer x");
  const tasks = halo.lastRun!.tasks.filter((t) => t.lane.startsWith("llm"));
  const llmIds = planFor([f1.node, f3.node, f4.node])
    .dag.nodes.filter((n) => n.kind === "LlmCall")
    .map((n) => n.id);
  assert.ok(
    tasks.some((t) => llmIds.every((id) => t.nodeIds.includes(id))),
    "one forward served both schemas' requests and the choices'",
  );
  const values = r3!.values as unknown[][];
  assert.ok(values.every((r) => typeof (r.at(-1) as { x: unknown }).x === "boolean"));
});

test("YAML workflows take schema: as JSON Schema; its columns link implicit edges", async () => {
  if (!present) return;
  const wf = halo.workflow(`
name: typed
nodes:
  - id: extract
    type: llm
    prompt: "Extract the person as JSON.\\nText: {{text}}"
    maxTokens: 60
    schema:
      type: object
      properties:
        name: { type: string, maxLength: 8 }
        adult: { type: boolean }
      required: [name, adult]
  - id: greet
    type: llm
    prompt: "Greet {{name}}"
    output: greeting
    maxTokens: 4
`);
  assert.equal(wf.steps, ["extract", "greet"]);
  const { rows: out, columns } = await wf.run(rows.slice(0, 3)).collectRows({ reuse: false });
  assert.equal(columns, ["id", "text", "name", "adult", "greeting"]);
  for (const r of out) assert.ok(typeof r.name === "string" && typeof r.adult === "boolean");
});

test("bad schemas fail at .agent() time, naming the keyword and path", () => {
  const src = halo.lazy(rows);
  assert.throws(
    () =>
      src.agent({
        prompt: PROMPT,
        schema: { type: "object", properties: { e: { type: "string", format: "email" } } },
      }),
    /\.agent\(\): schema at \/properties\/e: unsupported keyword "format"/,
  );
  assert.throws(
    () => src.agent({ prompt: PROMPT, schema: EVERYTHING, maxTokens: 20 }),
    /maxTokens 20 is too small for the schema: its shortest answer is \d+ bytes/,
  );
  assert.throws(
    () => src.agent({ prompt: PROMPT, schema: { type: "string" } }),
    /only an object schema spreads into columns; this one is a string, so name its column with output/,
  );
  assert.throws(
    () => src.agent({ prompt: PROMPT, schema: { type: "string" }, output: "o", choices: ["a"] }),
    /schema and choices exclude each other/,
  );
  assert.throws(
    () =>
      src.agent({
        prompt: PROMPT,
        schema: { type: "object", properties: { _errors: { type: "string" } } },
      }),
    /reserved for row errors/,
  );
});

test.run();
