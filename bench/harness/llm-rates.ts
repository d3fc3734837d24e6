// The best rates a model has been measured at, for the floor (floor.ts): the fewest milliseconds
// per prefilled token and per decoded token. "Best" is the minimum over every figure there is, so
// that a disturbed measurement, or a batch larger than any measured one, can only lower the floor:
//   - the calibrated profile's samples (src/cost/calibrate.ts: prefill up to 4 x 128 tokens,
//     decode up to batch 16, each a median of repeats, measured whenever the profile was made);
//   - the profile's fitted formulas (src/cost/formulas.ts) taken where they are cheapest per
//     token: a prefill token at c_tok alone (the call's fixed cost amortized away, no attention),
//     a decode row at d_row + d_0 / B with B the most sequences the workload could ever decode
//     together, at context 0; this covers batches past the calibrated range;
//   - the forwards the floor's reference pass ran (reference-pass.ts), at this run's load.
import type { Profile } from "../../src/cost/profile.ts";

/** Milliseconds per token and which measurement gave it. */
export interface Rate {
  msPerToken: number;
  from: string;
}

export interface LlmRates {
  prefill: Rate;
  decode: Rate;
}

/** One forward as measured: a prefill call (`tokens` computed) or a decode step (`batch` rows). */
export interface MeasuredForward {
  kind: "prefill" | "decode";
  tokens: number;
  batch: number;
  ms: number;
}

function best(candidates: Rate[]): Rate {
  const usable = candidates.filter((c) => Number.isFinite(c.msPerToken) && c.msPerToken > 0);
  // Nothing measured: the floor counts no time for this work (still a lower bound).
  if (usable.length === 0) return { msPerToken: 0, from: "nothing measured" };
  return usable.reduce((a, b) => (b.msPerToken < a.msPerToken ? b : a));
}

/**
 * The best prefill and decode rates of one model. `maxBatch`: the most sequences the workload
 * could decode at once (its distinct calls on this model). A profile that is only the prior (no
 * measurement) is not used.
 */
export function bestLlmRates(
  profile: Profile | undefined,
  forwards: readonly MeasuredForward[],
  maxBatch: number,
): LlmRates {
  const prefill: Rate[] = [];
  const decode: Rate[] = [];
  if (profile && profile.source === "calibrated") {
    for (const s of profile.samples.prefill) {
      const tokens = s.rows.reduce((n, r) => n + r.newTokens, 0);
      prefill.push({
        msPerToken: s.ms / tokens,
        from: `profile sample, ${s.rows.length} x ${s.rows[0]?.newTokens ?? 0} tokens`,
      });
    }
    for (const s of profile.samples.decode)
      decode.push({
        msPerToken: s.ms / s.batch,
        from: `profile sample, batch ${s.batch} at context ${s.context}`,
      });
    // A fitted constant of 0 would claim free tokens: it says the fit could not separate that
    // term, not that the work costs nothing, so it is not a rate.
    if (profile.prefill.tokenMs > 0)
      prefill.push({ msPerToken: profile.prefill.tokenMs, from: "profile fit, c_tok alone" });
    const b = Math.max(1, maxBatch);
    if (profile.decode.rowMs > 0)
      decode.push({
        msPerToken: profile.decode.rowMs + profile.decode.stepMs / b,
        from: `profile fit at batch ${b}, context 0`,
      });
  }
  for (const f of forwards) {
    if (f.kind === "prefill" && f.tokens > 0)
      prefill.push({
        msPerToken: f.ms / f.tokens,
        from: `reference pass, ${f.batch} rows / ${f.tokens} tokens`,
      });
    if (f.kind === "decode" && f.batch > 0)
      decode.push({ msPerToken: f.ms / f.batch, from: `reference pass, batch ${f.batch}` });
  }
  return { prefill: best(prefill), decode: best(decode) };
}
