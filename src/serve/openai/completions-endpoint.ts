// `POST /v1/completions`: text or token-id prompts, `n` answers each, whole or streamed. The
// checks (parsing, vocabulary, context length) all run before a stream opens, so a bad request is
// a plain 400 with OpenAI's error body, never half a stream.
import type { CompletionsService } from "../completions.ts";
import {
  type AnswerChoice,
  answerMeta,
  completionChunk,
  stopReason,
  textCompletion,
  usageChunk,
  usageOf,
  finishReason,
} from "./answer-shape.ts";
import type { CompletionRequest } from "./completion-request.ts";
import { answerBudget, checkTokens } from "./prompt-limits.ts";
import { runAnswers } from "./run-answers.ts";
import type { SseStream } from "./sse.ts";

/** The answer's JSON, or with `openStream`, the answer streamed (and undefined returned). */
export async function completionsAnswer(
  service: CompletionsService,
  request: CompletionRequest,
  signal: AbortSignal,
  openStream?: () => SseStream,
): Promise<unknown> {
  const model = await service.model();
  const prompts = request.prompts.map((p, i) => {
    const where = request.prompts.length > 1 ? `prompt[${i}]` : "prompt";
    const tokens = typeof p === "string" ? model.encode(p) : p;
    checkTokens(model, tokens, where);
    answerBudget(model, tokens.length, request.sampling.maxTokens, where);
    return tokens;
  });
  const meta = answerMeta("completion", request.model ?? service.modelName, request.includeUsage);
  const extra = (c: AnswerChoice) => ({
    stop_reason: stopReason(c.result, request.sampling.stop),
    ...(request.returnTokenIds
      ? { prompt_token_ids: prompts[c.prompt], token_ids: c.result.tokens }
      : {}),
  });
  const sampling = prompts.map(() => request.sampling);
  if (!request.stream) {
    const choices = await runAnswers(service, prompts, sampling, request.n, signal);
    return textCompletion(meta, choices, usageOf(prompts, choices), extra);
  }
  const sse = openStream!();
  const choices = await runAnswers(service, prompts, sampling, request.n, signal, {
    delta: (index, text) => sse.send(completionChunk(meta, index, text, null)),
    end: (c) => sse.send(completionChunk(meta, c.index, "", finishReason(c.result), extra(c))),
  });
  if (request.includeUsage)
    sse.send(usageChunk(meta, "text_completion", usageOf(prompts, choices)));
  sse.done();
  return undefined;
}
