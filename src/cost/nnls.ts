// Non-negative least squares: minimize ||A x - b|| subject to x >= 0 (Lawson and Hanson's
// active-set method). The cost formulas have 3 constants each, every one a time per unit of some
// work, so a negative fit is physically meaningless (and would predict negative times for some
// shapes); NNLS pins such a constant at 0 instead. Problems here are tiny (n <= 4 columns, a few
// dozen rows), so plain dense loops are the right tool; no dependency.

export interface NnlsResult {
  /** The solution, x[j] >= 0. */
  x: number[];
  /** ||A x - b|| of the (scaled) problem the caller passed. */
  residualNorm: number;
}

/** A: rows of equal length n; b: one value per row. */
export function solveNnls(A: readonly (readonly number[])[], b: readonly number[]): NnlsResult {
  const m = A.length;
  if (m === 0) throw new Error("nnls: no rows to fit");
  if (b.length !== m) throw new Error(`nnls: ${m} rows but ${b.length} targets`);
  const n = A[0]!.length;
  for (const row of A) {
    if (row.length !== n) throw new Error("nnls: rows of different lengths");
    for (const v of row) if (!Number.isFinite(v)) throw new Error("nnls: a feature is not finite");
  }
  for (const v of b) if (!Number.isFinite(v)) throw new Error("nnls: a target is not finite");

  // Columns differ by orders of magnitude (a call count of 1 beside sums of L*P in the millions):
  // solve on unit-norm columns and scale back, or the tolerance test below means nothing.
  const norms = Array.from({ length: n }, (_, j) => Math.hypot(...A.map((r) => r[j]!)));
  const As = A.map((r) => r.map((v, j) => (norms[j]! > 0 ? v / norms[j]! : 0)));

  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const tol = 1e-10 * Math.max(1, Math.hypot(...b)) * m * n;
  const gradient = () => {
    const r = residual(As, b, x);
    return Array.from({ length: n }, (_, j) => As.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
  };

  let w = gradient();
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    let best = -1;
    for (let j = 0; j < n; j++) {
      if (!passive[j] && norms[j]! > 0 && w[j]! > tol && (best < 0 || w[j]! > w[best]!)) best = j;
    }
    if (best < 0) break;
    passive[best] = true;
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      const z = solvePassive(As, b, passive);
      if (passive.every((p, j) => !p || z[j]! > 0)) {
        for (let j = 0; j < n; j++) x[j] = z[j]!;
        break;
      }
      // Step from x toward z only as far as keeps every passive coordinate non-negative, then
      // drop the coordinates that reached zero back into the active (pinned) set.
      let alpha = Infinity;
      for (let j = 0; j < n; j++) {
        if (passive[j] && z[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - z[j]!));
      }
      for (let j = 0; j < n; j++) x[j] = x[j]! + alpha * (z[j]! - x[j]!);
      for (let j = 0; j < n; j++) {
        if (passive[j] && x[j]! <= 1e-15) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
    w = gradient();
  }
  const out = x.map((v, j) => (norms[j]! > 0 ? Math.max(0, v) / norms[j]! : 0));
  return { x: out, residualNorm: Math.hypot(...residual(A, b, out)) };
}

function residual(A: readonly (readonly number[])[], b: readonly number[], x: readonly number[]) {
  return A.map((row, i) => b[i]! - row.reduce((s, v, j) => s + v * x[j]!, 0));
}

/** Unconstrained least squares on the passive columns (others fixed at 0), via QR. */
function solvePassive(A: number[][], b: readonly number[], passive: boolean[]): number[] {
  const cols = passive.flatMap((p, j) => (p ? [j] : []));
  const sub = A.map((row) => cols.map((j) => row[j]!));
  const z = leastSquares(sub, b);
  const out = new Array<number>(passive.length).fill(0);
  cols.forEach((j, k) => (out[j] = z[k]!));
  return out;
}

/**
 * min ||M y - b|| by modified Gram-Schmidt QR (stable enough for n <= 4 unit-norm columns; the
 * normal equations would square the condition number). A column dependent on earlier ones gets 0.
 */
export function leastSquares(M: readonly (readonly number[])[], b: readonly number[]): number[] {
  const m = M.length;
  const n = m ? M[0]!.length : 0;
  const Q = Array.from({ length: n }, (_, j) => M.map((r) => r[j]!)); // [n][m] columns
  const R = Array.from({ length: n }, () => new Array<number>(n).fill(0)); // [n, n] upper
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      const dot = Q[k]!.reduce((s, v, i) => s + v * Q[j]![i]!, 0);
      R[k]![j] = dot;
      for (let i = 0; i < m; i++) Q[j]![i] = Q[j]![i]! - dot * Q[k]![i]!;
    }
    const norm = Math.hypot(...Q[j]!);
    R[j]![j] = norm;
    for (let i = 0; i < m; i++) Q[j]![i] = norm > 1e-12 ? Q[j]![i]! / norm : 0;
  }
  const qtb = Q.map((q) => q.reduce((s, v, i) => s + v * b[i]!, 0));
  const y = new Array<number>(n).fill(0);
  for (let j = n - 1; j >= 0; j--) {
    if (R[j]![j]! <= 1e-12) continue;
    let s = qtb[j]!;
    for (let k = j + 1; k < n; k++) s -= R[j]![k]! * y[k]!;
    y[j] = s / R[j]![j]!;
  }
  return y;
}
