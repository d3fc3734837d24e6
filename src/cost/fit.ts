// Fits the formula constants (formulas.ts) to measured samples by non-negative least squares.
// Rows are weighted by 1 / measured time, so the fit minimizes *relative* error: samples span
// 1 ms to hundreds of ms, and an absolute fit would let the slowest sample decide everything
// while the planner compares small and large batches alike.
import { solveNnls } from "./nnls.ts";
import {
  decodeFeatures,
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
  const { x, quality } = fitRobust(
    usable.map((s) => prefillFeatures(s.rows)),
    usable.map((s) => s.ms),
  );
  const [callMs, tokenMs, attentionMs] = x as [number, number, number];
  return { constants: { callMs, tokenMs, attentionMs }, quality };
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
  const { x, quality } = fitRobust(
    usable.map((s) => decodeFeatures(s.batch, s.context)),
    usable.map((s) => s.ms),
  );
  const [stepMs, rowMs, kvMs] = x as [number, number, number];
  return { constants: { stepMs, rowMs, kvMs }, quality };
}

/**
 * Relative-error NNLS, then one refit without the points the first fit misses by more than 3x
 * its median error (at most a quarter of them): on a shared machine a point whose every repeat
 * overlapped someone else's burst is not the model's cost, and left in it bends all three
 * constants. Quality is reported over all points, dropped ones included.
 */
export function fitRobust(
  features: readonly (readonly number[])[],
  ms: readonly number[],
): { x: number[]; quality: FitQuality } {
  const solve = (idx: number[]) =>
    solveNnls(
      idx.map((i) => features[i]!.map((v) => v / ms[i]!)),
      idx.map(() => 1),
    ).x;
  const all = ms.map((_, i) => i);
  const predict = (x: number[], i: number) => features[i]!.reduce((s, v, j) => s + v * x[j]!, 0);
  let x = solve(all);
  const errors = all.map((i) => relativeError(predict(x, i), ms[i]!));
  const cut = 3 * median(errors);
  const worst = [...all].sort((a, b) => errors[b]! - errors[a]!);
  const drop = new Set(worst.slice(0, Math.floor(all.length / 4)).filter((i) => errors[i]! > cut));
  if (drop.size > 0 && all.length - drop.size >= features[0]!.length) {
    x = solve(all.filter((i) => !drop.has(i)));
  }
  const q = quality(all.map((i) => [predict(x, i), ms[i]!]));
  return { x, quality: { ...q, outliers: drop.size } };
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
    outliers: 0,
  };
}
