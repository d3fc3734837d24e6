// The JSON OpenAI clients expect back, in one place: whole answers (`chat.completion`,
// `text_completion`), the chunks of a streamed one (`chat.completion.chunk`; completions stream
// `text_completion` chunks), and `usage`. Field by field as OpenAI sends them, plus vLLM's
// `stop_reason` and `token_ids` where halo.openai reads them.
import { randomUUID } from "node:crypto";
import type { GenerateResult } from "../../runtime/types.ts";

/** What every object of one answer shares. */
export interface AnswerMeta {
  id: string;
  created: number;
  model: string;
  /** Streams only: every chunk carries `usage: null`, and a last chunk the usage. */
  includeUsage: boolean;
}

export function answerMeta(kind: "chat" | "completion", model: string, includeUsage = false) {
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`;
  return { id, created: Math.floor(Date.now() / 1000), model, includeUsage };
}

/** One answer: which prompt it is for (completions take several), and the result. */
export interface AnswerChoice {
  index: number;
  prompt: number;
  result: GenerateResult;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function finishReason(r: GenerateResult): "stop" | "length" {
  return r.finishReason === "length" ? "length" : "stop";
}

/**
 * vLLM's `stop_reason`: null for end-of-sequence (and a finished choice), else what stopped it.
 * The runtime does not say which of several stop strings matched: all are listed then.
 */
export function stopReason(
  r: GenerateResult,
  stop: string[] | undefined,
): string | string[] | null {
  if (r.finishReason !== "stop" || !stop) return null;
  return stop.length === 1 ? stop[0]! : stop;
}

/** A prompt counts once however many answers it has (`n`), as OpenAI bills it. */
export function usageOf(prompts: readonly number[][], choices: readonly AnswerChoice[]): Usage {
  const promptTokens = prompts.reduce((n, p) => n + p.length, 0);
  const completion = choices.reduce((n, c) => n + c.result.tokens.length, 0);
  const cached = new Map<number, number>();
  for (const c of choices) if (!cached.has(c.prompt)) cached.set(c.prompt, c.result.cachedTokens);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: [...cached.values()].reduce((a, b) => a + b, 0) },
  };
}

export function chatCompletion(meta: AnswerMeta, choices: AnswerChoice[], usage: Usage) {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: choices.map((c) => ({
      index: c.index,
      message: { role: "assistant", content: c.result.text, refusal: null },
      logprobs: null,
      finish_reason: finishReason(c.result),
    })),
    usage,
  };
}

export function textCompletion(
  meta: AnswerMeta,
  choices: AnswerChoice[],
  usage: Usage,
  extra: (c: AnswerChoice) => Record<string, unknown>,
) {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: choices.map((c) => ({
      index: c.index,
      text: c.result.text,
      logprobs: null,
      finish_reason: finishReason(c.result),
      ...extra(c),
    })),
    usage,
  };
}

/** A streamed chat chunk: the first of a choice carries the role, the last `finish_reason`. */
export function chatChunk(
  meta: AnswerMeta,
  index: number,
  delta: { role?: "assistant"; content?: string },
  finish: "stop" | "length" | null,
) {
  return {
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    ...(meta.includeUsage ? { usage: null } : {}),
  };
}

export function completionChunk(
  meta: AnswerMeta,
  index: number,
  text: string,
  finish: "stop" | "length" | null,
  extra: Record<string, unknown> = {},
) {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index, text, logprobs: null, finish_reason: finish, ...extra }],
    ...(meta.includeUsage ? { usage: null } : {}),
  };
}

/** The last chunk with `stream_options.include_usage`: no choices, the whole answer's usage. */
export function usageChunk(meta: AnswerMeta, object: string, usage: Usage) {
  return {
    id: meta.id,
    object,
    created: meta.created,
    model: meta.model,
    choices: [],
    usage,
  };
}
