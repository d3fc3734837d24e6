// Per-sequence key/value cache: the unit the prefix cache stores, shares and moves. Batched runs
// pack several of these into left-padded tensors and split the result back (see kv-batch.ts).
//
// Invariant: keys are stored after RoPE (as Qwen2/Llama exports cache them), so a prefix's KV is
// valid for any continuation that gives the next tokens positions length, length+1, ...

/** Shape numbers every KV buffer of one model shares. */
export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export class SequenceKv {
  readonly shape: KvShape;
  /** Tokens covered: positions 0 .. length-1. */
  readonly length: number;
  /** Per layer, [kvHeads, length, headDim] */
  readonly keys: Float32Array[];
  /** Per layer, [kvHeads, length, headDim] */
  readonly values: Float32Array[];

  constructor(shape: KvShape, length: number, keys: Float32Array[], values: Float32Array[]) {
    const per = shape.numKvHeads * length * shape.headDim;
    if (keys.length !== shape.numLayers || values.length !== shape.numLayers)
      throw new Error(`SequenceKv: expected ${shape.numLayers} layers of keys and values`);
    for (let l = 0; l < shape.numLayers; l++) {
      if (keys[l]!.length !== per || values[l]!.length !== per)
        throw new Error(
          `SequenceKv: layer ${l} buffer holds ${keys[l]!.length} floats, expected [${shape.numKvHeads}, ${length}, ${shape.headDim}] = ${per}`,
        );
    }
    this.shape = shape;
    this.length = length;
    this.keys = keys;
    this.values = values;
  }

  static empty(shape: KvShape): SequenceKv {
    const none = () => Array.from({ length: shape.numLayers }, () => new Float32Array(0));
    return new SequenceKv(shape, 0, none(), none());
  }

  /** Bytes held (keys and values, all layers). */
  get byteSize(): number {
    return 2 * this.shape.numLayers * this.shape.numKvHeads * this.length * this.shape.headDim * 4;
  }

  /** A copy of the first `numTokens` positions: the KV of a prompt prefix, at a token boundary. */
  slice(numTokens: number): SequenceKv {
    if (!Number.isInteger(numTokens) || numTokens < 0 || numTokens > this.length)
      throw new RangeError(`SequenceKv.slice(${numTokens}): length is ${this.length}`);
    const { numKvHeads: h, headDim: d } = this.shape;
    const cut = (src: Float32Array) => {
      const out = new Float32Array(h * numTokens * d);
      for (let head = 0; head < h; head++) {
        const from = head * this.length * d;
        out.set(src.subarray(from, from + numTokens * d), head * numTokens * d);
      }
      return out;
    };
    return new SequenceKv(this.shape, numTokens, this.keys.map(cut), this.values.map(cut));
  }

  copy(): SequenceKv {
    return new SequenceKv(
      this.shape,
      this.length,
      this.keys.map((k) => k.slice()),
      this.values.map((v) => v.slice()),
    );
  }

  /** This sequence followed by `next` (whose positions continue this one's). */
  append(next: SequenceKv): SequenceKv {
    const { numKvHeads: h, headDim: d } = this.shape;
    const a = this.length;
    const b = next.length;
    const join = (x: Float32Array, y: Float32Array) => {
      const out = new Float32Array(h * (a + b) * d);
      for (let head = 0; head < h; head++) {
        out.set(x.subarray(head * a * d, (head + 1) * a * d), head * (a + b) * d);
        out.set(y.subarray(head * b * d, (head + 1) * b * d), (head * (a + b) + a) * d);
      }
      return out;
    };
    return new SequenceKv(
      this.shape,
      a + b,
      this.keys.map((k, l) => join(k, next.keys[l]!)),
      this.values.map((v, l) => join(v, next.values[l]!)),
    );
  }
}

/**
 * Packs sequences into one left-padded batch buffer per layer: [batch, kvHeads, width, headDim],
 * sequence i occupying positions width - length_i .. width - 1 (the attention mask hides the rest).
 */
export function packKv(kvs: readonly SequenceKv[], shape: KvShape, width: number) {
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const b = kvs.length;
  const pack = (pick: (kv: SequenceKv) => Float32Array[], layer: number) => {
    const out = new Float32Array(b * h * width * d); // [batch, kvHeads, width, headDim]
    kvs.forEach((kv, row) => {
      const src = pick(kv)[layer]!;
      const n = kv.length;
      for (let head = 0; head < h; head++) {
        out.set(
          src.subarray(head * n * d, (head + 1) * n * d),
          ((row * h + head) * width + width - n) * d,
        );
      }
    });
    return out;
  };
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(pack((kv) => kv.keys, l));
    values.push(pack((kv) => kv.values, l));
  }
  return { keys, values };
}

/**
 * Splits a batch buffer back into sequences. Row i keeps positions given by `spans[i]`: a list of
 * [start, end) ranges of the width axis (its past, then its new tokens, skipping padding).
 */
export function unpackKv(
  keys: readonly Float32Array[],
  values: readonly Float32Array[],
  shape: KvShape,
  width: number,
  spans: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
): SequenceKv[] {
  const { numKvHeads: h, headDim: d } = shape;
  return spans.map((rowSpans, row) => {
    const length = rowSpans.reduce((n, [s, e]) => n + e - s, 0);
    const take = (src: Float32Array) => {
      const out = new Float32Array(h * length * d);
      for (let head = 0; head < h; head++) {
        let at = head * length * d;
        const base = (row * h + head) * width;
        for (const [s, e] of rowSpans) {
          out.set(src.subarray((base + s) * d, (base + e) * d), at);
          at += (e - s) * d;
        }
      }
      return out;
    };
    return new SequenceKv(shape, length, keys.map(take), values.map(take));
  });
}
