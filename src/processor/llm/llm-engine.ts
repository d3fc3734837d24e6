// What the scheduler needs from a model, and nothing more: a batched forward over sequences that
// each carry their own past KV, and a per-request decoder that turns logits into the next token
// exactly as `Model.generate` would. The runtime adapter (runtime-engine.ts) implements it over
// the ONNX runtime; tests implement it with a toy model. The boundary hides tensors, padding and
// sessions from the scheduler, which only moves opaque KV values between steps and the cache.
import type { GenerateRequest, GenerateResult } from "../../runtime/types.ts";
import type { KvPayload } from "../kv/kv-payload.ts";

/** One sequence's part of a forward call: its cached past (if any) and the tokens to run. */
export interface ForwardInput<K extends KvPayload<K>> {
  /** KV of the tokens before `tokens`; undefined for none. */
  past: K | undefined;
  /** New tokens: a prefill's uncached suffix, or the one token of a decode step. */
  tokens: readonly number[];
}

export interface ForwardOutput<K extends KvPayload<K>> {
  /** Logits of the last position only: [vocab]. */
  logits: Float32Array;
  /** KV of past + tokens (a new value; the input past is unchanged). */
  kv: K;
}

/** Chooses tokens for one request; stateful, one per request. */
export interface SequenceDecoder {
  /** Takes the logits after the last fed token; returns the chosen token and whether to stop. */
  next(logits: Float32Array): { token: number; done: boolean };
  /**
   * The answer so far; final once `next` said done. A token chosen with `done: true` is never fed
   * back, so its KV is never computed.
   */
  result(): Omit<GenerateResult, "prefillTokens" | "cachedTokens">;
}

export interface LlmEngine<K extends KvPayload<K>> {
  /** Namespace of this model's KV in the prefix cache: KV of two models never mixes. */
  readonly modelId: string;
  /** KV bytes per token (2 x layers x kvHeads x headDim x dtype bytes). */
  readonly kvBytesPerToken: number;
  /** Longest sequence (prompt + output) the model accepts. */
  readonly maxPositions: number;
  /**
   * Runs several sequences in one batched call. Outputs are in input order. A sequence's result
   * must not depend on the others in the batch beyond float rounding (about 1e-6).
   */
  forward(inputs: readonly ForwardInput<K>[]): Promise<ForwardOutput<K>[]>;
  /**
   * Resolves once a forward can start at once (a model thread has loaded its session; seconds
   * for a realistic model), rejects when it never can. Absent: always ready. The worker waits on
   * it before its first forward, so the load is a task of its own in the trace and never counted
   * as the first prefill's time (nor fed to the cost model as one).
   */
  readonly ready?: Promise<void>;
  createDecoder(request: GenerateRequest): SequenceDecoder;
}
