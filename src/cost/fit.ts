// Fits the formula constants (formulas.ts) to measured samples by non-negative least squares.
// Rows are weighted by 1 / measured time, so the fit minimizes *relative* error: samples span
// 1 ms to hundreds of ms, and an absolute fit would let the slowest sample decide everything
// while the planner compares small and large batches alike.
import { solveNnls } from "./nnls.ts";
import {
  decodeFeatures,
  predictDecodeStepMs,
  predictPrefillMs,
  prefillFeatures,
  type DecodeConstants,
  type PrefillConstants,
} from "./formulas.ts";
import type { DecodeSample, FitQuality, PrefillSample } from "./profile.ts";

export function fitPrefill(samples: readonly PrefillSample[]): {
  constants: PrefillConstants;
  quality: FitQuality;
} {
  const usable = samples.filter((s) => s.ms > 0 && s.rows.length > 0);
  if (usable.length < 3) {
    throw new Error(
      `cost: need at least 3 prefill samples to fit 3 constants, got ${usable.length}`,
    );
  }
  const A = usable.map((s) => prefillFeatures(s.rows).map((v) => v / s.ms));
  const b = usable.map(() => 1);
  const [callMs, tokenMs, attentionMs] = solveNnls(A, b).x as [number, number, number];
  const constants = { callMs, tokenMs, attentionMs };
  return {
    constants,
    quality: quality(usable.map((s) => [predictPrefillMs(constants, s.rows), s.ms])),
  };
}

export function fitDecode(samples: readonly DecodeSample[]): {
  constants: DecodeConstants;
  quality: FitQuality;
} {
  const usable = samples.filter((s) => s.ms > 0 && s.batch > 0);
  if (usable.length < 3) {
    throw new Error(
      `cost: need at least 3 decode samples to fit 3 constants, got ${usable.length}`,
    );
  }
  const A = usable.map((s) => decodeFeatures(s.batch, s.context).map((v) => v / s.ms));
  const b = usable.map(() => 1);
  const [stepMs, rowMs, kvMs] = solveNnls(A, b).x as [number, number, number];
  const constants = { stepMs, rowMs, kvMs };
  return {
    constants,
    quality: quality(usable.map((s) => [predictDecodeStepMs(constants, s.batch, s.context), s.ms])),
  };
}

/** Relative error of predictions: |predicted - measured| / measured. */
export function relativeError(predicted: number, measured: number): number {
  return Math.abs(predicted - measured) / Math.max(measured, 1e-9);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function quality(pairs: [predicted: number, measured: number][]): FitQuality {
  const errors = pairs.map(([p, m]) => relativeError(p, m));
  return {
    medianRelError: median(errors),
    maxRelError: Math.max(...errors),
    samples: pairs.length,
  };
}
