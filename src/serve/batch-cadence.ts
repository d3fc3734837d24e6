// How many queued queries the next mini-batch takes. A batch of n queries costs about
// `fixed + perQuery * n`: `fixed` is what every batch pays once whatever its size (planning, the
// shared system prompt's prefill, the slowest row's chain of steps: a batch ends when its last
// row does), `perQuery` what each query adds (its own prefill and tool calls; decode steps are
// shared by the batch). Bigger batches amortize `fixed`, so when queries pile up the whole
// backlog goes at once, up to the size whose estimate fits `targetMs` (the latency a query may
// add by waiting for the next batch). When the server is idle a query never waits for company:
// the session dispatches at once (workflow-session.ts), and this cadence only bounds the size.
//
// The two numbers start from the cost model's estimate of the first batch (the optimizer's
// per-node estimates, summed over the plan) and then follow measured batches (moving averages,
// src/cost/moving-average.ts), so a slower machine or a warmer cache changes the cadence.
import { MovingAverage } from "../cost/moving-average.ts";

export interface CadenceOptions {
  /** Longest a batch should take, in ms (default 2,000). */
  targetMs?: number;
  /** Hard upper bound on a batch (default 256): memory for rows and KV. */
  maxBatch?: number;
}

export class BatchCadence {
  readonly targetMs: number;
  readonly maxBatch: number;
  private fixed: MovingAverage | undefined;
  private perQuery: MovingAverage | undefined;
  private last: { n: number; ms: number } | undefined;

  constructor(options: CadenceOptions = {}) {
    this.targetMs = options.targetMs ?? 2_000;
    this.maxBatch = options.maxBatch ?? 256;
    if (!(this.targetMs > 0)) throw new RangeError(`targetMs must be > 0 (got ${this.targetMs})`);
    if (!(Number.isInteger(this.maxBatch) && this.maxBatch >= 1))
      throw new RangeError(`maxBatch must be an integer >= 1 (got ${this.maxBatch})`);
  }

  /** Queries the next batch takes out of `queued`. */
  nextBatchSize(queued: number): number {
    if (queued <= 0) return 0;
    if (!this.fixed || !this.perQuery) return Math.min(queued, this.maxBatch);
    const room = (this.targetMs - this.fixed.value) / Math.max(this.perQuery.value, 1e-3);
    // At least one query per batch, even when one alone is estimated over the target.
    const fits = Math.max(1, Math.floor(room));
    return Math.min(queued, fits, this.maxBatch);
  }

  /** Estimated ms of a batch of n queries (undefined before any estimate or measurement). */
  estimateMs(n: number): number | undefined {
    if (!this.fixed || !this.perQuery) return undefined;
    return this.fixed.value + this.perQuery.value * n;
  }

  /**
   * Learns from a finished batch: `measuredMs` its wall time, `estimatedMs` the cost model's sum
   * for it (if the plan had estimates), `perQueryMs` the part that grows with queries (the
   * per-row nodes' measured time divided by n, when the trace can tell).
   */
  observe(n: number, measuredMs: number, estimatedMs?: number): void {
    if (!(n >= 1) || !Number.isFinite(measuredMs)) return;
    if (!this.fixed || !this.perQuery) {
      // First batch: split it as the estimate would, or half and half without one. The cost
      // model's estimate is per call and so mostly per query; the rest of the wall is fixed.
      const share =
        estimatedMs !== undefined && estimatedMs > 0
          ? Math.min(estimatedMs / measuredMs, 0.9)
          : 0.5;
      this.perQuery = new MovingAverage((measuredMs * share) / n, 1);
      this.fixed = new MovingAverage(measuredMs * (1 - share), 1);
      this.last = { n, ms: measuredMs };
      return;
    }
    // Two batches of different sizes give the slope directly; equal sizes only the level.
    const last = this.last;
    if (last && last.n !== n) {
      const slope = (measuredMs - last.ms) / (n - last.n);
      if (slope > 0) this.perQuery.observe(slope);
    }
    this.fixed.observe(Math.max(0, measuredMs - this.perQuery.value * n));
    this.last = { n, ms: measuredMs };
  }
}
