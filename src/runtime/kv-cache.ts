// Per-sequence key/value cache: the unit the prefix cache stores, shares and moves. Batched runs
// pack several of these into padded tensors and split the result back (see kv-batch.ts).
//
// Invariant: keys are stored after RoPE (as Qwen2/Llama exports cache them), so a prefix's KV is
// valid for any continuation that gives the next tokens positions length, length+1, ...
//
// KV keeps the graph's own element type end to end: float32 in a Float32Array, float16 as raw
// bits in a Uint16Array (Node 20 has no Float16Array; onnxruntime-node takes and returns float16
// that way). Every move here is a typed-array copy of the same type, so a float16 cache costs 2
// bytes a value and is never converted.

/** Element type of a graph's past/present tensors. */
export type KvType = "float32" | "float16";
/** A KV buffer: float32 values, or float16 bits. */
export type KvArray = Float32Array | Uint16Array;

/** Shape numbers every KV buffer of one model shares. */
export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** Element type (default float32). */
  kvType?: KvType;
}

/** Bytes per KV value: 2 for float16, 4 for float32. */
export function kvElementBytes(shape: KvShape): number {
  return shape.kvType === "float16" ? 2 : 4;
}

/** KV bytes per token: K and V, every layer, at the graph's element size. */
export function kvBytesPerToken(shape: KvShape): number {
  return 2 * shape.numLayers * shape.numKvHeads * shape.headDim * kvElementBytes(shape);
}

/** A zeroed buffer of `n` values of the shape's element type. */
export function allocKv(shape: KvShape, n: number): KvArray {
  return shape.kvType === "float16" ? new Uint16Array(n) : new Float32Array(n);
}

export function sameKvShape(a: KvShape, b: KvShape): boolean {
  return (
    a.numLayers === b.numLayers &&
    a.numKvHeads === b.numKvHeads &&
    a.headDim === b.headDim &&
    (a.kvType ?? "float32") === (b.kvType ?? "float32")
  );
}

function checkBuffer(shape: KvShape, buffer: KvArray, what: string): void {
  const half = shape.kvType === "float16";
  if (half ? !(buffer instanceof Uint16Array) : !(buffer instanceof Float32Array))
    throw new Error(
      `SequenceKv: ${what} is a ${buffer.constructor.name}, expected ${half ? "Uint16Array (float16 bits)" : "Float32Array"}`,
    );
}

export class SequenceKv {
  readonly shape: KvShape;
  /** Tokens covered: positions 0 .. length-1. */
  readonly length: number;
  /** Per layer, [kvHeads, length, headDim] */
  readonly keys: KvArray[];
  /** Per layer, [kvHeads, length, headDim] */
  readonly values: KvArray[];

  constructor(shape: KvShape, length: number, keys: KvArray[], values: KvArray[]) {
    const per = shape.numKvHeads * length * shape.headDim;
    if (keys.length !== shape.numLayers || values.length !== shape.numLayers)
      throw new Error(`SequenceKv: expected ${shape.numLayers} layers of keys and values`);
    for (let l = 0; l < shape.numLayers; l++) {
      if (keys[l]!.length !== per || values[l]!.length !== per)
        throw new Error(
          `SequenceKv: layer ${l} buffer holds ${keys[l]!.length} values, expected [${shape.numKvHeads}, ${length}, ${shape.headDim}] = ${per}`,
        );
      checkBuffer(shape, keys[l]!, `layer ${l} keys`);
      checkBuffer(shape, values[l]!, `layer ${l} values`);
    }
    this.shape = shape;
    this.length = length;
    this.keys = keys;
    this.values = values;
  }

  static empty(shape: KvShape): SequenceKv {
    const none = () => Array.from({ length: shape.numLayers }, () => allocKv(shape, 0));
    return new SequenceKv(shape, 0, none(), none());
  }

  /** Bytes held (keys and values, all layers, at the element size). */
  get byteSize(): number {
    return kvBytesPerToken(this.shape) * this.length;
  }

  /** A copy of the first `numTokens` positions: the KV of a prompt prefix, at a token boundary. */
  slice(numTokens: number): SequenceKv {
    if (!Number.isInteger(numTokens) || numTokens < 0 || numTokens > this.length)
      throw new RangeError(`SequenceKv.slice(${numTokens}): length is ${this.length}`);
    return this.span(0, numTokens);
  }

  /** A copy of positions [start, end). */
  span(start: number, end: number): SequenceKv {
    const { numKvHeads: h, headDim: d } = this.shape;
    const n = end - start;
    const cut = (src: KvArray) => {
      const out = allocKv(this.shape, h * n * d); // [kvHeads, n, headDim]
      for (let head = 0; head < h; head++) {
        const from = (head * this.length + start) * d;
        out.set(src.subarray(from, from + n * d), head * n * d);
      }
      return out;
    };
    return new SequenceKv(this.shape, n, this.keys.map(cut), this.values.map(cut));
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
    return concatSequences([this, next], this.shape);
  }
}

/** Sequences one after another, one allocation per buffer (a chain of `append` would copy quadratically). */
export function concatSequences(parts: readonly SequenceKv[], shape: KvShape): SequenceKv {
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const join = (pick: (kv: SequenceKv) => KvArray[], layer: number) => {
    const out = allocKv(shape, h * total * d); // [kvHeads, total, headDim]
    let at = 0;
    for (const part of parts) {
      const src = pick(part)[layer]!;
      const n = part.length;
      for (let head = 0; head < h; head++)
        out.set(src.subarray(head * n * d, (head + 1) * n * d), (head * total + at) * d);
      at += n;
    }
    return out;
  };
  const keys: KvArray[] = [];
  const values: KvArray[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(join((kv) => kv.keys, l));
    values.push(join((kv) => kv.values, l));
  }
  return new SequenceKv(shape, total, keys, values);
}

/**
 * Packs sequences into one padded batch buffer per layer: [batch, kvHeads, width, headDim].
 * Left padding (the default) puts sequence i at positions width - length_i .. width - 1; right
 * padding at 0 .. length_i - 1. The attention mask hides the rest.
 */
export function packKv(
  kvs: readonly SequenceKv[],
  shape: KvShape,
  width: number,
  padding: "left" | "right" = "left",
) {
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const b = kvs.length;
  const pack = (pick: (kv: SequenceKv) => KvArray[], layer: number) => {
    const out = allocKv(shape, b * h * width * d); // [batch, kvHeads, width, headDim]
    kvs.forEach((kv, row) => {
      const src = pick(kv)[layer]!;
      const n = kv.length;
      const offset = padding === "left" ? width - n : 0;
      for (let head = 0; head < h; head++) {
        out.set(
          src.subarray(head * n * d, (head + 1) * n * d),
          ((row * h + head) * width + offset) * d,
        );
      }
    });
    return out;
  };
  const keys: KvArray[] = [];
  const values: KvArray[] = [];
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
  keys: readonly KvArray[],
  values: readonly KvArray[],
  shape: KvShape,
  width: number,
  spans: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
  rows: readonly number[] = spans.map((_, i) => i),
): SequenceKv[] {
  const { numKvHeads: h, headDim: d } = shape;
  return spans.map((rowSpans, i) => {
    const row = rows[i]!;
    const length = rowSpans.reduce((n, [s, e]) => n + e - s, 0);
    const take = (src: KvArray) => {
      const out = allocKv(shape, h * length * d);
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
