// Property test: random schemas (seeded), decoded through the runtime's own token chooser
// (RequestState, the shipped model's tokenizer) with random logits standing in for any model,
// greedy and sampled, at random budgets. Every answer must be valid JSON that ajv, a full JSON
// Schema validator, accepts; and Halo's own validator must agree with ajv on it.
import { Ajv2020 } from "ajv/dist/2020.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { prepareSchema } from "../../../src/runtime/json-schema/typed-output.ts";
import { firstError } from "../../../src/runtime/json-schema/validate.ts";
import { RequestState } from "../../../src/runtime/request-state.ts";
import { seededRandom } from "../../../src/runtime/sampler.ts";
import { TextTokenizer } from "../../../src/runtime/tokenizer.ts";
import { shippedModelDir } from "../../../src/runtime/index.ts";

const SCHEMAS = 80;
const WALKS = 6;
const random = seededRandom(20261207);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const PATTERNS = [
  "^[a-z]{1,6}$",
  "^\\d{3}-\\d{2}$",
  "^(yes|no|maybe)$",
  "[A-Z]",
  "^[^\\s]+$",
  "^é?x*$",
];
const WORDS = ["a", "b c", "été", 'q"t', "x\\y", "line\nbreak"];

function randomSchema(depth: number): Record<string, unknown> {
  const kinds = depth > 0 ? ["object", "array", "anyOf", "leaf", "leaf"] : ["leaf"];
  switch (pick(kinds)) {
    case "object": {
      const n = int(1, 4);
      const properties: Record<string, unknown> = {};
      const required: string[] = [];
      for (let i = 0; i < n; i++) {
        const name = pick(["id", "name", "score", "tags", "ok", "k é", 'q"'] as const) + i;
        properties[name] = randomSchema(depth - 1);
        if (random() < 0.6) required.push(name);
      }
      return {
        type: "object",
        properties,
        required,
        ...(random() < 0.5 && { additionalProperties: false }),
      };
    }
    case "array": {
      const min = int(0, 2);
      return {
        type: "array",
        items: randomSchema(depth - 1),
        ...(min > 0 && { minItems: min }),
        ...(random() < 0.7 && { maxItems: min + int(0, 3) }),
      };
    }
    case "anyOf":
      return { anyOf: [randomSchema(depth - 1), randomSchema(depth - 1)] };
    default:
      return randomLeaf();
  }
}

function randomLeaf(): Record<string, unknown> {
  switch (
    pick(["string", "string", "integer", "number", "boolean", "null", "enum", "const", "nullable"])
  ) {
    case "string": {
      if (random() < 0.3) return { type: "string", pattern: pick(PATTERNS) };
      const max = random() < 0.6 ? int(0, 12) : undefined;
      const min = random() < 0.3 ? int(0, max ?? 4) : undefined;
      return {
        type: "string",
        ...(max !== undefined && { maxLength: max }),
        ...(min !== undefined && { minLength: min }),
      };
    }
    case "integer": {
      const lo = random() < 0.7 ? int(-1000, 1000) : undefined;
      const hi = random() < 0.7 ? (lo ?? 0) + int(0, 5000) : undefined;
      return {
        type: "integer",
        ...(lo !== undefined && { minimum: lo }),
        ...(hi !== undefined && { maximum: hi }),
      };
    }
    case "number": {
      const lo = random() < 0.6 ? Math.round((random() * 200 - 100) * 1000) / 1000 : undefined;
      const hi =
        random() < 0.6 ? (lo ?? 0) + Math.round(random() * 50 * 100) / 100 + 0.01 : undefined;
      const s: Record<string, unknown> = { type: "number" };
      if (lo !== undefined) s[random() < 0.5 ? "minimum" : "exclusiveMinimum"] = lo;
      if (hi !== undefined) s[random() < 0.5 ? "maximum" : "exclusiveMaximum"] = hi;
      return s;
    }
    case "boolean":
      return { type: "boolean" };
    case "null":
      return { type: "null" };
    case "enum":
      return { enum: [pick(WORDS), pick(WORDS), int(-5, 5), random() < 0.5 ? null : true] };
    case "const":
      return { const: pick([...WORDS, 42, -1.5, { a: [1, "x"] }]) };
    default:
      return { type: [pick(["string", "integer", "boolean"]), "null"] };
  }
}

test("every answer to a random schema parses and satisfies it (ajv as the oracle)", () => {
  const tokenizer = new TextTokenizer(shippedModelDir());
  const eos = new Set([511, 509]);
  const ajv = new Ajv2020({ strict: true });
  let answers = 0;
  let sampled = 0;
  for (let n = 0; n < SCHEMAS; n++) {
    const schema = randomSchema(int(0, 3));
    const { json, node, minBytes } = prepareSchema(schema);
    const validate = ajv.compile(json);
    for (let w = 0; w < WALKS; w++) {
      const maxTokens = minBytes + int(0, 60);
      const temperature = w % 2 === 0 ? 0 : 1;
      const state = new RequestState(
        {
          promptTokens: [1],
          sampling: { maxTokens, schema: json, temperature, seed: n * 100 + w },
        },
        tokenizer,
        eos,
      );
      const logits = new Float32Array(tokenizer.vocabSize);
      while (!state.done) {
        for (let i = 0; i < logits.length; i++) logits[i] = random() * 8;
        state.accept(state.pick(logits));
      }
      const { text, tokens } = state.result();
      assert.ok(tokens.length <= maxTokens, `within maxTokens ${maxTokens}`);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        assert.unreachable(`not JSON for ${JSON.stringify(json)}: ${text}`);
      }
      const ok = validate(value);
      assert.ok(
        ok,
        `ajv rejects ${text} for ${JSON.stringify(json)}: ${ajv.errorsText(validate.errors)}`,
      );
      assert.is(firstError(node, value), undefined, `Halo's validator rejects ${text}`);
      answers++;
      if (temperature > 0) sampled++;
    }
  }
  console.log(
    `measure: ${answers} answers (${sampled} sampled) to ${SCHEMAS} random schemas, all valid`,
  );
});

test("Halo's validator agrees with ajv on values that break random schemas", () => {
  const ajv = new Ajv2020({ strict: true });
  const values: unknown[] = [
    null,
    true,
    0,
    -3,
    2.5,
    1e6,
    "",
    "abc",
    "été",
    [],
    [1, "a"],
    {},
    { id0: 1 },
  ];
  let disagreements = 0;
  for (let n = 0; n < 60; n++) {
    const schema = randomSchema(int(0, 2));
    const { json, node } = prepareSchema(schema);
    const validate = ajv.compile(json);
    for (const v of values)
      if (validate(v) !== (firstError(node, v) === undefined)) {
        disagreements++;
        console.log(`disagree on ${JSON.stringify(v)} for ${JSON.stringify(json)}`);
      }
  }
  assert.is(disagreements, 0);
});

test.run();
