// A prompt checked against the served model before it runs, with the 400 OpenAI-compatible
// servers give: empty prompts, token ids outside the vocabulary, and prompts (with the answer's
// room) longer than the model's positions (`context_length_exceeded`).
import type { Model } from "../../runtime/index.ts";
import { HttpError } from "../http-error.ts";

export function checkTokens(model: Model, tokens: readonly number[], where: string): void {
  if (tokens.length === 0)
    throw new HttpError(
      400,
      `"${where}" is empty: send at least one character or token id`,
      {},
      {
        param: "prompt",
      },
    );
  const vocab = model.config.vocabSize;
  for (const id of tokens)
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new HttpError(
        400,
        `"${where}" holds token id ${id}, outside this model's vocabulary [0, ${vocab}): send ids from its tokenizer, or text`,
        {},
        { param: "prompt" },
      );
}

/**
 * Tokens the answer may take: as asked, or (chat's default) whatever room the model's positions
 * leave after the prompt. A prompt that leaves none, or less than asked for, is a 400.
 */
export function answerBudget(
  model: Model,
  promptLength: number,
  asked: number | undefined,
  where: string,
): number {
  const limit = model.config.maxPositions;
  const tooLong = (message: string) =>
    new HttpError(400, message, {}, { param: where, code: "context_length_exceeded" });
  if (promptLength >= limit)
    throw tooLong(
      `"${where}" has ${promptLength} tokens but this model has ${limit} positions: shorten it`,
    );
  if (asked === undefined) return limit - promptLength;
  if (promptLength + asked > limit)
    throw tooLong(
      `"${where}" has ${promptLength} tokens and asks for ${asked} more, but this model has ${limit} positions: shorten it or lower max_tokens`,
    );
  return asked;
}
