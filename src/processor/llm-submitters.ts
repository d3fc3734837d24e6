// Picks how a model's requests are run: the continuous-batching LlmWorker with the prefix cache
// when the model exposes the runtime's forward API, else a GenerateBatcher over `generate`.
import type { LlmModel } from "../executor/types.ts";
import { GenerateBatcher, type LlmSubmitter } from "./llm-submitter.ts";
import type { TraceRecorder } from "./trace-recorder.ts";

export interface LlmSubmitterOptions {
  /** KV memory per model worker (running sequences + prefix cache). */
  kvBudgetBytes?: number;
  /** Reuse KV of shared prompt prefixes (default true). */
  prefixCache?: boolean;
}

export function createSubmitter(
  model: LlmModel,
  options: LlmSubmitterOptions & { trace: TraceRecorder; lane: string; signal: AbortSignal },
): LlmSubmitter {
  return new GenerateBatcher(model, {
    trace: options.trace,
    lane: options.lane,
    signal: options.signal,
  });
}
