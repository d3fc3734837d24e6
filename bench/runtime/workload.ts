// What `halo bench runtime --realistic` runs on every model variant, Halo and transformers.js
// alike: prefill and decode shapes, and the greedy prompts whose tokens and per-token time are
// compared. Random token ids below 500 (ordinary tokens of the shared tokenizer; the realistic
// folders use halo-tiny's tokenizer, whose specials sit at 509-511).
import { seededRandom } from "../../src/runtime/index.ts";

export interface RuntimeShapes {
  /** Prompt length of the prefill measurements. */
  prefillLength: number;
  batches: number[];
  /** Past length the decode steps run on. */
  decodePast: number;
  decodeSteps: number;
  /** Greedy generation compared with transformers.js: prompts of equal length, no padding. */
  genPrompts: number;
  genPromptLength: number;
  genTokens: number;
  /** Prompts of mixed lengths for the batch-invariance measurement of 8-bit graphs. */
  invariancePrompts: number;
}

export const FULL_SHAPES: RuntimeShapes = {
  prefillLength: 64,
  batches: [1, 8, 32],
  decodePast: 64,
  decodeSteps: 8,
  genPrompts: 8,
  genPromptLength: 16,
  genTokens: 8,
  invariancePrompts: 16,
};

/** A smoke run: seconds, not minutes (the bench-subcommands test uses it). */
export const QUICK_SHAPES: RuntimeShapes = {
  prefillLength: 8,
  batches: [1, 4],
  decodePast: 8,
  decodeSteps: 2,
  genPrompts: 2,
  genPromptLength: 6,
  genTokens: 3,
  invariancePrompts: 4,
};

/** `count` prompts of `length` tokens (or, with `lengths`, of lengths in that [min, max]). */
export function benchPrompts(
  count: number,
  length: number | [number, number],
  seed: number,
): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const n =
      typeof length === "number"
        ? length
        : length[0] + Math.floor(r() * (length[1] - length[0] + 1));
    return Array.from({ length: n }, () => Math.floor(r() * 500));
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Median milliseconds of `fn` after one warm-up call (first calls allocate arenas); one timed
 * call when a call takes over 3 s (the 0.5B fp32 model at batch 32), three otherwise.
 */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  let t = performance.now();
  await fn();
  const first = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < (first > 3000 ? 1 : 3); i++) {
    t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Generated tokens up to and including the first eos (both systems stop there). */
export function untilEos(tokens: readonly number[], eos: ReadonlySet<number>): number[] {
  const at = tokens.findIndex((t) => eos.has(t));
  return at < 0 ? [...tokens] : tokens.slice(0, at + 1);
}

/** The last line a measuring child prints: its result as JSON. */
export const RESULT_PREFIX = "RESULT ";

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
