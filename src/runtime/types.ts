// The contract between the runtime (which owns the model) and everything that drives it: the
// row-by-row executor, the Processor, the server. The runtime never sees rows, only token batches.
// Implementations live beside this file; this file holds types only.

/** One chat turn, as the model's chat template expects it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** How to choose tokens. Greedy (temperature 0 or absent) is the default and is deterministic. */
export interface SamplingOptions {
  /** Upper bound on generated tokens (not counting the prompt). */
  maxTokens: number;
  /** Generation stops before the first occurrence of any of these strings (excluded from text). */
  stop?: string[];
  /** Constrain the answer to exactly one of these labels (token-level prefix constraint). */
  choices?: string[];
  /**
   * A JSON Schema (the subset src/runtime/json-schema decodes) the answer must satisfy: tokens
   * are constrained so the text is always a complete, valid value in compact JSON.
   */
  schema?: Record<string, unknown>;
  /** 0 or absent: greedy. Above 0: sampling, repeatable when `seed` is set. */
  temperature?: number;
  topP?: number;
  seed?: number;
}

export interface GenerateRequest {
  /** Prompt token ids, chat template already applied (see `Model.encodeChat`). */
  promptTokens: number[];
  sampling: SamplingOptions;
  /**
   * Called after each generated token with the answer's text so far (stop strings cut, a choice
   * completed), for streaming it (`halo serve`'s `stream: true`). Local models only.
   */
  onText?: (text: string) => void;
}

export interface GenerateResult {
  text: string;
  /** Generated token ids (no prompt), without the stop/eos token. */
  tokens: number[];
  finishReason: "eos" | "stop" | "length" | "choice";
  /** Prompt tokens actually run through prefill (prompt length minus cached tokens). */
  prefillTokens: number;
  /** Prompt tokens whose KV came from a cache instead of being computed. */
  cachedTokens: number;
}

/** Architecture numbers read from config.json. */
export interface ModelConfig {
  modelType: string;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositions: number;
  eosTokenIds: number[];
  padTokenId: number;
  bosTokenId?: number;
}

export interface ExecutionOptions {
  /** "cpu" (default), "cuda" or "webgpu"; a missing provider falls back to CPU with a notice. */
  provider?: "cpu" | "cuda" | "webgpu";
  /** Throw instead of falling back when the provider is unavailable. */
  requireProvider?: boolean;
  /**
   * Threads one forward runs on (onnxruntime's intra-op pool). Default: every core this process
   * may use (`os.availableParallelism()`); onnxruntime's own default ran one here.
   */
  intraOpThreads?: number;
}
