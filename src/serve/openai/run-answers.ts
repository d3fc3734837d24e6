// Runs the answers of one request: `n` per prompt, all submitted at once so they join the
// served model's continuous batch together (and the prompt's KV is computed once and shared
// through the prefix cache). With a stream, each answer's text goes out as it is decoded.
import type { GenerateRequest, SamplingOptions } from "../../runtime/types.ts";
import type { CompletionsService } from "../completions.ts";
import type { AnswerChoice } from "./answer-shape.ts";
import { TextDeltas } from "./text-deltas.ts";

export interface AnswerStream {
  /** The first thing each answer sends (chat: the role). */
  start?(index: number): void;
  delta(index: number, text: string): void;
  end(choice: AnswerChoice): void;
}

/**
 * Answer `index` is prompt `floor(index / n)`'s copy `index % n`, as OpenAI numbers them. Copies
 * of a seeded sampling request take seeds seed, seed+1, ..., so they differ and still repeat.
 */
export async function runAnswers(
  service: CompletionsService,
  prompts: readonly number[][],
  sampling: readonly SamplingOptions[],
  n: number,
  signal: AbortSignal,
  stream?: AnswerStream,
): Promise<AnswerChoice[]> {
  const admitted = service.admit(prompts.length * n);
  try {
    return await generateAll(service, prompts, sampling, n, signal, stream);
  } finally {
    admitted();
  }
}

async function generateAll(
  service: CompletionsService,
  prompts: readonly number[][],
  sampling: readonly SamplingOptions[],
  n: number,
  signal: AbortSignal,
  stream?: AnswerStream,
): Promise<AnswerChoice[]> {
  const requests: GenerateRequest[] = [];
  const deltas: TextDeltas[] = [];
  prompts.forEach((promptTokens, p) => {
    for (let copy = 0; copy < n; copy++) {
      const index = p * n + copy;
      const s = { ...sampling[p]! };
      if (s.seed !== undefined && copy > 0) s.seed += copy;
      const request: GenerateRequest = { promptTokens, sampling: s };
      if (stream) {
        const d = new TextDeltas(s.stop, s.choices !== undefined);
        deltas[index] = d;
        request.onText = (text) => {
          const delta = d.next(text);
          if (delta) stream.delta(index, delta);
        };
        stream.start?.(index);
      }
      requests.push(request);
    }
  });
  // One generate() per answer, all in this turn: they still share the batch, and each streamed
  // answer ends as soon as it is done, not when the slowest copy is.
  return Promise.all(
    requests.map(async (request, index) => {
      const [result] = await service.generate([request], signal);
      const choice = { index, prompt: Math.floor(index / n), result: result! };
      if (stream) {
        const rest = deltas[index]!.finish(choice.result.text);
        if (rest) stream.delta(index, rest);
        stream.end(choice);
      }
      return choice;
    }),
  );
}
