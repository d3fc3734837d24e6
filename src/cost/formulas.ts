// The two LLM cost formulas, as feature rows (for fitting) and as predictions (for planning).
// One place defines both, so a fitted constant always multiplies the same feature it was fit on.

/** One sequence of a prefill call: `newTokens` run through the model after `cachedTokens`. */
export interface PrefillRow {
  newTokens: number;
  cachedTokens: number;
}

/** Fitted prefill constants, milliseconds. */
export interface PrefillConstants {
  /** c_call: per call (session run, tensor setup, output copies of fixed size). */
  callMs: number;
  /** c_tok: per new token (the matmuls of every layer scale with tokens computed). */
  tokenMs: number;
  /** c_att: per (new token x attended token) pair. */
  attentionMs: number;
}

/** Fitted decode-step constants, milliseconds. */
export interface DecodeConstants {
  /** d_0: per step (one session run). */
  stepMs: number;
  /** d_row: per sequence in the batch (one token of matmuls, logits, sampling). */
  rowMs: number;
  /** d_kv: per sequence per context token (attention, and the past copied in and out). */
  kvMs: number;
}

/**
 * prefill(B, L, P) = c_call + c_tok * sum(L) + c_att * sum(L * (P + L/2)).
 * Why this shape: a call pays a fixed overhead once; each new token pays the weight matmuls
 * (linear in tokens); each new token also attends to the P cached tokens and, causally, to about
 * half of the L new ones, so attention work is L * (P + L/2) per sequence. Measured on the
 * 0.85 M model the fixed part dominates (1-2 ms per call); on 0.5B shapes the per-token part does.
 * A padded batch computes padding too: pass the padded lengths when the executor pads.
 */
export function prefillFeatures(rows: readonly PrefillRow[]): [number, number, number] {
  let tokens = 0;
  let pairs = 0;
  for (const r of rows) {
    tokens += r.newTokens;
    pairs += r.newTokens * (r.cachedTokens + r.newTokens / 2);
  }
  return [rows.length > 0 ? 1 : 0, tokens, pairs];
}

/**
 * decode_step(B, T) = d_0 + d_row * B + d_kv * B * T.
 * Why: one session run per step (d_0); each sequence computes one token of matmuls (d_row); and
 * each sequence attends over, and with onnxruntime-node copies in and out, its T context tokens
 * of KV (d_kv, about 0.03 ms per row per token on 0.5B shapes: runtime.md "Measured costs").
 */
export function decodeFeatures(batch: number, context: number): [number, number, number] {
  return [batch > 0 ? 1 : 0, batch, batch * context];
}

export function predictPrefillMs(c: PrefillConstants, rows: readonly PrefillRow[]): number {
  const [one, tokens, pairs] = prefillFeatures(rows);
  return c.callMs * one + c.tokenMs * tokens + c.attentionMs * pairs;
}

export function predictDecodeStepMs(c: DecodeConstants, batch: number, context: number): number {
  const [one, rows, kv] = decodeFeatures(batch, context);
  return c.stepMs * one + c.rowMs * rows + c.kvMs * kv;
}

/**
 * `steps` decode steps of a batch whose context starts at `context` and grows by one per step:
 * the sum of decode_step over the steps, in closed form (the kv term is arithmetic in t).
 */
export function predictDecodeMs(
  c: DecodeConstants,
  steps: number,
  batch: number,
  context: number,
): number {
  if (steps <= 0 || batch <= 0) return 0;
  const perStep = c.stepMs + c.rowMs * batch + c.kvMs * batch * context;
  return steps * perStep + c.kvMs * batch * ((steps * (steps - 1)) / 2);
}
