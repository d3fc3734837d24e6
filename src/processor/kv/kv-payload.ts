// What the prefix cache stores per radix node: the KV of a span of tokens. The cache is generic
// over it, so the same tree runs (a) over the runtime's real per-sequence KV and (b) over
// `TokenCountPayload`, which holds no memory, when the optimizer simulates the cache to predict
// hits. The interface is the whole boundary: the tree never looks inside a payload.

/**
 * KV for a contiguous span of tokens. Implementations are immutable values.
 *
 * Ownership: a payload returned by `slice`, `concat` or an engine's forward belongs to the
 * caller, who calls `release` once done with it (the prefix cache releases what it drops, the
 * LLM worker its sequences' KV and the pasts it loaded). Payloads whose memory is plain JS memory
 * need not implement it; handles on KV held elsewhere (a model thread's) free it there.
 */
export interface KvPayload<P extends KvPayload<P>> {
  /** Tokens covered (the span's length). */
  readonly numTokens: number;
  /** Memory it holds in the tier it lives in (what the byte budget counts). */
  readonly bytes: number;
  /** Tokens [start, end) of this span, as a new payload (may copy). */
  slice(start: number, end: number): P;
  /**
   * This span followed by `rest`, in order, as one payload the caller owns (with `rest` empty it
   * may be `this` only for payloads without `release`).
   */
  concat(rest: readonly P[]): P;
  /** The holder is done with this payload (see Ownership above); idempotent. */
  release?(): void;
}

/**
 * A payload with no memory: the optimizer's simulator. `bytesPerToken` should be the model's
 * real KV bytes per token (2 x layers x kvHeads x headDim x dtype bytes), so that the simulated
 * cache fills and evicts exactly like the real one under the same budget.
 */
export class TokenCountPayload implements KvPayload<TokenCountPayload> {
  constructor(
    readonly numTokens: number,
    readonly bytesPerToken: number,
  ) {}

  get bytes(): number {
    return this.numTokens * this.bytesPerToken;
  }

  slice(start: number, end: number): TokenCountPayload {
    checkSliceBounds(this.numTokens, start, end);
    return new TokenCountPayload(end - start, this.bytesPerToken);
  }

  concat(rest: readonly TokenCountPayload[]): TokenCountPayload {
    let n = this.numTokens;
    for (const part of rest) n += part.numTokens;
    return new TokenCountPayload(n, this.bytesPerToken);
  }
}

export function checkSliceBounds(numTokens: number, start: number, end: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > numTokens) {
    throw new RangeError(
      `KV slice [${start}, ${end}) is outside the span of ${numTokens} tokens: pass 0 <= start <= end <= numTokens`,
    );
  }
  if (start > end) {
    throw new RangeError(`KV slice start ${start} is after end ${end}: pass start <= end`);
  }
}
