// One ONNX decoder session and the batches it runs. Every forward (prefill, continuation on a
// cached prefix, one decode step) is a graph call over tokens [B, S] with a 2D mask over past +
// new positions and past KV [B, kvHeads, P, headDim] per layer, fed the way the graph's signature
// asks (graph-signature.ts: position_ids or not, use_cache_branch, num_logits_to_keep, float16 KV
// and logits). How rows share a call is the session's layout (batch-layout.ts), chosen at load by
// the KV self-test so that batching never changes a row's answer.
//
// Left padding (layouts padded, grouped, serial), a row with past length p and n new tokens, past
// width P, new width S:
//   mask      = [0]*(P-p) + [1]*p + [0]*(S-n) + [1]*n
//   positions = p, p+1, ..., p+n-1 for the real tokens
// Right padding (contiguous): mask = [1]*p + [0]*(P-p) + [1]*n + [0]*(S-n).
// Logits come back right-aligned whatever the layout: row r's last real token is at column
// logitsWidth-1 of its [logitsWidth, vocab] block.
import ort from "onnxruntime-node";
import { groupIndices, type BatchLayout } from "./batch-layout.ts";
import type { GraphSignature } from "./graph-signature.ts";
import { halfToFloat } from "./half-float.ts";
import {
  appendInPlace,
  appendNewPositions,
  compactRows,
  hasRoom,
  isCompact,
  placeRows,
  realLength,
  type Padding,
  type PaddedKv,
} from "./kv-batch.ts";
import { allocKv, type KvArray, type KvShape } from "./kv-cache.ts";

export type { PaddedKv } from "./kv-batch.ts";

export interface PaddedRun {
  /** [batch, logitsWidth, vocab], right-aligned: each row's last token at column logitsWidth-1 */
  logits: Float32Array;
  logitsWidth: number;
  present: PaddedKv;
}

export interface RunOptions {
  /** Logits for every new position (default: the last one only). */
  allLogits?: boolean;
}

export class DecoderSession {
  readonly session: ort.InferenceSession;
  readonly shape: KvShape;
  readonly vocabSize: number;
  readonly padTokenId: number;
  readonly provider: string;
  readonly signature: GraphSignature;
  /** The graph compacts each row's KV (GroupQueryAttention): new KV follows the row's own past. */
  readonly compactsPresent: boolean;
  /**
   * The graph returns the new positions' KV only (new-kv-outputs.ts): this session appends them
   * to the past, in the past's own buffer when it has room (a decode step), else in a new one.
   */
  readonly newKvOnly: boolean;
  /** How rows share a call; set by the self-test at load (batch-layout.ts). */
  layout: BatchLayout = "padded";

  constructor(
    session: ort.InferenceSession,
    shape: KvShape,
    vocabSize: number,
    padTokenId: number,
    provider: string,
    signature: GraphSignature,
    compactsPresent = false,
    newKvOnly = false,
  ) {
    this.session = session;
    this.shape = shape;
    this.vocabSize = vocabSize;
    this.padTokenId = padTokenId;
    this.provider = provider;
    this.signature = signature;
    this.compactsPresent = compactsPresent;
    this.newKvOnly = newKvOnly;
  }

  /** The padding side batch states of this layout use (pack pasts this way to save a copy). */
  get padding(): Padding {
    return this.layout === "contiguous" ? "right" : "left";
  }

  /**
   * Runs new tokens (row i: tokens[i], at least one) on top of `past` (width P, may be 0).
   * `past.mask` marks each row's real past positions; positions continue from their count.
   */
  async run(
    tokens: readonly (readonly number[])[],
    past: PaddedKv,
    options: RunOptions = {},
  ): Promise<PaddedRun> {
    const b = tokens.length;
    if (b !== past.batch) throw new Error(`run: ${b} token rows for a past of ${past.batch}`);
    tokens.forEach((t, row) => {
      if (t.length === 0) throw new Error(`run: row ${row} has no new tokens`);
    });
    const all = Array.from({ length: b }, (_, i) => i);
    const lengths = tokens.map((t) => t.length);
    switch (this.layout) {
      case "padded":
        return this.call(tokens, past, "left", options);
      case "contiguous": {
        const p = isCompact(past, "right") ? past : compactRows(past, all, this.shape, "right");
        // A first prompt may mix lengths (each row's own length bounds its attention). On a past,
        // the graph places new KV at (row length - new width), so rows of one call need the same
        // new width; and onnxruntime's GroupQueryAttention runs several new tokens on a past at
        // batch 1 only, so such continuations go one row per call.
        if (p.width === 0) {
          if (!this.signature.lastLogitsOnly || lengths.every((n) => n === lengths[0]))
            return this.call(tokens, p, "right", options);
          return this.runGroups(
            tokens,
            p,
            groupIndices(b, (i) => lengths[i]!),
            "right",
            options,
          );
        }
        if (lengths.every((n) => n === 1)) return this.call(tokens, p, "right", options);
        const decodeOrAlone = (i: number) => (lengths[i] === 1 ? "decode" : `row ${i}`);
        return this.runGroups(tokens, p, groupIndices(b, decodeOrAlone), "right", options);
      }
      case "grouped":
        return this.runGroups(
          tokens,
          past,
          groupIndices(b, (i) => `${realLength(past, i)}/${lengths[i]}`),
          "left",
          options,
        );
      case "serial":
        return this.runGroups(
          tokens,
          past,
          all.map((i) => [i]),
          "left",
          options,
        );
    }
  }

  /** One call per group of rows, each group's past compacted; results placed back by row. */
  private async runGroups(
    tokens: readonly (readonly number[])[],
    past: PaddedKv,
    groups: number[][],
    padding: Padding,
    options: RunOptions,
  ): Promise<PaddedRun> {
    const b = tokens.length;
    const v = this.vocabSize;
    // one group of every row in order, already without holes: the past as it is (the steady
    // state of decoding rows of equal length), else each group's rows copied together
    const whole =
      groups.length === 1 && groups[0]!.every((r, i) => r === i) && groups[0]!.length === b;
    const parts: { rows: number[]; run: PaddedRun }[] = [];
    for (const rows of groups) {
      const sub =
        whole && isCompact(past, padding) ? past : compactRows(past, rows, this.shape, padding);
      parts.push({
        rows,
        run: await this.call(
          rows.map((r) => tokens[r]!),
          sub,
          padding,
          options,
        ),
      });
    }
    const width = Math.max(...parts.map((p) => p.run.logitsWidth));
    const logits = new Float32Array(b * width * v); // [batch, width, vocab], right-aligned
    for (const { rows, run } of parts) {
      const w = run.logitsWidth;
      rows.forEach((to, from) =>
        logits.set(
          run.logits.subarray(from * w * v, (from + 1) * w * v),
          (to * width + width - w) * v,
        ),
      );
    }
    const present = placeRows(
      parts.map((p) => ({ padded: p.run.present, rows: p.rows })),
      b,
      this.shape,
      padding,
    );
    return { logits, logitsWidth: width, present };
  }

  /** One graph call: rows padded on `padding`'s side, past as given. */
  private async call(
    tokens: readonly (readonly number[])[],
    past: PaddedKv,
    padding: Padding,
    options: RunOptions,
  ): Promise<PaddedRun> {
    const { numLayers, numKvHeads: h, headDim: d } = this.shape;
    const sig = this.signature;
    const b = tokens.length;
    const p = past.width;
    const s = Math.max(...tokens.map((t) => t.length));
    const t = p + s;
    const ids = new BigInt64Array(b * s).fill(BigInt(this.padTokenId)); // [batch, newWidth]
    const positions = new BigInt64Array(b * s); // [batch, newWidth]
    const mask = new Uint8Array(b * t); // [batch, past + newWidth]
    const seen = new Array<number>(b);
    for (let row = 0; row < b; row++) {
      const rowTokens = tokens[row]!;
      const n = rowTokens.length;
      let count = 0;
      for (let j = 0; j < p; j++) {
        const m = past.mask[row * p + j]!;
        mask[row * t + j] = m;
        count += m;
      }
      seen[row] = count;
      const first = padding === "left" ? s - n : 0;
      for (let col = 0; col < s; col++) positions[row * s + col] = BigInt(count);
      for (let j = 0; j < n; j++) {
        ids[row * s + first + j] = BigInt(rowTokens[j]!);
        positions[row * s + first + j] = BigInt(count + j);
        mask[row * t + p + first + j] = 1;
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      [sig.inputIds]: new ort.Tensor("int64", ids, [b, s]),
    };
    if (sig.attentionMask) {
      if (sig.maskType === "int32")
        feeds[sig.attentionMask] = new ort.Tensor("int32", Int32Array.from(mask), [b, t]);
      else {
        const mask64 = new BigInt64Array(b * t); // zero-filled: only the ones need writing
        for (let i = 0; i < mask.length; i++) if (mask[i] === 1) mask64[i] = 1n;
        feeds[sig.attentionMask] = new ort.Tensor("int64", mask64, [b, t]);
      }
    }
    if (sig.seqlensK && sig.totalSequenceLength) {
      // what a genai graph derives from the mask itself: real tokens - 1 per row, and the width
      const lengths = Int32Array.from(tokens, (x, row) => seen[row]! + x.length - 1);
      feeds[sig.seqlensK] = new ort.Tensor("int32", lengths, [b]);
      feeds[sig.totalSequenceLength] = new ort.Tensor("int32", Int32Array.of(t), []);
    }
    if (sig.positionIds) feeds[sig.positionIds] = new ort.Tensor("int64", positions, [b, s]);
    if (sig.useCacheBranch) feeds[sig.useCacheBranch] = new ort.Tensor("bool", [p > 0], [1]);
    // Right-padded rows of different lengths end at different columns: all logits needed then.
    const ragged = padding === "right" && tokens.some((x) => x.length !== s);
    const wantAll = options.allLogits === true || ragged;
    if (sig.logitsToKeep)
      feeds[sig.logitsToKeep] = new ort.Tensor(
        "int64",
        BigInt64Array.of(BigInt(wantAll ? s : 1)),
        [],
      );
    const kvType = this.shape.kvType ?? "float32";
    for (let l = 0; l < numLayers; l++) {
      feeds[sig.pastKeys[l]!] = new ort.Tensor(kvType, past.keys[l]!, [b, h, p, d]);
      feeds[sig.pastValues[l]!] = new ort.Tensor(kvType, past.values[l]!, [b, h, p, d]);
    }
    const out = await this.session.run(feeds);
    if (this.newKvOnly) {
      const got = out[sig.presentKeys[0]!]!.dims[2];
      if (got !== s)
        throw new Error(`the graph returned KV for ${got} new positions, expected ${s}`);
      const newKeys = sig.presentKeys.map((n) => out[n]!.data as KvArray);
      const newValues = sig.presentValues.map((n) => out[n]!.data as KvArray);
      // one token a row on the newest state of a buffer with room: written in place
      const inPlace = s === 1 && hasRoom(past);
      const present = inPlace
        ? appendInPlace(past, newKeys, newValues, this.shape)
        : appendNewPositions(past, mask, newKeys, newValues, s, this.shape);
      return { ...this.readLogits(out[sig.logits]!, tokens, padding, wantAll, options), present };
    }
    const keys: KvArray[] = [];
    const values: KvArray[] = [];
    for (let l = 0; l < numLayers; l++) {
      keys.push(out[sig.presentKeys[l]!]!.data as KvArray);
      values.push(out[sig.presentValues[l]!]!.data as KvArray);
    }
    const width = out[sig.presentKeys[0]!]!.dims[2]!;
    const present: PaddedKv = {
      keys,
      values,
      mask: this.presentMask(mask, t, width, tokens, seen),
      width,
      batch: b,
    };
    return { ...this.readLogits(out[sig.logits]!, tokens, padding, wantAll, options), present };
  }

  /** Where each row's real KV sits in the present: after the past, or (compacting graphs) from 0. */
  private presentMask(
    mask: Uint8Array,
    t: number,
    width: number,
    tokens: readonly (readonly number[])[],
    seen: readonly number[],
  ): Uint8Array {
    if (!this.compactsPresent) {
      if (width !== t)
        throw new Error(
          `the graph returned present KV of width ${width} for a past plus new width of ${t}`,
        );
      return mask;
    }
    const out = new Uint8Array(tokens.length * width);
    tokens.forEach((x, row) => out.fill(1, row * width, row * width + seen[row]! + x.length));
    return out;
  }

  /** Logits as float32 [batch, width, vocab], right-aligned; converted/copied only as needed. */
  private readLogits(
    tensor: ort.Tensor,
    tokens: readonly (readonly number[])[],
    padding: Padding,
    wantAll: boolean,
    options: RunOptions,
  ): { logits: Float32Array; logitsWidth: number } {
    const v = this.vocabSize;
    const [b, l, vocab] = tensor.dims as number[];
    if (vocab !== v)
      throw new Error(
        `the model's logits have ${vocab} entries per token but config.json says vocab_size ${v}`,
      );
    const s = Math.max(...tokens.map((x) => x.length));
    if (options.allLogits && l! < s)
      throw new Error(
        `this graph returns logits for the last ${l} position(s) only; per-position logits (allLogits) are not available (a graph exported with them keeps them when loaded with allPositionLogits: true)`,
      );
    if (wantAll && padding === "right" && l! < s)
      throw new Error("right-padded rows of different lengths need every position's logits");
    const half = tensor.type === "float16";
    // float32, left-aligned to the end already: the tensor itself (no copy)
    if (!half && (padding === "left" || !tokens.some((x) => x.length !== s)))
      return { logits: tensor.data as Float32Array, logitsWidth: l! };
    const width = options.allLogits ? s : 1;
    const out = new Float32Array(b! * width * v);
    tokens.forEach((x, row) => {
      const n = x.length;
      // column of the row's last real token in the tensor
      const last = padding === "left" || l! < s ? l! - 1 : n - 1;
      const count = Math.min(width, n, last + 1);
      const from = (row * l! + last - count + 1) * v;
      const at = (row * width + width - count) * v;
      if (half) halfToFloat(tensor.data as Uint16Array, from, count * v, out, at);
      else out.set((tensor.data as Float32Array).subarray(from, from + count * v), at);
    });
    return { logits: out, logitsWidth: width };
  }

  emptyPast(batch: number): PaddedKv {
    const none = () => Array.from({ length: this.shape.numLayers }, () => allocKv(this.shape, 0));
    return { keys: none(), values: none(), mask: new Uint8Array(0), width: 0, batch };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
