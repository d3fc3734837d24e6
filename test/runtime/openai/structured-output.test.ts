// Choices and schemas in each server family's dialect, and the check every answer passes on
// return: exact or plainly equivalent choices are kept as listed, anything else is an error that
// quotes the answer; schema answers are validated (the schema helper's validator), extracted from
// prose only where the server could not constrain.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  checkedAnswer,
  choiceGrammar,
  promptInstruction,
  structuredFields,
} from "../../../src/runtime/openai/structured-output.ts";

const choices = ["positive", "negative", "neutral"];
const schema = {
  type: "object",
  properties: { n: { type: "integer", maximum: 9 } },
  required: ["n"],
  additionalProperties: false,
};
const list = { type: "array", items: { type: "string" }, maxItems: 2 };

test("each flavour's fields for choices and for a schema", () => {
  const wrapped = (inner: unknown) => ({
    type: "object",
    properties: { answer: inner },
    required: ["answer"],
    additionalProperties: false,
  });
  const c = { maxTokens: 4, choices };
  const s = { maxTokens: 40, schema };
  assert.equal(structuredFields("openai", c), {
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "answer",
        strict: true,
        schema: wrapped({ type: "string", enum: choices }),
      },
    },
  });
  assert.equal(structuredFields("openai", s), {
    response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
  });
  assert.equal(structuredFields("openai", { maxTokens: 9, schema: list }), {
    response_format: {
      type: "json_schema",
      json_schema: { name: "answer", schema: wrapped(list) },
    },
  });
  assert.equal(structuredFields("vllm", c), { structured_outputs: { choice: choices } });
  assert.equal(structuredFields("vllm", s), { structured_outputs: { json: schema } });
  assert.equal(structuredFields("guided", c), { guided_choice: choices });
  assert.equal(structuredFields("guided", s), {
    guided_json: schema,
    response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
  });
  assert.equal(structuredFields("llamacpp", c), {
    grammar: 'root ::= "positive" | "negative" | "neutral"',
  });
  assert.equal(structuredFields("llamacpp", s), { json_schema: schema });
  assert.equal(structuredFields("none", c), {});
  for (const f of ["openai", "vllm", "guided", "llamacpp", "none"] as const)
    assert.equal(structuredFields(f, { maxTokens: 5 }), {});
});

test("GBNF literals escape quotes, backslashes and control characters", () => {
  assert.is(
    choiceGrammar(['say "hi"', "a\\b", "x\ny", "\x01"]),
    'root ::= "say \\"hi\\"" | "a\\\\b" | "x\\ny" | "\\x01"',
  );
});

test("only a server that cannot constrain is told in the prompt", () => {
  assert.is(promptInstruction("openai", { maxTokens: 4, choices }), undefined);
  assert.match(
    promptInstruction("none", { maxTokens: 4, choices })!,
    /exactly one of: "positive", "negative", "neutral"/,
  );
  assert.match(
    promptInstruction("none", { maxTokens: 4, schema })!,
    /JSON Schema: \{"type":"object"/,
  );
  assert.is(promptInstruction("none", { maxTokens: 4 }), undefined);
});

test("choices: the listed one is kept; plain variants map to it; anything else names the answer", () => {
  const s = { maxTokens: 4, choices };
  assert.is(checkedAnswer("guided", s, "negative"), "negative");
  for (const said of ["Positive", " positive.", '"positive"', "**Positive**", "POSITIVE!"])
    assert.is(checkedAnswer("none", s, said), "positive", said);
  assert.is(checkedAnswer("openai", s, '{"answer":"neutral"}'), "neutral");
  for (const [flavour, said] of [
    ["none", "The review is positive."],
    ["guided", "mixed"],
    ["openai", "neutral"],
    ["openai", '{"answer":"mixed"}'],
  ] as const)
    assert.throws(
      () => checkedAnswer(flavour, s, said),
      /the answer .* is not one of the choices "positive", "negative", "neutral"/,
      said,
    );
});

test("schemas: validated; the text kept when constrained, extracted and compacted when not", () => {
  const s = { maxTokens: 20, schema };
  assert.is(checkedAnswer("guided", s, '{"n": 3}'), '{"n": 3}');
  assert.is(checkedAnswer("none", s, 'Sure:\n```json\n{"n": 3}\n```'), '{"n":3}');
  assert.is(checkedAnswer("none", s, 'Here it is: {"n": 4} hope it helps'), '{"n":4}');
  assert.throws(
    () => checkedAnswer("guided", s, '{"n": 12}'),
    /breaks the schema at \/n: must be <= 9/,
  );
  assert.throws(() => checkedAnswer("none", s, "no idea"), /the answer is not JSON/);
  const l = { maxTokens: 20, schema: list };
  assert.is(checkedAnswer("openai", l, '{"answer":["a","b"]}'), '["a","b"]');
  assert.throws(() => checkedAnswer("openai", l, '["a"]'), /not an object with "answer"/);
  assert.throws(() => checkedAnswer("openai", l, '{"answer":["a","b","c"]}'), /at most 2 items/);
});

test.run();
