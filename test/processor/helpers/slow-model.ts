// Wraps an LlmModel so every generate call takes at least `ms` (a timer): LLM work of a known
// size for pipelining tests, without a real model.
import type { LlmModel } from "../../../src/executor/types.ts";

export function slowModel(inner: LlmModel, ms: number): LlmModel & { batches: number[] } {
  const batches: number[] = [];
  return {
    id: `${inner.id}-slow`,
    batches,
    encodeChat: (m) => inner.encodeChat(m),
    async generate(requests, options) {
      batches.push(requests.length);
      await new Promise((r) => setTimeout(r, ms));
      return inner.generate(requests, options);
    },
  };
}
