// Two tiers for cached KV: the fast tier (on a GPU: device memory; on CPU: the live tensors the
// runtime consumes directly) under the prefix cache's byte budget, and a host tier (on a GPU: host
// memory; on CPU: a compact store) under its own budget. The prefix cache decides *which* node
// leaves the fast tier (its eviction policy); this class decides *whether* moving it is worth it
// and does the move, recording each one as a `kv-move` task.
//
// Invariant: a move happens only when moving out now and back later is cheaper than recomputing
// the span's prefill, per the cost function; otherwise the node is dropped and recomputed.
import type { KvPayload } from "./kv-payload.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";

/** Converts fast-tier payloads to the host form and back. Must be lossless: outputs stay equal. */
export interface HostCodec<P extends KvPayload<P>, H extends KvPayload<H>> {
  toHost(payload: P): H;
  toFast(stored: H): P;
}

/** Costs the tiers ask for; the calibrated cost model (src/cost/) provides the real ones. */
export interface KvMoveCost {
  /** Milliseconds to move `bytes` out of (or back into) the fast tier. */
  moveMs(bytes: number, direction: "out" | "in"): number;
  /** Milliseconds to recompute `numTokens` of prefill after `contextTokens` cached ones. */
  recomputeMs(numTokens: number, contextTokens: number): number;
}

export interface KvTiersOptions<P extends KvPayload<P>, H extends KvPayload<H>> {
  /** Host tier capacity; 0 turns the host tier off (every eviction drops). */
  hostBudgetBytes: number;
  /** Default: identity (the payload object itself moves to the host tier's accounting). */
  codec?: HostCodec<P, H>;
  /** Default: `defaultMoveCost()`. */
  cost?: KvMoveCost;
  trace?: TraceRecorder;
  /** Trace lane for moves; default "kv:0". */
  lane?: string;
}

export interface KvTierStats {
  movesOut: number;
  movesIn: number;
  bytesOut: number;
  bytesIn: number;
  /** Evictions where recomputing was cheaper than a round trip, so nothing moved. */
  recomputeChosen: number;
  /** Prefetches not made because recomputing the span was cheaper than moving it in. */
  prefetchDeclined: number;
  /** Admissions that recomputed a cold span instead of moving it in, for the same reason. */
  admissionDeclined: number;
}

export class KvTiers<P extends KvPayload<P>, H extends KvPayload<H> = P> {
  readonly hostBudgetBytes: number;
  readonly stats: KvTierStats = {
    movesOut: 0,
    movesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    recomputeChosen: 0,
    prefetchDeclined: 0,
    admissionDeclined: 0,
  };
  private readonly codec: HostCodec<P, H>;
  private readonly cost: KvMoveCost;
  /**
   * Where moves are recorded. Settable: a worker's cache (and these tiers) outlives the run that
   * created it, so each run points it at its own trace (`undefined` when several runs share it).
   */
  trace?: TraceRecorder;
  private readonly lane: string;

  constructor(options: KvTiersOptions<P, H>) {
    if (!(options.hostBudgetBytes >= 0)) {
      throw new RangeError(
        `hostBudgetBytes must be a number >= 0 (got ${options.hostBudgetBytes}); use 0 for no host tier`,
      );
    }
    this.hostBudgetBytes = options.hostBudgetBytes;
    // Without a codec H is P (the class default), so the identity codec has the right type.
    this.codec = options.codec ?? (identityCodec<P>() as unknown as HostCodec<P, H>);
    this.cost = options.cost ?? defaultMoveCost();
    this.trace = options.trace;
    this.lane = options.lane ?? "kv:0";
  }

  /** True when moving this span out and back in beats recomputing it. */
  shouldOffload(numTokens: number, bytes: number, contextTokens: number): boolean {
    if (this.hostBudgetBytes === 0 || bytes > this.hostBudgetBytes) return false;
    const roundTrip = this.cost.moveMs(bytes, "out") + this.cost.moveMs(bytes, "in");
    const worth = roundTrip < this.cost.recomputeMs(numTokens, contextTokens);
    if (!worth) this.stats.recomputeChosen++;
    return worth;
  }

  /**
   * True when moving a host span back in beats recomputing it: the offload rule with the move
   * out already paid. A prefetch is a bet made ahead of use, so it is made only when it wins;
   * admission asks again at use, since the costs may have been refitted since the offload.
   */
  shouldLoad(
    numTokens: number,
    bytes: number,
    contextTokens: number,
    by: "prefetch" | "admission" = "prefetch",
  ): boolean {
    const worth = this.cost.moveMs(bytes, "in") < this.cost.recomputeMs(numTokens, contextTokens);
    if (!worth && by === "prefetch") this.stats.prefetchDeclined++;
    if (!worth && by === "admission") this.stats.admissionDeclined++;
    return worth;
  }

  moveOut(payload: P, nodeIds: readonly number[] = []): H {
    const task = this.trace?.begin(this.lane, "kv-move", nodeIds);
    const stored = this.codec.toHost(payload);
    this.stats.movesOut++;
    this.stats.bytesOut += payload.bytes;
    task?.end({ bytes: payload.bytes, detail: "out", batchSize: 1 });
    return stored;
  }

  moveIn(stored: H, nodeIds: readonly number[] = []): P {
    const task = this.trace?.begin(this.lane, "kv-move", nodeIds);
    const payload = this.codec.toFast(stored);
    this.stats.movesIn++;
    this.stats.bytesIn += payload.bytes;
    task?.end({ bytes: payload.bytes, detail: "in", batchSize: 1 });
    return payload;
  }
}

/** The payload itself is the host form: on CPU the move is accounting only (no copy). */
export function identityCodec<P extends KvPayload<P>>(): HostCodec<P, P> {
  return { toHost: (p) => p, toFast: (h) => h };
}

/**
 * Default costs until the calibrated cost model provides them. Moves: bytes over a memory copy
 * rate measured once on this machine. Recompute: prefill at 13 tokens/ms plus 1 ms per call, the
 * low end measured for the shipped 0.85 M model (runtime notes: 13-40k tok/s, 1-2 ms fixed).
 */
export function defaultMoveCost(): KvMoveCost {
  const bytesPerMs = measureCopyBytesPerMs();
  return {
    moveMs: (bytes) => bytes / bytesPerMs,
    recomputeMs: (numTokens) => 1 + numTokens / 13,
  };
}

let measuredCopyRate: number | undefined;

/** Bytes per millisecond of a plain typed-array copy (best of 5 copies of 4 MiB), cached. */
export function measureCopyBytesPerMs(): number {
  if (measuredCopyRate !== undefined) return measuredCopyRate;
  const src = new Float32Array(1 << 20); // [1M floats] = 4 MiB
  const dst = new Float32Array(src.length);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  // A timer resolution of 0 ms would claim infinite speed: floor the time at 1 microsecond.
  measuredCopyRate = src.byteLength / Math.max(best, 0.001);
  return measuredCopyRate;
}
