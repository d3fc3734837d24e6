import { test } from "uvu";
import * as assert from "uvu/assert";
import { leastSquares, solveNnls } from "../../src/cost/nnls.ts";
import { fitDecode, fitPrefill } from "../../src/cost/fit.ts";
import { decodeFeatures, prefillFeatures } from "../../src/cost/formulas.ts";

// A seeded generator so "noisy" tests are repeatable.
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);

test("least squares solves an exact system", () => {
  const y = leastSquares(
    [
      [1, 2],
      [3, 4],
      [5, 7],
    ],
    [5, 11, 19],
  );
  close(y[0]!, 1, 1e-9, "y0");
  close(y[1]!, 2, 1e-9, "y1");
});

test("nnls recovers known non-negative constants from exact points", () => {
  const truth = [0.5, 0.02, 3e-5];
  const A: number[][] = [];
  for (const B of [1, 2, 4, 8])
    for (const L of [8, 64, 200])
      for (const P of [0, 300]) {
        A.push(
          prefillFeatures(Array.from({ length: B }, () => ({ newTokens: L, cachedTokens: P }))),
        );
      }
  const b = A.map((r) => r.reduce((s, v, j) => s + v * truth[j]!, 0));
  const { x } = solveNnls(A, b);
  truth.forEach((t, j) => close(x[j]!, t, 1e-6, `x${j}`));
});

test("nnls pins a constant at zero instead of going negative", () => {
  // y = 2 - 0.5 x has a negative slope; the best non-negative fit is a flat line at the mean.
  const A = [0, 1, 2, 3, 4].map((x) => [1, x]);
  const b = [0, 1, 2, 3, 4].map((x) => 2 - 0.5 * x);
  const { x } = solveNnls(A, b);
  assert.is(x[1], 0);
  close(x[0]!, 1, 1e-9, "intercept");
});

test("nnls rejects malformed input with a clear message", () => {
  assert.throws(() => solveNnls([], []), /no rows/);
  assert.throws(() => solveNnls([[1, 2], [1]], [1, 2]), /different lengths/);
  assert.throws(() => solveNnls([[1, NaN]], [1]), /not finite/);
});

test("the prefill fit recovers constants from noisy synthetic measurements", () => {
  const rand = lcg(1);
  const truth = { callMs: 1.2, tokenMs: 0.03, attentionMs: 4e-5 };
  const samples = [];
  for (const B of [1, 4])
    for (const L of [8, 32, 128])
      for (const P of [0, 256]) {
        const rows = Array.from({ length: B }, () => ({ newTokens: L, cachedTokens: P }));
        const [one, tok, att] = prefillFeatures(rows);
        const ms = truth.callMs * one + truth.tokenMs * tok + truth.attentionMs * att;
        samples.push({ rows, ms: ms * (1 + 0.04 * (rand() - 0.5)) }); // +-2% noise
      }
  const { constants, quality } = fitPrefill(samples);
  close(constants.callMs, truth.callMs, 0.15, "c_call");
  close(constants.tokenMs, truth.tokenMs, 0.15, "c_tok");
  close(constants.attentionMs, truth.attentionMs, 0.15, "c_att");
  assert.ok(quality.medianRelError < 0.03, `median error ${quality.medianRelError}`);
});

test("the decode fit recovers constants and ignores a disturbed point", () => {
  const truth = { stepMs: 2, rowMs: 0.1, kvMs: 0.002 };
  const samples = [];
  for (const batch of [1, 4, 16])
    for (const context of [16, 128, 384]) {
      const [one, rows, kv] = decodeFeatures(batch, context);
      samples.push({
        batch,
        context,
        ms: truth.stepMs * one + truth.rowMs * rows + truth.kvMs * kv,
      });
    }
  samples[4]!.ms *= 8; // another process ran through every repeat of this point
  const { constants, quality } = fitDecode(samples);
  close(constants.stepMs, truth.stepMs, 1e-6, "d_0");
  close(constants.rowMs, truth.rowMs, 1e-6, "d_row");
  close(constants.kvMs, truth.kvMs, 1e-6, "d_kv");
  assert.is(quality.outliers, 1);
});

test.run();
