// A cost profile: what one model costs on one execution provider on this machine, fitted from
// measurements (calibrate.ts) and refined online (cost-model.ts). Plain JSON, versioned: a file
// of another version is recalibrated, never half-read.
import type { DecodeConstants, PrefillConstants, PrefillRow } from "./formulas.ts";
import type { WarmupConstants } from "./warmup.ts";

// 2: the warm-up constant (warmup.ts); version-1 files are recalibrated to measure it.
// 3: graphs run their LM head on the last position only (last-position-logits.ts), which made
// prefill up to 2x faster; version-2 files measured the head on every position.
// 4: the same default again, after a time when it was opt-in: version-3 files may have measured the
// head on every position.
// 5: decode steps append new KV into the past's buffer (new-kv-outputs.ts) instead of copying
// the whole present out of onnxruntime: the per-token context cost of a step fell 2-3x, and
// version-4 files measured the copy.
export const PROFILE_VERSION = 5;

/** One measured prefill call (median of repeats). */
export interface PrefillSample {
  rows: PrefillRow[];
  ms: number;
}

/** One measured decode step (median of repeats). */
export interface DecodeSample {
  batch: number;
  context: number;
  ms: number;
}

export interface FitQuality {
  /** Median of |predicted - measured| / measured over the samples, e.g. 0.12 for 12%. */
  medianRelError: number;
  /** Worst sample's relative error. */
  maxRelError: number;
  samples: number;
  /** Samples left out of the final fit as disturbed (see fit.ts fitRobust). */
  outliers: number;
}

export interface Profile {
  version: typeof PROFILE_VERSION;
  modelId: string;
  provider: string;
  /** Hash of the model file(s): a changed model invalidates the profile. */
  modelHash: string;
  createdAt: string;
  /** "calibrated" (measured here) or "prior" (defaults from notes, before any measurement). */
  source: "calibrated" | "prior";
  machine: { cpuModel: string; cpus: number };
  prefill: PrefillConstants;
  decode: DecodeConstants;
  /** The cost of first forward calls that grow the session's memory (warmup.ts). */
  warmup: WarmupConstants;
  /** KV cache bytes per token: 2 (K and V) x layers x kvHeads x headDim x bytes per element. */
  kvBytesPerToken: number;
  /** Loading the model (session creation), ms. */
  loadMs: number;
  /** Bytes of KV the Processor may keep in fast memory for this model. */
  kvBudgetBytes: number;
  /** Moving KV between tiers: ms = fixedMs + bytes / bytesPerMs. */
  kvMove: { fixedMs: number; bytesPerMs: number };
  fit: { prefill: FitQuality; decode: FitQuality };
  /** The measurements the constants were fit on (online refits start from them). */
  samples: { prefill: PrefillSample[]; decode: DecodeSample[] };
}

/** Parses and checks a profile read from disk; throws with the field that is wrong. */
export function parseProfile(text: string, where: string): Profile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message}); delete it to recalibrate`);
  }
  const p = data as Partial<Profile>;
  if (typeof p !== "object" || p === null) throw new Error(`${where}: not a profile object`);
  if (p.version !== PROFILE_VERSION) {
    throw new Error(`${where}: profile version ${String(p.version)}, expected ${PROFILE_VERSION}`);
  }
  const numbers: [string, unknown][] = [
    ["prefill.callMs", p.prefill?.callMs],
    ["prefill.tokenMs", p.prefill?.tokenMs],
    ["prefill.attentionMs", p.prefill?.attentionMs],
    ["decode.stepMs", p.decode?.stepMs],
    ["decode.rowMs", p.decode?.rowMs],
    ["decode.kvMs", p.decode?.kvMs],
    ["warmup.msPerMiB", p.warmup?.msPerMiB],
    ["kvBytesPerToken", p.kvBytesPerToken],
    ["loadMs", p.loadMs],
    ["kvBudgetBytes", p.kvBudgetBytes],
    ["kvMove.fixedMs", p.kvMove?.fixedMs],
    ["kvMove.bytesPerMs", p.kvMove?.bytesPerMs],
  ];
  for (const [name, v] of numbers) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new Error(`${where}: ${name} must be a non-negative number, got ${String(v)}`);
    }
  }
  if (typeof p.modelId !== "string" || typeof p.provider !== "string") {
    throw new Error(`${where}: modelId and provider must be strings`);
  }
  if (!p.samples || !Array.isArray(p.samples.prefill) || !Array.isArray(p.samples.decode)) {
    throw new Error(`${where}: samples.prefill and samples.decode must be arrays`);
  }
  return p as Profile;
}

/** Bytes of K and V per token for a decoder: 2 x layers x kvHeads x headDim x element size. */
export function kvBytesPerToken(
  config: { numLayers: number; numKvHeads: number; headDim: number },
  bytesPerElement: number,
): number {
  return 2 * config.numLayers * config.numKvHeads * config.headDim * bytesPerElement;
}

const NO_FIT: FitQuality = { medianRelError: 0, maxRelError: 0, samples: 0, outliers: 0 };

/**
 * A profile before any measurement, so planning works (and tests of passes run) without a model.
 * Constants are the 0.85 M model's measured ranges in docs/cost-model.md (runtime.md "Measured
 * costs"): prefill 1.5 ms per call and about 25k tokens/s; decode 2 ms per step at batch 1 and
 * 8-22 ms at batch 32 with past 128. `getProfile` replaces it with a calibration.
 */
export function priorProfile(
  modelId: string,
  options: { provider?: string; kvBytesPerToken?: number; kvBudgetBytes?: number } = {},
): Profile {
  return {
    version: PROFILE_VERSION,
    modelId,
    provider: options.provider ?? "cpu",
    modelHash: "",
    createdAt: new Date(0).toISOString(),
    source: "prior",
    machine: { cpuModel: "unknown", cpus: 0 },
    prefill: { callMs: 1.5, tokenMs: 0.04, attentionMs: 2e-6 },
    decode: { stepMs: 1.5, rowMs: 0.1, kvMs: 0.002 },
    // No warm-up before a measurement: the prior describes a warm session.
    warmup: { msPerMiB: 0 },
    kvBytesPerToken: options.kvBytesPerToken ?? 4096,
    loadMs: 100,
    kvBudgetBytes: options.kvBudgetBytes ?? 256 * 2 ** 20,
    kvMove: { fixedMs: 0.01, bytesPerMs: 2e6 },
    fit: { prefill: NO_FIT, decode: NO_FIT },
    samples: { prefill: [], decode: [] },
  };
}
