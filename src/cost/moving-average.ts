// A moving average that starts from a prior. The prior counts as `priorWeight` observations, so
// the first measurements pull the estimate quickly toward reality (a running mean), and after
// about 1/minAlpha observations it becomes an exponential moving average that keeps following
// drift (a warmed-up cache, a slower API at peak hours) instead of freezing on old runs.

export interface MovingAverageState {
  value: number;
  /** Observations so far (the prior not counted). */
  count: number;
}

export class MovingAverage {
  value: number;
  count = 0;

  constructor(
    prior: number,
    private readonly priorWeight = 1,
    /** Floor of the update weight: 0.2 means the last ~5 observations dominate. */
    private readonly minAlpha = 0.2,
  ) {
    if (!Number.isFinite(prior)) throw new Error(`moving average: prior ${prior} is not finite`);
    this.value = prior;
  }

  observe(x: number): number {
    if (!Number.isFinite(x)) return this.value; // a failed measurement teaches nothing
    this.count++;
    const alpha = Math.max(1 / (this.count + this.priorWeight), this.minAlpha);
    this.value += alpha * (x - this.value);
    return this.value;
  }

  /** Replaces the prior while nothing has been observed (a later EXPLAIN, a declared latency). */
  setPrior(prior: number): void {
    if (this.count === 0 && Number.isFinite(prior)) this.value = prior;
  }

  toJSON(): MovingAverageState {
    return { value: this.value, count: this.count };
  }
}
