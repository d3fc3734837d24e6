// The request fields `/v1/chat/completions` and `/v1/completions` share, checked once: sampling
// (`max_tokens` / `max_completion_tokens`, `temperature`, `top_p`, `seed`, `stop`, `n`),
// structured output (`response_format` json_schema, vLLM's `structured_outputs` and `guided_*`),
// streaming (`stream`, `stream_options.include_usage`). Anything malformed is a 400 naming the
// field (OpenAI's `param`); a field that would change the answer in a way Halo cannot honour
// (penalties, logprobs, tools) is refused rather than ignored, and so is an unknown field, as
// OpenAI does: a typo must not pass silently.
import { prepareSchema } from "../../runtime/json-schema/typed-output.ts";
import type { SamplingOptions } from "../../runtime/types.ts";
import { HttpError } from "../http-error.ts";

export interface CommonFields {
  /** Echoed back; `workflow/NAME` names a workflow (chat only). */
  model: string | undefined;
  /** The sampling options besides maxTokens. */
  sampling: Omit<SamplingOptions, "maxTokens">;
  /** Asked for, or undefined: the endpoint's default then applies. */
  maxTokens: number | undefined;
  /** Answers per prompt. */
  n: number;
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk carrying usage. */
  includeUsage: boolean;
}

export const bad = (param: string | undefined, message: string) =>
  new HttpError(400, message, {}, param ? { param } : {});

/**
 * Fields accepted and not used: metadata that does not change an answer, and vLLM's `ignore_eos`,
 * which `halo calibrate --url` asks of any engine and then counts the tokens actually generated
 * (Halo's runtime always ends at end-of-sequence).
 */
const IGNORED = ["user", "store", "metadata", "service_tier", "ignore_eos"];

/** Fields accepted only at their neutral value (what the answer is without them). */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  logit_bias: (v) => typeof v === "object" && v !== null && Object.keys(v).length === 0,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  parallel_tool_calls: () => true,
  echo: (v) => v === false,
  best_of: (v) => v === 1,
  suffix: (v) => v === "",
  tools: (v) => Array.isArray(v) && v.length === 0,
  tool_choice: (v) => v === "none",
  functions: (v) => Array.isArray(v) && v.length === 0,
};

const COMMON = [
  "model",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "seed",
  "n",
  "stop",
  "stream",
  "stream_options",
  "response_format",
  "guided_choice",
  "guided_json",
  "structured_outputs",
];

function optionalNumber(b: Record<string, unknown>, name: string): number | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw bad(name, `"${name}" must be a number (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * Checks the shared fields of `b` and that every other field is one of `own` (the endpoint's),
 * an ignored one, or at its neutral value.
 */
export function parseCommonFields(
  b: Record<string, unknown>,
  own: readonly string[],
): CommonFields {
  for (const [name, value] of Object.entries(b)) {
    if (COMMON.includes(name) || own.includes(name) || IGNORED.includes(name)) continue;
    if (value === null || value === undefined) continue;
    if (Object.hasOwn(NEUTRAL, name)) {
      if (NEUTRAL[name]!(value)) continue;
      throw bad(
        name,
        `"${name}" is not supported here: leave it out (got ${JSON.stringify(value)?.slice(0, 60)})`,
      );
    }
    throw bad(name, `unrecognized request field "${name}": check its spelling, or leave it out`);
  }

  const maxTokens = optionalNumber(b, "max_tokens");
  const maxCompletion = optionalNumber(b, "max_completion_tokens");
  if (maxTokens !== undefined && maxCompletion !== undefined && maxTokens !== maxCompletion)
    throw bad(
      "max_completion_tokens",
      `"max_tokens" (${maxTokens}) and "max_completion_tokens" (${maxCompletion}) disagree: send one`,
    );
  const max = maxCompletion ?? maxTokens;
  const maxName = maxCompletion !== undefined ? "max_completion_tokens" : "max_tokens";
  if (max !== undefined && (!Number.isInteger(max) || max < 1))
    throw bad(maxName, `"${maxName}" must be an integer >= 1 (got ${max})`);

  const sampling: CommonFields["sampling"] = {};
  const temperature = optionalNumber(b, "temperature");
  if (temperature !== undefined && !(temperature >= 0 && temperature <= 2))
    throw bad("temperature", `"temperature" must be between 0 (greedy) and 2 (got ${temperature})`);
  if (temperature !== undefined) sampling.temperature = temperature;
  const topP = optionalNumber(b, "top_p");
  if (topP !== undefined && !(topP > 0 && topP <= 1))
    throw bad("top_p", `"top_p" must be in (0, 1] (got ${topP})`);
  if (topP !== undefined) sampling.topP = topP;
  const seed = optionalNumber(b, "seed");
  if (seed !== undefined && !Number.isSafeInteger(seed))
    throw bad("seed", `"seed" must be an integer (got ${seed})`);
  if (seed !== undefined) sampling.seed = seed;
  const n = optionalNumber(b, "n") ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 128)
    throw bad("n", `"n" must be an integer from 1 to 128 (got ${n})`);

  if (b.stop !== undefined && b.stop !== null) {
    const list = typeof b.stop === "string" ? [b.stop] : b.stop;
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string" || s === ""))
      throw bad("stop", `"stop" must be a non-empty string or an array of non-empty strings`);
    if (list.length > 0) sampling.stop = list as string[];
  }
  const choices = requestChoices(b);
  if (choices) sampling.choices = choices;
  const schema = requestSchema(b);
  if (schema) sampling.schema = schema;
  if (schema && (choices || sampling.stop))
    throw bad(
      "response_format",
      `a JSON schema ("response_format", "structured_outputs.json" or "guided_json") excludes choices and "stop"`,
    );

  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== "boolean")
    throw bad("stream", `"stream" must be true or false`);
  const stream = b.stream === true;
  let includeUsage = false;
  const options = b.stream_options;
  if (options !== undefined && options !== null) {
    if (!stream) throw bad("stream_options", `"stream_options" needs "stream": true`);
    if (typeof options !== "object" || Array.isArray(options))
      throw bad(
        "stream_options",
        `"stream_options" must be an object like {"include_usage": true}`,
      );
    const include = (options as Record<string, unknown>).include_usage;
    if (include !== undefined && typeof include !== "boolean")
      throw bad("stream_options", `"stream_options.include_usage" must be true or false`);
    includeUsage = include === true;
  }
  if (b.model !== undefined && typeof b.model !== "string")
    throw bad("model", `"model" must be a string (see GET /v1/models)`);
  return {
    model: b.model as string | undefined,
    sampling,
    maxTokens: max,
    n,
    stream,
    includeUsage,
  };
}

/** vLLM's `structured_outputs.choice` or `guided_choice`. */
function requestChoices(b: Record<string, unknown>): string[] | undefined {
  const structured = b.structured_outputs as Record<string, unknown> | null | undefined;
  if (structured !== undefined && structured !== null) {
    if (typeof structured !== "object" || Array.isArray(structured))
      throw bad(
        "structured_outputs",
        `"structured_outputs" must be an object like {"choice": [...]} or {"json": {...}}`,
      );
    const other = Object.keys(structured).filter((k) => k !== "choice" && k !== "json");
    if (other.length > 0)
      throw bad(
        "structured_outputs",
        `"structured_outputs.${other[0]}" is not supported: use "choice" or "json"`,
      );
  }
  const given = structured?.choice ?? b.guided_choice;
  if (given === undefined || given === null) return undefined;
  const name = structured?.choice !== undefined ? "structured_outputs" : "guided_choice";
  if (
    !Array.isArray(given) ||
    given.length === 0 ||
    given.some((s) => typeof s !== "string" || s === "")
  )
    throw bad(
      name,
      `"${name === "structured_outputs" ? "structured_outputs.choice" : name}" must be a non-empty array of non-empty strings`,
    );
  return given as string[];
}

/**
 * The JSON Schema an answer is constrained to: OpenAI's `response_format` json_schema, vLLM's
 * `structured_outputs.json` or `guided_json` (halo.openai sends whichever its flavour says).
 */
function requestSchema(b: Record<string, unknown>): Record<string, unknown> | undefined {
  const format = b.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | null;
  const structured = b.structured_outputs as { json?: unknown } | null | undefined;
  let schema: unknown = structured?.json ?? b.guided_json ?? undefined;
  if (format !== undefined && format !== null) {
    if (typeof format !== "object" || Array.isArray(format))
      throw bad("response_format", `"response_format" must be an object`);
    if (format.type === "json_schema") {
      if (!format.json_schema || typeof format.json_schema !== "object")
        throw bad(
          "response_format",
          `"response_format.json_schema" must be {"name": ..., "schema": {...}}`,
        );
      schema ??= format.json_schema.schema;
      if (schema === undefined)
        throw bad("response_format", `"response_format.json_schema.schema" is missing`);
    } else if (format.type === "json_object")
      throw bad(
        "response_format",
        `"response_format": {"type": "json_object"} asks for any JSON object, which Halo cannot generate: send {"type": "json_schema", "json_schema": {"name": "...", "schema": {...}}} with the properties you want`,
      );
    else if (format.type !== "text")
      throw bad("response_format", `"response_format.type" must be "json_schema" or "text"`);
  }
  if (schema === undefined || schema === null) return undefined;
  try {
    return prepareSchema(schema).json;
  } catch (error) {
    throw bad("response_format", `the JSON schema cannot be decoded: ${(error as Error).message}`);
  }
}
