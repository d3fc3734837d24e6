// A schema's typical instance, the first estimate of a schema answer's length (schema-output.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CostModel } from "../../src/cost/cost-model.ts";
import { priorProfile } from "../../src/cost/profile.ts";
import { typicalJson } from "../../src/cost/schema-output.ts";

test("every property, strings at maxLength, the wider bound, maxItems items, the median enum", () => {
  const text = typicalJson({
    type: "object",
    properties: {
      ok: { type: "boolean" },
      score: { type: "integer", minimum: 0, maximum: 100 },
      tag: { enum: ["a", "bbb", "cc"] },
      note: { type: "string", maxLength: 10 },
      items: { type: "array", maxItems: 2, items: { type: "number", minimum: -1.5 } },
      either: { anyOf: [{ type: "null" }, { type: "string", maxLength: 3 }] },
    },
    required: ["ok"],
  });
  const value = JSON.parse(text!);
  assert.equal(Object.keys(value), ["ok", "score", "tag", "note", "items", "either"]);
  assert.is(value.score, 100);
  assert.is(value.tag, "cc");
  assert.is(value.note.length, 10);
  assert.equal(value.items, [-1.5, -1.5]);
  assert.is(value.either.length, 3);
});

test("an unbounded part leaves only maxTokens", () => {
  assert.is(typicalJson({ type: "string" }), undefined);
  assert.is(typicalJson({ type: "array", items: { type: "integer" } }), undefined);
  const cost = new CostModel(priorProfile("m"));
  const node = (schema: object) => ({ kind: "LlmCall", args: { schema, maxTokens: 48 } });
  assert.is(cost.expectedOutputTokens(node({ type: "string" })), 48);
  const chars = (t: string) => t.length;
  assert.is(cost.expectedOutputTokens(node({ enum: ["yes", "no"] }), chars), 5); // "yes", quoted
  assert.is(cost.expectedOutputTokens(node({ type: "string", maxLength: 500 }), chars), 48);
});

test.run();
