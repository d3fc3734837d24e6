// Moving between per-sequence KV (SequenceKv) and the left-padded batch state a graph call
// consumes (PaddedKv). The decode loop keeps a PaddedKv across steps (the present of one step is
// the past of the next: no repacking), and only packs/splits at batch boundaries.
import type { PaddedKv } from "./decoder-session.ts";
import { packKv, unpackKv, type KvShape, type SequenceKv } from "./kv-cache.ts";

/** Sequences of different lengths as one batch: [batch, kvHeads, maxLength, headDim] per layer. */
export function packSequences(kvs: readonly SequenceKv[], shape: KvShape): PaddedKv {
  const width = Math.max(0, ...kvs.map((kv) => kv.length));
  const { keys, values } = packKv(kvs, shape, width);
  const mask = new Uint8Array(kvs.length * width); // [batch, width]
  kvs.forEach((kv, row) => mask.fill(1, row * width + width - kv.length, (row + 1) * width));
  return { keys, values, mask, width, batch: kvs.length };
}

/** Each row's real positions (mask 1) as contiguous [start, end) spans of the width axis. */
export function maskSpans(padded: PaddedKv): Array<Array<[number, number]>> {
  const { mask, width } = padded;
  return Array.from({ length: padded.batch }, (_, row) => {
    const spans: Array<[number, number]> = [];
    let start = -1;
    for (let j = 0; j <= width; j++) {
      const on = j < width && mask[row * width + j] === 1;
      if (on && start < 0) start = j;
      if (!on && start >= 0) {
        spans.push([start, j]);
        start = -1;
      }
    }
    return spans;
  });
}

/** The batch split back into compact per-sequence KV (padding and holes dropped). */
export function splitPadded(padded: PaddedKv, shape: KvShape): SequenceKv[] {
  return unpackKv(padded.keys, padded.values, shape, padded.width, maskSpans(padded));
}

/** Keeps only `rows` (in that order): a batch after some sequences finished. */
export function selectRows(padded: PaddedKv, rows: readonly number[], shape: KvShape): PaddedKv {
  const { numKvHeads: h, headDim: d } = shape;
  const w = padded.width;
  const rowFloats = h * w * d;
  const pick = (src: Float32Array) => {
    const out = new Float32Array(rows.length * rowFloats);
    rows.forEach((row, i) =>
      out.set(src.subarray(row * rowFloats, (row + 1) * rowFloats), i * rowFloats),
    );
    return out;
  };
  const mask = new Uint8Array(rows.length * w);
  rows.forEach((row, i) => mask.set(padded.mask.subarray(row * w, (row + 1) * w), i * w));
  return {
    keys: padded.keys.map(pick),
    values: padded.values.map(pick),
    mask,
    width: w,
    batch: rows.length,
  };
}

/** Several batch states stacked into one (each left-padded to the widest). */
export function concatPadded(parts: readonly PaddedKv[], shape: KvShape): PaddedKv {
  if (parts.length === 1) return parts[0]!;
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const width = Math.max(...parts.map((p) => p.width));
  const batch = parts.reduce((n, p) => n + p.batch, 0);
  const mask = new Uint8Array(batch * width);
  const stack = (pick: (p: PaddedKv) => Float32Array[], layer: number) => {
    const out = new Float32Array(batch * h * width * d); // [batch, kvHeads, width, headDim]
    let row0 = 0;
    for (const part of parts) {
      const src = pick(part)[layer]!;
      const off = width - part.width;
      for (let r = 0; r < part.batch; r++) {
        for (let head = 0; head < h; head++) {
          const from = (r * h + head) * part.width * d;
          out.set(
            src.subarray(from, from + part.width * d),
            (((row0 + r) * h + head) * width + off) * d,
          );
        }
      }
      row0 += part.batch;
    }
    return out;
  };
  let row0 = 0;
  for (const part of parts) {
    const off = width - part.width;
    for (let r = 0; r < part.batch; r++) {
      mask.set(part.mask.subarray(r * part.width, (r + 1) * part.width), (row0 + r) * width + off);
    }
    row0 += part.batch;
  }
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(stack((p) => p.keys, l));
    values.push(stack((p) => p.values, l));
  }
  return { keys, values, mask, width, batch };
}
