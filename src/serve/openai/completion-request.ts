// Parsing an OpenAI `/v1/completions` body: the prompt (text, token ids, or a list of either, one
// answer each) and vLLM's `return_token_ids` here, the fields it shares with chat in
// request-fields.ts. A 400 names the field and what to send.
import type { SamplingOptions } from "../../runtime/types.ts";
import { bad, parseCommonFields, type CommonFields } from "./request-fields.ts";

/** One prompt: text (tokenized as-is, no chat template) or token ids. */
export type PromptInput = string | number[];

export interface CompletionRequest extends Omit<CommonFields, "sampling" | "maxTokens"> {
  prompts: PromptInput[];
  sampling: SamplingOptions;
  /** vLLM's `return_token_ids`: add `prompt_token_ids` and `token_ids` to each choice. */
  returnTokenIds: boolean;
}

/** OpenAI's default for `max_tokens` on /v1/completions. */
export const DEFAULT_MAX_TOKENS = 16;

function isTokenArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === "number");
}

function parsePrompts(prompt: unknown): PromptInput[] {
  const shape =
    'send "prompt" as a string, an array of token ids, or an array of strings / token-id arrays (one choice each)';
  if (prompt === undefined || prompt === null) throw bad("prompt", `"prompt" is missing: ${shape}`);
  if (typeof prompt === "string") return [prompt];
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw bad("prompt", `"prompt" must not be ${JSON.stringify(prompt)}: ${shape}`);
  if (isTokenArray(prompt)) return [prompt];
  return prompt.map((p, i) => {
    if (typeof p === "string" || isTokenArray(p)) return p;
    throw bad("prompt", `"prompt[${i}]" is ${JSON.stringify(p)?.slice(0, 60)}: ${shape}`);
  });
}

/** Checks the body and builds the sampling options; throws HttpError(400) on anything wrong. */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw bad(
      undefined,
      'the body must be a JSON object such as {"prompt": "Hello", "max_tokens": 16}',
    );
  const b = body as Record<string, unknown>;
  const prompts = parsePrompts(b.prompt);
  if (b.return_token_ids !== undefined && typeof b.return_token_ids !== "boolean")
    throw bad("return_token_ids", `"return_token_ids" must be true or false`);
  const { sampling, maxTokens, ...rest } = parseCommonFields(b, ["prompt", "return_token_ids"]);
  return {
    ...rest,
    prompts,
    sampling: { maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS, ...sampling },
    returnTokenIds: b.return_token_ids === true,
  };
}
