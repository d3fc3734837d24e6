// Warm-up: the first forward calls that need more memory than the model's session has used so
// far are slow. onnxruntime's CPU arena grows (allocates and first-touches new blocks) and plans
// buffers for the new shapes; once grown, it reuses them. Measured on the shipped model under
// load 7 (2 shared cores): a 64 x 100-token decode step took 100-134 ms on its first call and
// 6-7 ms from the third, while a smaller 32 x 100 step afterwards paid nothing extra (3-6 ms). So
// the cost is not per new shape but per byte beyond the high-water mark:
//
//   warmup(forward) = c_grow x max(0, footprint - highWater),   then highWater = max(both)
//
// The footprint is the forward's KV, batch x context tokens x KV bytes per token: every tensor
// that grows with a call (the past copied in, the present out, attention scores, activations)
// grows with batch and context, and the KV is the one the cost model already knows. The
// high-water mark is state of a running session, so it lives in the CostModel (per model,
// advanced by what runs observe), never in a pass; calibration measures c_grow.

/** Fitted warm-up constant. */
export interface WarmupConstants {
  /** c_grow: ms per MiB of footprint beyond the session's high-water mark. */
  msPerMiB: number;
}

/** One calibration point's first run: how far it grew the footprint and what that cost extra. */
export interface WarmupSample {
  growthBytes: number;
  /** First run minus the point's steady (median) time. */
  excessMs: number;
}

const MIB = 2 ** 20;

/** Bytes of KV one forward call holds: `batch` sequences of `contextTokens` (past + new) each. */
export function forwardFootprintBytes(
  batch: number,
  contextTokens: number,
  kvBytesPerToken: number,
): number {
  return Math.max(0, batch) * Math.max(0, contextTokens) * kvBytesPerToken;
}

export function predictWarmupMs(c: WarmupConstants, growthBytes: number): number {
  return growthBytes > 0 ? (c.msPerMiB * growthBytes) / MIB : 0;
}

/**
 * c_grow by least squares through the origin over the points that grew the footprint (the
 * excess is zero without growth by construction, so the line has no intercept). A negative
 * excess (the first run was the faster one, load noise) counts as zero.
 */
export function fitWarmup(samples: readonly WarmupSample[]): WarmupConstants {
  let xy = 0;
  let xx = 0;
  for (const s of samples) {
    if (!(s.growthBytes > 0)) continue;
    const x = s.growthBytes / MIB;
    xy += x * Math.max(0, s.excessMs);
    xx += x * x;
  }
  return { msPerMiB: xx > 0 ? xy / xx : 0 };
}
