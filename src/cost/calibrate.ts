// calibrate(target) -> Profile: short microbenchmarks of one model on this machine, fitted to the
// formulas in formulas.ts. Each point is the median of a few repeats after a warm-up, because
// these machines vary by 30-50% run to run (runtime.md pitfall 9); the grid spans batch sizes,
// new-token counts and past lengths so all three constants of each formula are identifiable.
import { cpus, freemem } from "node:os";
import { performance } from "node:perf_hooks";
import type { BenchTarget } from "./bench-target.ts";
import { fitDecode, fitPrefill, median } from "./fit.ts";
import type { PrefillRow } from "./formulas.ts";
import { hashModelFiles } from "./model-hash.ts";
import { PROFILE_VERSION, type DecodeSample, type PrefillSample, type Profile } from "./profile.ts";
import { fitWarmup, forwardFootprintBytes, type WarmupSample } from "./warmup.ts";

export interface CalibrateOptions {
  /** Prefill points as [batch, newTokens, cachedTokens]; default: a 12-point grid. */
  prefillGrid?: [number, number, number][];
  /** Decode points as [batch, context]; default: a 9-point grid. */
  decodeGrid?: [number, number][];
  /** Timed rounds over all points (median per point taken); default 5. */
  repeats?: number;
  /**
   * Points whose first run takes longer than this are measured once, and larger points of the
   * same kind are skipped, so a big model calibrates in tens of seconds, not minutes. Default 1500.
   */
  maxPointMs?: number;
  /** KV budget override in bytes; default: see defaultKvBudget. */
  kvBudgetBytes?: number;
  /** Called with one line per finished step, for progress output. */
  onProgress?: (line: string) => void;
}

// Batch 1 and 4, short and long new segments, with and without a cached past: the B, sum(L) and
// sum(L*P) features vary independently across these, so the fit is well posed.
const PREFILL_GRID: [number, number, number][] = [
  [1, 8, 0],
  [1, 32, 0],
  [1, 128, 0],
  [1, 8, 256],
  [1, 32, 256],
  [1, 128, 256],
  [4, 8, 0],
  [4, 32, 0],
  [4, 128, 0],
  [4, 8, 256],
  [4, 32, 256],
  [4, 128, 256],
];
// Batch 1 to 16 at short, medium and long contexts (B and B*T vary independently).
const DECODE_GRID: [number, number][] = [
  [1, 16],
  [1, 128],
  [1, 384],
  [4, 16],
  [4, 128],
  [4, 384],
  [16, 16],
  [16, 128],
  [16, 384],
];

export async function calibrate(
  target: BenchTarget,
  options: CalibrateOptions = {},
): Promise<Profile> {
  const say = options.onProgress ?? (() => {});
  const maxPointMs = options.maxPointMs ?? 1500;
  const fits = (tokens: number) => tokens <= target.maxPositions;

  const loads = [await target.measureLoadMs()];
  if (loads[0]! < maxPointMs) loads.push(await target.measureLoadMs());
  const loadMs = median(loads);
  say(`load: ${loadMs.toFixed(1)} ms`);

  // Every point is warmed up once, then measured once per round, rounds interleaved: on a
  // shared machine a burst of load then spreads over all points instead of corrupting a few,
  // which would bend the fit; the median over rounds drops the bursts.
  const points: Point[] = [];
  let prefillCap = Infinity; // work above which prefill points are skipped (too slow)
  for (const [batch, newTokens, cachedTokens] of options.prefillGrid ?? PREFILL_GRID) {
    const work = batch * newTokens * (cachedTokens + newTokens);
    if (!fits(newTokens + cachedTokens) || work > prefillCap) continue;
    const rows: PrefillRow[] = Array.from({ length: batch }, () => ({ newTokens, cachedTokens }));
    const point: Point = {
      kind: "prefill",
      rows,
      batch,
      context: 0,
      footprintBytes: forwardFootprintBytes(
        batch,
        newTokens + cachedTokens,
        target.kvBytesPerToken,
      ),
      run: () => target.prefill(rows),
      times: [],
    };
    if ((await warmUp(point, maxPointMs)) > maxPointMs) prefillCap = work;
    points.push(point);
  }
  let decodeCap = Infinity;
  for (const [batch, context] of options.decodeGrid ?? DECODE_GRID) {
    const work = batch * (context + 1);
    if (!fits(context + 1) || work > decodeCap) continue;
    const point: Point = {
      kind: "decode",
      rows: [],
      batch,
      context,
      footprintBytes: forwardFootprintBytes(batch, context + 1, target.kvBytesPerToken),
      run: () =>
        target.timeDecodeStep
          ? target.timeDecodeStep(batch, context)
          : target.decodeStep(batch, context),
      times: [],
    };
    if ((await warmUp(point, maxPointMs)) > maxPointMs) decodeCap = work;
    points.push(point);
  }
  const rounds = options.repeats ?? 5;
  for (let r = 0; r < rounds; r++) {
    for (const point of points) {
      if (point.slow && point.times.length > 0) continue;
      const t = performance.now();
      const own = await point.run();
      point.times.push(typeof own === "number" ? own : performance.now() - t);
    }
  }
  const prefill: PrefillSample[] = points
    .filter((p) => p.kind === "prefill")
    .map((p) => ({ rows: p.rows, ms: median(p.times) }));
  const decode: DecodeSample[] = points
    .filter((p) => p.kind === "decode")
    .map((p) => ({ batch: p.batch, context: p.context, ms: median(p.times) }));
  say(`prefill: ${prefill.length} points, decode: ${decode.length} points, ${rounds} rounds`);

  const p = fitPrefill(prefill);
  const d = fitDecode(decode);
  // Each point's first run (its warm-up) came in grid order in one fresh session: what it paid
  // beyond its steady time, against how far it pushed the session's footprint (warmup.ts).
  let highWater = 0;
  const warmupSamples: WarmupSample[] = [];
  for (const point of points) {
    if (point.firstMs === undefined || point.slow) continue;
    warmupSamples.push({
      growthBytes: Math.max(0, point.footprintBytes - highWater),
      excessMs: point.firstMs - median(point.times),
    });
    highWater = Math.max(highWater, point.footprintBytes);
  }
  const warmup = fitWarmup(warmupSamples);
  say(`warm-up: ${warmup.msPerMiB.toFixed(2)} ms per MiB of growth`);
  const kvMove = measureHostCopy();
  say(`kv move: ${(kvMove.bytesPerMs / 1e6).toFixed(2)} GB/s`);

  return {
    version: PROFILE_VERSION,
    modelId: target.modelId,
    provider: target.provider,
    modelHash: hashModelFiles(target.files),
    createdAt: new Date().toISOString(),
    source: "calibrated",
    machine: { cpuModel: cpus()[0]?.model ?? "unknown", cpus: cpus().length },
    prefill: p.constants,
    decode: d.constants,
    warmup,
    kvBytesPerToken: target.kvBytesPerToken,
    loadMs,
    kvBudgetBytes: options.kvBudgetBytes ?? defaultKvBudget(target.weightBytes),
    kvMove,
    fit: { prefill: p.quality, decode: d.quality },
    samples: { prefill, decode },
  };
}

/**
 * KV shares host memory with the model weights, DuckDB, frames and the kernel: a quarter of what
 * is free after the weights leaves room for them, with a 64 MiB floor so tiny machines still
 * batch. The Processor degrades to smaller batches under any budget, so erring low is safe.
 */
export function defaultKvBudget(weightBytes: number): number {
  return Math.max(64 * 2 ** 20, Math.floor(0.25 * (freemem() - weightBytes)));
}

interface Point {
  kind: "prefill" | "decode";
  rows: PrefillRow[];
  batch: number;
  context: number;
  /** Resolves to a time the target measured itself (ms), or nothing: then the call is timed. */
  run: () => Promise<void | number>;
  times: number[];
  /** KV bytes the call holds (warmup.ts), and its first run's time. */
  footprintBytes: number;
  firstMs?: number;
  /** Its warm-up exceeded maxPointMs: it is measured once, with the warm-up as that time. */
  slow?: boolean;
}

/** First run of a shape (ORT plans and allocates for it); slow points keep it as their time. */
async function warmUp(point: Point, maxPointMs: number): Promise<number> {
  const t = performance.now();
  const own = await point.run();
  const ms = typeof own === "number" ? own : performance.now() - t;
  point.firstMs = ms;
  if (ms > maxPointMs) {
    point.slow = true;
    point.times.push(ms);
  }
  return ms;
}

/**
 * KV moves between tiers on CPU are memory copies into the host store: measure bytes per ms on a
 * 32 MiB copy (past the caches) and the fixed cost on a 4 KiB one. A GPU target moves over PCIe
 * instead; its adapter should measure that (not done yet).
 */
function measureHostCopy(): { fixedMs: number; bytesPerMs: number } {
  const big = new Float32Array(8 * 2 ** 20);
  const dst = new Float32Array(big.length);
  const small = new Float32Array(1024);
  const times: number[] = [];
  dst.set(big); // warm-up: fault the pages in
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    dst.set(big);
    times.push(performance.now() - t);
  }
  const smallTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    new Float32Array(small);
    smallTimes.push(performance.now() - t);
  }
  return {
    fixedMs: median(smallTimes),
    bytesPerMs: big.byteLength / Math.max(median(times), 1e-3),
  };
}
