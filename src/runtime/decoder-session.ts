// One ONNX decoder session and the padded batch it runs. Every forward (prefill, continuation
// on a cached prefix, one decode step) is the same graph call: tokens [B, S] with a 2D mask over
// past + new positions, explicit position ids, and past KV [B, kvHeads, P, headDim] per layer.
//
// Padding layout of a batch row with past length p and n new tokens, past width P, new width S:
//   mask      = [0]*(P-p) + [1]*p + [0]*(S-n) + [1]*n     (left padding in both segments)
//   positions = p, p+1, ..., p+n-1 for the real tokens    (notes: cumsum-based ids for padding)
// The last real token of every row sits at column S-1, so its logits are at one fixed place.
// Exact for graphs that build attention from the full 2D mask (the shipped model; Optimum
// exports); `selfTest` checks a loaded model does.
import ort from "onnxruntime-node";
import type { KvShape } from "./kv-cache.ts";

/** A left-padded batch state: what a run consumed or produced. */
export interface PaddedKv {
  /** Per layer, [batch, kvHeads, width, headDim] */
  keys: Float32Array[];
  /** Per layer, [batch, kvHeads, width, headDim] */
  values: Float32Array[];
  /** [batch, width], 1 where a position holds a real token */
  mask: Uint8Array;
  width: number;
  batch: number;
}

export interface PaddedRun {
  /** [batch, newWidth, vocab] or, with lastOnly, [batch, vocab] */
  logits: Float32Array;
  present: PaddedKv;
}

export class DecoderSession {
  readonly session: ort.InferenceSession;
  readonly shape: KvShape;
  readonly vocabSize: number;
  readonly padTokenId: number;
  readonly provider: string;

  constructor(
    session: ort.InferenceSession,
    shape: KvShape,
    vocabSize: number,
    padTokenId: number,
    provider: string,
  ) {
    this.session = session;
    this.shape = shape;
    this.vocabSize = vocabSize;
    this.padTokenId = padTokenId;
    this.provider = provider;
  }

  /**
   * Runs new tokens (row i: tokens[i], at least one) on top of `past` (width P, may be 0).
   * `past.mask` marks each row's real past positions; positions continue from their count.
   */
  async run(tokens: readonly (readonly number[])[], past: PaddedKv): Promise<PaddedRun> {
    const { numLayers, numKvHeads: h, headDim: d } = this.shape;
    const b = tokens.length;
    if (b !== past.batch) throw new Error(`run: ${b} token rows for a past of ${past.batch}`);
    const p = past.width;
    const s = Math.max(...tokens.map((t) => t.length));
    const t = p + s;
    const ids = new BigInt64Array(b * s).fill(BigInt(this.padTokenId)); // [batch, newWidth]
    const positions = new BigInt64Array(b * s); // [batch, newWidth]
    const mask = new Uint8Array(b * t); // [batch, past + newWidth]
    for (let row = 0; row < b; row++) {
      const rowTokens = tokens[row]!;
      const n = rowTokens.length;
      if (n === 0) throw new Error(`run: row ${row} has no new tokens`);
      let seen = 0;
      for (let j = 0; j < p; j++) {
        const m = past.mask[row * p + j]!;
        mask[row * t + j] = m;
        seen += m;
      }
      for (let j = 0; j < n; j++) {
        const col = s - n + j;
        ids[row * s + col] = BigInt(rowTokens[j]!);
        positions[row * s + col] = BigInt(seen + j);
        mask[row * t + p + col] = 1;
      }
      for (let col = 0; col < s - n; col++) positions[row * s + col] = BigInt(seen);
    }
    const mask64 = new BigInt64Array(b * t); // zero-filled: only the ones need writing
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) mask64[i] = 1n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [b, s]),
      attention_mask: new ort.Tensor("int64", mask64, [b, t]),
      position_ids: new ort.Tensor("int64", positions, [b, s]),
    };
    for (let l = 0; l < numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor("float32", past.keys[l]!, [b, h, p, d]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor("float32", past.values[l]!, [
        b,
        h,
        p,
        d,
      ]);
    }
    const out = await this.session.run(feeds);
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < numLayers; l++) {
      keys.push(out[`present.${l}.key`]!.data as Float32Array);
      values.push(out[`present.${l}.value`]!.data as Float32Array);
    }
    const logits = out.logits!;
    const dims = logits.dims;
    if (dims[2] !== this.vocabSize)
      throw new Error(
        `the model's logits have ${dims[2]} entries per token but config.json says vocab_size ${this.vocabSize}`,
      );
    return {
      logits: logits.data as Float32Array,
      present: { keys, values, mask, width: t, batch: b },
    };
  }

  emptyPast(batch: number): PaddedKv {
    const none = () => Array.from({ length: this.shape.numLayers }, () => new Float32Array(0));
    return { keys: none(), values: none(), mask: new Uint8Array(0), width: 0, batch };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
