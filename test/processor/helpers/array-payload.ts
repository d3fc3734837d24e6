// A payload that holds real per-token values, so tests can check that the cache hands back
// exactly the KV that was inserted, in order, after splits, evictions and moves.
import { checkSliceBounds, type KvPayload } from "../../../src/processor/kv/kv-payload.ts";

export class ArrayPayload implements KvPayload<ArrayPayload> {
  constructor(
    readonly values: readonly number[],
    readonly bytesPerToken: number,
  ) {}

  get numTokens(): number {
    return this.values.length;
  }

  get bytes(): number {
    return this.values.length * this.bytesPerToken;
  }

  slice(start: number, end: number): ArrayPayload {
    checkSliceBounds(this.numTokens, start, end);
    return new ArrayPayload(this.values.slice(start, end), this.bytesPerToken);
  }

  concat(rest: readonly ArrayPayload[]): ArrayPayload {
    return new ArrayPayload([this.values, ...rest.map((p) => p.values)].flat(), this.bytesPerToken);
  }
}

/** The "KV" a model would compute for `tokens`: depends on the token and its position. */
export function fakeKv(tokens: readonly number[], bytesPerToken = 10): ArrayPayload {
  return new ArrayPayload(
    tokens.map((t, i) => t * 1000 + i),
    bytesPerToken,
  );
}
