// `POST /v1/chat/completions` for the served model: the messages through the model's chat
// template, `n` answers, whole or streamed as OpenAI streams them (a role chunk, content deltas,
// a chunk with `finish_reason`, optionally a usage chunk, then [DONE]). Checks run before a
// stream opens, so a bad request is a plain 400.
import type { CompletionsService } from "../completions.ts";
import { HttpError } from "../http-error.ts";
import {
  answerMeta,
  chatChunk,
  chatCompletion,
  finishReason,
  usageChunk,
  usageOf,
} from "./answer-shape.ts";
import type { ChatRequest } from "./chat-request.ts";
import { answerBudget } from "./prompt-limits.ts";
import { runAnswers } from "./run-answers.ts";
import type { SseStream } from "./sse.ts";

export async function chatAnswer(
  service: CompletionsService,
  request: ChatRequest,
  signal: AbortSignal,
  openStream: () => SseStream,
): Promise<unknown> {
  const model = await service.model();
  let prompt: number[];
  try {
    prompt = model.encodeChat(request.messages);
  } catch (error) {
    throw new HttpError(400, (error as Error).message, {}, { param: "messages" });
  }
  const maxTokens = answerBudget(model, prompt.length, request.maxTokens, "messages");
  const sampling = [{ ...request.sampling, maxTokens }];
  const meta = answerMeta("chat", request.model ?? service.modelName, request.includeUsage);
  if (!request.stream) {
    const choices = await runAnswers(service, [prompt], sampling, request.n, signal);
    return chatCompletion(meta, choices, usageOf([prompt], choices));
  }
  const sse = openStream();
  const choices = await runAnswers(service, [prompt], sampling, request.n, signal, {
    start: (index) => sse.send(chatChunk(meta, index, { role: "assistant", content: "" }, null)),
    delta: (index, content) => sse.send(chatChunk(meta, index, { content }, null)),
    end: (c) => sse.send(chatChunk(meta, c.index, {}, finishReason(c.result))),
  });
  if (request.includeUsage)
    sse.send(usageChunk(meta, "chat.completion.chunk", usageOf([prompt], choices)));
  sse.done();
  return undefined;
}
