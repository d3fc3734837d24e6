// What calibration drives: one model on one execution provider, asked to run prefill calls and
// decode steps of given shapes with dummy tokens. The ONNX implementation (onnx-bench-target.ts)
// talks to onnxruntime directly; an adapter over the runtime's batched prefill / decode-step API
// can implement the same interface, so the profile measures exactly what the Processor pays.
import type { PrefillRow } from "./formulas.ts";

export interface BenchTarget {
  readonly modelId: string;
  /** Execution provider actually used ("cpu", "cuda", ...): part of the profile's cache key. */
  readonly provider: string;
  /** Files whose content defines the model: hashed into the cache key. */
  readonly files: readonly string[];
  /** Longest sequence (past + new) the model accepts. */
  readonly maxPositions: number;
  readonly kvBytesPerToken: number;
  /** Bytes of the model's weights (to leave room for them in the KV budget). */
  readonly weightBytes: number;
  /** One batched prefill: row i runs `newTokens` after `cachedTokens` of past. */
  prefill(rows: readonly PrefillRow[]): Promise<void>;
  /** One decode step: `batch` sequences, each one new token after `context` tokens of past. */
  decodeStep(batch: number, context: number): Promise<void>;
  /**
   * For targets that cannot run a single step (a remote engine, http-bench-target.ts): times
   * `decodeStep`'s shape itself and returns one step's milliseconds. Calibration uses it when set.
   */
  timeDecodeStep?(batch: number, context: number): Promise<number>;
  /** Loads the model afresh (and releases it); returns milliseconds. */
  measureLoadMs(): Promise<number>;
  dispose(): Promise<void>;
}
