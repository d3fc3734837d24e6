// A small seeded PRNG (sfc32, seeded through splitmix32) so every generator, input sampler and
// the HTTP server's delays are a pure function of the seed: two runs with the same seed build
// byte-identical tables, which is what lets the tool server regenerate "the same data" in its own
// process and lets the harness compare systems' outputs by hash. Math.random is never used.

/** splitmix32: spreads a small integer seed over all 32 bits before it seeds sfc32. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hashes a string label to 32 bits (FNV-1a), to derive independent streams from one seed. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Spare standard normal from the last Box-Muller pair. */
  private spare: number | undefined;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed))
      throw new Error(`Rng seed must be an integer, got ${seed}: pass e.g. --seed 42`);
    const mix = splitmix32(seed);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    // sfc32's authors discard the first outputs so nearby seeds decorrelate.
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** An independent stream for a named part (a table, a column): adding a table elsewhere does
   * not shift the values of this one. */
  fork(label: string): Rng {
    // From the seed, not the current state: the order of forks does not matter either.
    return new Rng(Math.imul(this.seed ^ 0x5bd1e995, 0x27d4eb2d) ^ hashLabel(label));
  }

  /** The stream for item `index` of a sequence (an order and its lineitems): lets two tables
   * regenerate the same item independently, so neither has to be held in memory. */
  child(index: number): Rng {
    return new Rng((Math.imul(this.seed, 0x2c1b3c6d) + Math.imul(index + 1, 0x297a2d39)) | 0);
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform real in [lo, hi). */
  real(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `k` distinct items, in draw order (partial Fisher-Yates on a copy). */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = items.slice();
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, n);
  }

  /** Zipf-like rank in [0, n): rank r has weight 1/(r+1)^s. Popular items repeat, as in real
   * query logs. Inverse-CDF over a cached table, O(log n) per draw. */
  zipf(n: number, s = 1.0): number {
    const key = `${n}:${s}`;
    let cdf = zipfTables.get(key);
    if (!cdf) {
      cdf = new Float64Array(n);
      let sum = 0;
      for (let r = 0; r < n; r++) cdf[r] = sum += 1 / Math.pow(r + 1, s);
      for (let r = 0; r < n; r++) cdf[r]! /= sum;
      zipfTables.set(key, cdf);
    }
    const u = this.next();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Standard normal (Box-Muller, caching the pair's second value). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape k, scale theta), mean k*theta (Marsaglia-Tsang; k < 1 by the boost
   * Gamma(k) = Gamma(k+1) * U^(1/k)). Tool latencies are Gamma distributed in the Halo paper. */
  gamma(shape: number, scale: number): number {
    if (!(shape > 0) || !(scale > 0))
      throw new Error(`gamma needs shape > 0 and scale > 0, got shape=${shape} scale=${scale}`);
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.next();
      return this.gamma(shape + 1, scale) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Exponential with the given mean (Poisson inter-arrival times for the online mode). */
  exponential(mean: number): number {
    let u = 0;
    while (u === 0) u = this.next();
    return -Math.log(u) * mean;
  }
}

const zipfTables = new Map<string, Float64Array>();
