// Parsing an OpenAI `/v1/completions` body into runtime requests, with a 400 that names the field
// and what to send for anything malformed. Kept apart from the service so the rules (which
// OpenAI and vLLM fields are honoured, which are refused, which are ignored) read in one place.
import { prepareSchema } from "../runtime/json-schema/typed-output.ts";
import type { SamplingOptions } from "../runtime/types.ts";
import { HttpError } from "./http-error.ts";

/** One prompt: text (tokenized as-is, no chat template) or token ids. */
export type PromptInput = string | number[];

export interface CompletionRequest {
  prompts: PromptInput[];
  sampling: SamplingOptions;
  /** Echoed back; any string (the service serves one model). */
  model: string | undefined;
  /** vLLM's `return_token_ids`: add `prompt_token_ids` and `token_ids` to each choice. */
  returnTokenIds: boolean;
}

/** OpenAI's default for `max_tokens` on /v1/completions. */
export const DEFAULT_MAX_TOKENS = 16;

const bad = (message: string) => new HttpError(400, message);

function isTokenArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === "number");
}

function parsePrompts(prompt: unknown): PromptInput[] {
  const shape =
    'send "prompt" as a string, an array of token ids, or an array of strings / token-id arrays (one choice each)';
  if (prompt === undefined || prompt === null) throw bad(`"prompt" is missing: ${shape}`);
  if (typeof prompt === "string") return [prompt];
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw bad(`"prompt" must not be ${JSON.stringify(prompt)}: ${shape}`);
  if (isTokenArray(prompt)) return [prompt];
  return prompt.map((p, i) => {
    if (typeof p === "string" || isTokenArray(p)) return p;
    throw bad(`"prompt[${i}]" is ${JSON.stringify(p)?.slice(0, 60)}: ${shape}`);
  });
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw bad(`"${name}" must be a number (got ${JSON.stringify(v)})`);
  return v;
}

/** Checks the body and builds the sampling options; throws HttpError(400) on anything wrong. */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw bad('the body must be a JSON object such as {"prompt": "Hello", "max_tokens": 16}');
  const b = body as Record<string, unknown>;
  const prompts = parsePrompts(b.prompt);

  const maxTokens = optionalNumber(b, "max_tokens") ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw bad(`"max_tokens" must be an integer >= 1 (got ${maxTokens})`);
  const temperature = optionalNumber(b, "temperature");
  if (temperature !== undefined && temperature < 0)
    throw bad(`"temperature" must be 0 (greedy) or more (got ${temperature})`);
  const topP = optionalNumber(b, "top_p");
  if (topP !== undefined && !(topP > 0 && topP <= 1))
    throw bad(`"top_p" must be in (0, 1] (got ${topP})`);
  const seed = optionalNumber(b, "seed");
  if (seed !== undefined && !Number.isInteger(seed))
    throw bad(`"seed" must be an integer (got ${seed})`);
  const n = optionalNumber(b, "n");
  if (n !== undefined && n !== 1)
    throw bad(`"n" must be 1 (got ${n}): send one request per sample, each with its own seed`);
  const bestOf = optionalNumber(b, "best_of");
  if (bestOf !== undefined && bestOf !== 1) throw bad(`"best_of" is not supported: leave it out`);

  let stop: string[] | undefined;
  if (b.stop !== undefined && b.stop !== null) {
    const list = typeof b.stop === "string" ? [b.stop] : b.stop;
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string" || s === ""))
      throw bad(`"stop" must be a non-empty string or an array of non-empty strings`);
    if (list.length > 0) stop = list as string[];
  }
  let choices: string[] | undefined;
  if (b.guided_choice !== undefined && b.guided_choice !== null) {
    const g = b.guided_choice;
    if (!Array.isArray(g) || g.length === 0 || g.some((s) => typeof s !== "string" || s === ""))
      throw bad(`"guided_choice" must be a non-empty array of non-empty strings`);
    choices = g as string[];
  }
  const schema = requestSchema(b);
  if (schema && (choices || stop))
    throw bad(
      `a JSON schema ("guided_json" / "response_format") excludes "guided_choice" and "stop"`,
    );
  if (b.stream === true)
    throw bad(`"stream": true is not supported on /v1/completions here: send "stream": false`);
  if (b.echo === true) throw bad(`"echo": true is not supported: leave it out`);
  if (b.logprobs !== undefined && b.logprobs !== null)
    throw bad(`"logprobs" is not supported: leave it out or send null`);
  if (b.model !== undefined && typeof b.model !== "string")
    throw bad(`"model" must be a string (any name; it is echoed back)`);
  if (b.return_token_ids !== undefined && typeof b.return_token_ids !== "boolean")
    throw bad(`"return_token_ids" must be true or false`);

  const sampling: SamplingOptions = { maxTokens };
  if (temperature !== undefined) sampling.temperature = temperature;
  if (topP !== undefined) sampling.topP = topP;
  if (seed !== undefined) sampling.seed = seed;
  if (stop) sampling.stop = stop;
  if (choices) sampling.choices = choices;
  if (schema) sampling.schema = schema;
  return {
    prompts,
    sampling,
    model: b.model as string | undefined,
    returnTokenIds: b.return_token_ids === true,
  };
}

/**
 * The JSON Schema a request constrains its answer to: vLLM's `guided_json`, or OpenAI's
 * `response_format: { type: "json_schema", json_schema: { schema } }` (halo.openai sends both).
 */
function requestSchema(b: Record<string, unknown>): Record<string, unknown> | undefined {
  const format = b.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | null;
  let schema: unknown = b.guided_json ?? undefined;
  if (format !== undefined && format !== null) {
    if (format.type === "json_schema") schema ??= format.json_schema?.schema;
    else if (format.type !== "text")
      throw bad(
        `"response_format" must be { type: "json_schema", json_schema: { schema } } or { type: "text" }`,
      );
  }
  if (schema === undefined || schema === null) return undefined;
  try {
    return prepareSchema(schema).json;
  } catch (error) {
    throw bad(`the JSON schema cannot be decoded: ${(error as Error).message}`);
  }
}
