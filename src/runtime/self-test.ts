// Does this graph honour the padding layout decoder-session.ts relies on? Compares logits of
// (a) a prompt run whole, (b) the same prompt continued from a cached prefix KV, and (c) the
// prompt left-padded in a batch beside a longer one. Graphs that ignore the 2D mask (e.g.
// GroupQueryAttention exports taking per-row lengths) fail (b) or (c): the Processor must then
// not batch continuations with holes. The shipped model passes with max |diff| about 1e-6.
import type { Model } from "./model.ts";

export interface SelfTestResult {
  ok: boolean;
  /** Largest |logit difference| over the three comparisons. */
  maxAbsDiff: number;
  tolerance: number;
}

const PROBE = "The quick brown fox jumps over the lazy dog. Halo runs agents over every row.";

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
}

export async function selfTest(model: Model, tolerance = 1e-4): Promise<SelfTestResult> {
  const ids = model.encode(PROBE).slice(0, 24);
  const cut = Math.max(1, ids.length >> 1);
  const [whole] = await model.prefill([{ tokens: ids }], { allLogits: true });
  const v = model.config.vocabSize;
  const [prefix] = await model.prefill([{ tokens: ids.slice(0, cut) }]);
  const [cont] = await model.prefill([{ tokens: ids.slice(cut), past: prefix!.kv.copy() }], {
    allLogits: true,
  });
  const longer = [...ids, ...ids.slice(0, 5)];
  const [, padded] = await model.prefill([{ tokens: longer }, { tokens: ids }]);
  const diff = Math.max(
    maxDiff(whole!.allLogits!.subarray(cut * v), cont!.allLogits!),
    maxDiff(whole!.logits, padded!.logits),
  );
  return { ok: diff < tolerance, maxAbsDiff: diff, tolerance };
}
