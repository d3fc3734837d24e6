// How many sequences decode together. Not a constant: whether a bigger batch pays depends on the
// model and machine (runtime notes: the 0.85 M model goes from 190 tok/s at batch 1 to
// 1,000-1,400 at 8-32 on an idle machine; on a loaded one batches of 64-128 took 100 ms a step,
// slower per token than batches of 4; a 0.5B-shaped model pays 398 ms for 32 but gains 8x).
//
// So the sizer probes: after two full steps at the current limit it doubles the limit, and keeps
// the doubling only if a full step at twice the batch costs less than `maxCostRatio` (1.8) times
// the step before it, i.e. per-sequence cost fell by 10% or more; otherwise it goes back and does
// not probe upwards again for `cooldownSteps`. It compares only steps a few apart: step time also
// grows with context length, so measurements far apart in time would mislead (a first version
// that kept long-run averages per batch size collapsed to batch 1-4 that way). A step slower
// than `maxStepMs` halves the limit at once. Memory limits are the worker's, apart.

export interface BatchSizerOptions {
  initial?: number;
  min?: number;
  max?: number;
  /** A step slower than this halves the batch (new prompts wait about a step). */
  maxStepMs?: number;
  /** Doubling is kept when the step time grows less than this factor. */
  maxCostRatio?: number;
  /** Steps to wait before probing upwards again after a failed probe. */
  cooldownSteps?: number;
}

export const BATCH_SIZER_DEFAULTS: Readonly<Required<BatchSizerOptions>> = {
  // The middle of the 8-32 range where the shipped model's decode peaks.
  initial: 16,
  min: 1,
  max: 256,
  maxStepMs: 1000,
  maxCostRatio: 1.8,
  cooldownSteps: 64,
};

export class BatchSizer {
  private current: number;
  private readonly min: number;
  private readonly max: number;
  private readonly maxStepMs: number;
  private readonly maxCostRatio: number;
  private readonly cooldownSteps: number;
  private step = 0;
  /** Full steps at the current limit since it was set. */
  private samples: number[] = [];
  /** The limit before the last doubling and its step time, while that probe is judged. */
  private probe: { from: number; ms: number } | undefined;
  private noProbeUntil = 0;

  constructor(options: BatchSizerOptions = {}) {
    const d = BATCH_SIZER_DEFAULTS;
    this.min = options.min ?? d.min;
    this.max = options.max ?? d.max;
    if (!(Number.isInteger(this.min) && this.min >= 1 && this.max >= this.min)) {
      throw new RangeError(
        `batch sizes need integers 1 <= min <= max (got min ${this.min}, max ${this.max})`,
      );
    }
    this.maxStepMs = options.maxStepMs ?? d.maxStepMs;
    this.maxCostRatio = options.maxCostRatio ?? d.maxCostRatio;
    this.cooldownSteps = options.cooldownSteps ?? d.cooldownSteps;
    this.current = clamp(options.initial ?? d.initial, this.min, this.max);
  }

  /** Most sequences the next decode step may hold. */
  get limit(): number {
    return this.current;
  }

  /** Records a decode step of `batchSize` sequences that took `ms`. */
  observeStep(batchSize: number, ms: number): void {
    if (!(batchSize >= 1 && ms >= 0)) return;
    this.step++;
    if (ms > this.maxStepMs && this.current > this.min) {
      this.probe = undefined;
      this.resize(Math.floor(this.current / 2));
      return;
    }
    // Only a full batch says what the limit costs; a half-empty one is a quiet moment.
    if (batchSize < this.current) return;
    this.samples.push(ms);
    if (this.samples.length < 2) return;
    const here = Math.min(...this.samples.slice(-2)); // the less disturbed of the last two
    if (this.probe) {
      const { from, ms: before } = this.probe;
      this.probe = undefined;
      if (here > this.maxCostRatio * before) {
        this.noProbeUntil = this.step + this.cooldownSteps;
        this.resize(from);
        return;
      }
    }
    if (this.step >= this.noProbeUntil && this.current < this.max) {
      this.probe = { from: this.current, ms: here };
      this.resize(this.current * 2);
    }
  }

  private resize(n: number): void {
    this.current = clamp(n, this.min, this.max);
    this.samples = [];
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(n)));
}
