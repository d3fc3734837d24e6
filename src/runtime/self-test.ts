// The KV self-test: which batch layout (batch-layout.ts) runs this graph exactly? Each candidate,
// in order, runs two prompts of different lengths in one batch, continues both from that batch's
// KV with different numbers of new tokens, continues them again from KV packed the way the prefix
// cache hands it over, takes a decode step and continues both by two tokens; every row's logits
// must equal those of the same tokens run alone, whole, at batch 1 (no padding). A layout whose
// calls the graph rejects (an onnxruntime error) fails too. The first layout that passes is the one the
// session uses, so batching, padding and prefix caching never change an answer. A graph that fails
// even one row at a time (its continuation from a cached prefix differs from the whole prompt) gets
// `serial` and `ok: false`, and a line on stderr.
//
// Tolerance: relative to the largest reference logit (`selfTestTolerance`). A wrong layout shifts
// positions or attends to padding: differences of 0.1 to 0.4 of the logit range on the fixtures.
import { BATCH_LAYOUTS, type BatchLayout } from "./batch-layout.ts";
import { packSequences, splitPadded } from "./kv-batch.ts";
import type { Model } from "./model.ts";

/**
 * How far batched may be from alone, relative to the largest logit: 1e-5 when the graph computes
 * in float32 (batched vs alone differ by about 1e-6 from GEMM blocking and padding); 5e-3 in
 * float16 (an ulp is about 1e-3); 2e-2 when activations are quantized per token at run time, where
 * such float noise can tip a value across a rounding boundary: one quantum (0.076 on logits of
 * about 15, 5e-3 relative, on an earlier seed of the int8 fixture).
 */
export function selfTestTolerance(precision: "float32" | "float16" | "dynamic8"): number {
  return precision === "float32" ? 1e-5 : precision === "float16" ? 5e-3 : 2e-2;
}

export interface SelfTestResult {
  /** The chosen layout reproduced every row alone within tolerance. */
  ok: boolean;
  layout: BatchLayout;
  /** Largest |logit difference| of the chosen layout. */
  maxAbsDiff: number;
  tolerance: number;
  /** Every layout tried, in order, with its largest difference. */
  tried: { layout: BatchLayout; maxAbsDiff: number }[];
}

const PROBE = "The quick brown fox jumps over the lazy dog. Halo runs agents over every row.";

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Probe tokens inside the vocabulary, at least 24 of them. */
function probeTokens(model: Model): number[] {
  const v = model.config.vocabSize;
  const special = new Set([...model.config.eosTokenIds, model.config.padTokenId]);
  const ids = model.encode(PROBE).filter((id) => id < v && !special.has(id));
  for (let i = 1; ids.length < 24; i++) if (!special.has(i % v)) ids.push(i % v);
  return ids.slice(0, 24);
}

export async function selfTest(
  model: Model,
  options: { layouts?: readonly BatchLayout[]; relativeTolerance?: number } = {},
): Promise<SelfTestResult> {
  const session = model.session;
  const shape = session.shape;
  const v = model.config.vocabSize;
  const ids = probeTokens(model);
  const a = ids;
  const b = ids.slice(3, 13);
  const aMore = ids.slice(0, 3);
  const bMore = [ids[5]!];
  const steps = [[ids[7]!], [ids[11]!]];
  const pairs = [ids.slice(14, 16), ids.slice(17, 19)];
  const last = (logits: Float32Array, w: number, row: number) =>
    logits.subarray((row * w + w - 1) * v, (row * w + w) * v);
  // batch 1, no past, no padding: the same single call under every layout
  const alone = async (tokens: number[]) => {
    const r = await session.run([tokens], session.emptyPast(1));
    return last(r.logits, r.logitsWidth, 0).slice();
  };
  const refs = [
    [await alone(a), await alone(b)],
    [await alone([...a, ...aMore]), await alone([...b, ...bMore])],
    [await alone([...a, ...aMore, ...steps[0]!]), await alone([...b, ...bMore, ...steps[1]!])],
    [
      await alone([...a, ...aMore, ...steps[0]!, ...pairs[0]!]),
      await alone([...b, ...bMore, ...steps[1]!, ...pairs[1]!]),
    ],
  ];
  const scale = Math.max(1, ...refs.flat().map(maxAbs));
  const tolerance = (options.relativeTolerance ?? 1e-5) * scale;

  const saved = session.layout;
  const tried: SelfTestResult["tried"] = [];
  const candidates = options.layouts ?? BATCH_LAYOUTS;
  try {
    for (const layout of candidates) {
      session.layout = layout;
      let diff = 0;
      const check = (run: { logits: Float32Array; logitsWidth: number }, want: Float32Array[]) =>
        want.forEach((ref, row) => {
          diff = Math.max(diff, maxDiff(last(run.logits, run.logitsWidth, row), ref));
        });
      try {
        const first = await session.run([a, b], session.emptyPast(2));
        check(first, refs[0]!);
        const more = await session.run([aMore, bMore], first.present);
        check(more, refs[1]!);
        // the same continuation from per-sequence KV, packed the way the prefix cache hands it over
        const cached = packSequences(splitPadded(first.present, shape), shape);
        check(await session.run([aMore, bMore], cached), refs[1]!);
        const step = await session.run(steps, more.present);
        check(step, refs[2]!);
        check(await session.run(pairs, step.present), refs[3]!);
      } catch {
        diff = Infinity;
      }
      tried.push({ layout, maxAbsDiff: diff });
      if (diff <= tolerance) return { ok: true, layout, maxAbsDiff: diff, tolerance, tried };
    }
  } finally {
    session.layout = saved;
  }
  const worst = tried[tried.length - 1];
  return {
    ok: false,
    layout: "serial",
    maxAbsDiff: worst?.maxAbsDiff ?? Infinity,
    tolerance,
    tried,
  };
}
