// Choices and schemas on the wire: each server family's own way to constrain an answer (the
// flavours in options.ts), the instruction written into the prompt for a server that has none,
// and the check every answer passes on return. Servers are not trusted to honour the field (an
// older vLLM ignores `structured_outputs`, many ignore `guided_choice`): an answer that is not
// one of the choices, or breaks the schema, is that row's error, never a value in a column.
import { typedAnswer } from "../json-schema/typed-output.ts";
import type { SamplingOptions } from "../types.ts";
import type { StructuredOutputFlavour } from "./options.ts";

/** The JSON Schema the "openai" flavour sends for choices: one required enum property. */
function choiceObject(choices: readonly string[]): Record<string, unknown> {
  return wrapInObject({ type: "string", enum: choices });
}

/**
 * OpenAI's structured outputs need an object at the root: any other schema goes out as the one
 * property `answer` of an object, and the answer is unwrapped on return.
 */
function wrapInObject(schema: Record<string, unknown>): Record<string, unknown> {
  return {
    type: "object",
    properties: { answer: schema },
    required: ["answer"],
    additionalProperties: false,
  };
}

function isObjectSchema(schema: Record<string, unknown>): boolean {
  return schema.type === "object";
}

function responseFormat(schema: Record<string, unknown>, strict?: boolean) {
  return {
    type: "json_schema",
    json_schema: { name: "answer", ...(strict ? { strict } : {}), schema },
  };
}

/** Body fields that ask the server to constrain the answer (none for plain text). */
export function structuredFields(
  flavour: StructuredOutputFlavour,
  s: SamplingOptions,
): Record<string, unknown> {
  const { choices, schema } = s;
  if (!choices?.length && !schema) return {};
  switch (flavour) {
    case "openai":
      if (choices?.length) return { response_format: responseFormat(choiceObject(choices), true) };
      return {
        response_format: responseFormat(isObjectSchema(schema!) ? schema! : wrapInObject(schema!)),
      };
    case "vllm":
      return { structured_outputs: choices?.length ? { choice: choices } : { json: schema } };
    case "guided":
      if (choices?.length) return { guided_choice: choices };
      return { guided_json: schema, response_format: responseFormat(schema!) };
    case "llamacpp":
      if (choices?.length) return { grammar: choiceGrammar(choices) };
      return { json_schema: schema };
    case "none":
      return {};
  }
}

/** A GBNF grammar (llama.cpp) whose only sentences are the choices. */
export function choiceGrammar(choices: readonly string[]): string {
  const literal = (c: string) =>
    `"${c.replace(/[\\"\n\r\t]|[\x00-\x1f\x7f]/g, (ch) => {
      const named: Record<string, string> = {
        "\\": "\\\\",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
      };
      return named[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    })}"`;
  return `root ::= ${choices.map(literal).join(" | ")}`;
}

/**
 * What a server that cannot constrain ("none") is told at the end of the last user message; the
 * answer is still checked on return.
 */
export function promptInstruction(
  flavour: StructuredOutputFlavour,
  s: SamplingOptions,
): string | undefined {
  if (flavour !== "none") return undefined;
  if (s.choices?.length)
    return `Answer with exactly one of: ${s.choices.map((c) => JSON.stringify(c)).join(", ")}. Reply with that answer only.`;
  if (s.schema)
    return `Reply with only a JSON value, without code fences or any other text, that matches this JSON Schema: ${JSON.stringify(s.schema)}`;
  return undefined;
}

/**
 * The answer's text as Halo keeps it, checked: a choice exactly as listed, a schema's answer as
 * JSON that validates. Throws an Error saying what the server answered and what was expected.
 */
export function checkedAnswer(
  flavour: StructuredOutputFlavour,
  s: SamplingOptions,
  text: string,
): string {
  if (s.choices?.length) {
    const said = flavour === "openai" ? unwrapAnswer(text) : text;
    const choice = typeof said === "string" ? matchChoice(s.choices, said) : undefined;
    if (choice === undefined)
      throw new Error(
        `the answer ${preview(text)} is not one of the choices ${s.choices.map((c) => JSON.stringify(c)).join(", ")}`,
      );
    return choice;
  }
  if (s.schema) {
    if (flavour === "openai" && !isObjectSchema(s.schema)) {
      const inner = unwrapAnswer(text);
      if (inner === undefined)
        throw new Error(`the answer is not an object with "answer": ${preview(text)}`);
      return JSON.stringify(typedAnswer(s.schema, JSON.stringify(inner)));
    }
    const json = flavour === "none" ? jsonPart(text) : text;
    const value = typedAnswer(s.schema, json);
    // A constrained answer keeps its exact text (and so its token ids); an extracted one is
    // written back compactly.
    return json === text ? text : JSON.stringify(value);
  }
  return text;
}

/** `{"answer": x}` -> x; undefined when the text is not such an object. */
function unwrapAnswer(text: string): unknown {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v) && "answer" in v)
      return (v as { answer: unknown }).answer;
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * The listed choice an answer names: itself, or after trimming quotes, emphasis and a final
 * full stop and ignoring case ("Positive." names "positive"). Anything longer is not a choice.
 */
function matchChoice(choices: readonly string[], said: string): string | undefined {
  if (choices.includes(said)) return said;
  const bare = said
    .trim()
    .replace(/^["'`*_]+|["'`*_]+$/g, "")
    .replace(/[.!]$/, "")
    .trim()
    .toLowerCase();
  const found = choices.filter((c) => c.toLowerCase() === bare);
  return found.length === 1 ? found[0] : undefined;
}

/** The JSON in a free-text answer: inside a code fence, or from the first { or [ to the last. */
function jsonPart(text: string): string {
  const t = text.trim();
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(t);
  if (fenced) return fenced[1]!.trim();
  try {
    JSON.parse(t);
    return t;
  } catch {
    const start = t.search(/[{[]/);
    const end = Math.max(t.lastIndexOf("}"), t.lastIndexOf("]"));
    return start >= 0 && end > start ? t.slice(start, end + 1) : t;
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}
