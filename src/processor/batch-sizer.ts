// How many sequences decode together. Not a constant: throughput per step grows with batch size
// until the step becomes compute- or memory-bound, and the knee differs by model and machine
// (runtime notes: the 0.85 M model goes from 190 tok/s at batch 1 to 1,000-1,400 at 8-32; a
// 0.5B-shaped one pays 398 ms a step at batch 32). So the sizer measures: it doubles the limit
// while a full batch's per-sequence step time keeps dropping by at least `minGain`, halves it when
// a step takes longer than `maxStepMs` (so new prompts still get prefilled promptly) or when the
// bigger batch proved no cheaper per sequence. Memory limits are applied by the worker, apart.

export interface BatchSizerOptions {
  /** Default 4. */
  initial?: number;
  /** Default 1. */
  min?: number;
  /** Default 256. */
  max?: number;
  /** A step slower than this shrinks the batch. Default 1000 ms. */
  maxStepMs?: number;
  /** Doubling must cut per-sequence step time by this fraction to be kept. Default 0.1. */
  minGain?: number;
}

interface Bucket {
  /** Exponential moving average of step ms per sequence. */
  msPerSeq: number;
  samples: number;
}

export class BatchSizer {
  private current: number;
  private readonly min: number;
  private readonly max: number;
  private readonly maxStepMs: number;
  private readonly minGain: number;
  /** Keyed by floor(log2(batch size)). */
  private readonly buckets = new Map<number, Bucket>();

  constructor(options: BatchSizerOptions = {}) {
    this.min = options.min ?? 1;
    this.max = options.max ?? 256;
    if (!(Number.isInteger(this.min) && this.min >= 1 && this.max >= this.min)) {
      throw new RangeError(
        `batch sizes need integers 1 <= min <= max (got min ${this.min}, max ${this.max})`,
      );
    }
    this.current = clamp(options.initial ?? 4, this.min, this.max);
    this.maxStepMs = options.maxStepMs ?? 1000;
    this.minGain = options.minGain ?? 0.1;
  }

  /** Most sequences the next decode step may hold. */
  get limit(): number {
    return this.current;
  }

  /** Records a decode step of `batchSize` sequences that took `ms`. */
  observeStep(batchSize: number, ms: number): void {
    if (!(batchSize >= 1 && ms >= 0)) return;
    const key = Math.floor(Math.log2(batchSize));
    const bucket = this.buckets.get(key);
    const perSeq = ms / batchSize;
    if (!bucket) this.buckets.set(key, { msPerSeq: perSeq, samples: 1 });
    else {
      bucket.msPerSeq = 0.7 * bucket.msPerSeq + 0.3 * perSeq;
      bucket.samples++;
    }
    // Only a full batch says anything about the limit; a half-empty one is just a quiet moment.
    if (batchSize < this.current) return;
    if (ms > this.maxStepMs && this.current > this.min) {
      this.current = clamp(Math.floor(this.current / 2), this.min, this.max);
      return;
    }
    const here = this.buckets.get(key)!;
    const below = this.buckets.get(key - 1);
    if (below && below.samples >= 2 && here.samples >= 2) {
      if (here.msPerSeq > (1 - this.minGain) * below.msPerSeq) {
        this.current = clamp(Math.floor(this.current / 2), this.min, this.max);
        return;
      }
    }
    const above = this.buckets.get(key + 1);
    const aboveIsWorse =
      above && above.samples >= 2 && above.msPerSeq > (1 - this.minGain) * here.msPerSeq;
    if (here.samples >= 2 && !aboveIsWorse)
      this.current = clamp(this.current * 2, this.min, this.max);
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(n)));
}
