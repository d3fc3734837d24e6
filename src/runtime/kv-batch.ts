// Moving between per-sequence KV (SequenceKv) and the padded batch state a graph call consumes
// (PaddedKv). The decode loop keeps a PaddedKv across steps (the present of one step is the past
// of the next: no repacking), and only packs/splits at batch boundaries. Buffers keep the graph's
// KV element type (kv-cache.ts): every function here copies typed arrays of one type.
import {
  allocKv,
  packKv,
  unpackKv,
  type KvArray,
  type KvShape,
  type SequenceKv,
} from "./kv-cache.ts";

/** Which side of a row padding goes: left padding right-aligns the real positions. */
export type Padding = "left" | "right";

/** A padded batch state: what a run consumed or produced. */
export interface PaddedKv {
  /** Per layer, [batch, kvHeads, width, headDim] */
  keys: KvArray[];
  /** Per layer, [batch, kvHeads, width, headDim] */
  values: KvArray[];
  /** [batch, width], 1 where a position holds a real token */
  mask: Uint8Array;
  width: number;
  batch: number;
}

/** Sequences of different lengths as one batch: [batch, kvHeads, maxLength, headDim] per layer. */
export function packSequences(
  kvs: readonly SequenceKv[],
  shape: KvShape,
  padding: Padding = "left",
): PaddedKv {
  const width = Math.max(0, ...kvs.map((kv) => kv.length));
  const { keys, values } = packKv(kvs, shape, width, padding);
  const mask = new Uint8Array(kvs.length * width); // [batch, width]
  kvs.forEach((kv, row) => {
    const start = padding === "left" ? row * width + width - kv.length : row * width;
    mask.fill(1, start, start + kv.length);
  });
  return { keys, values, mask, width, batch: kvs.length };
}

/** Real positions (mask 1) of one row. */
export function realLength(padded: PaddedKv, row: number): number {
  const { mask, width } = padded;
  let n = 0;
  for (let j = row * width; j < (row + 1) * width; j++) n += mask[j]!;
  return n;
}

/** Each row's real positions (mask 1) as contiguous [start, end) spans of the width axis. */
export function maskSpans(
  padded: PaddedKv,
  rows?: readonly number[],
): Array<Array<[number, number]>> {
  const { mask, width } = padded;
  return (rows ?? Array.from({ length: padded.batch }, (_, i) => i)).map((row) => {
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
  const rowValues = h * w * d;
  const pick = (src: KvArray) => {
    const out = allocKv(shape, rows.length * rowValues);
    rows.forEach((row, i) =>
      out.set(src.subarray(row * rowValues, (row + 1) * rowValues), i * rowValues),
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

/** Whether every row's real positions sit together on the `padding` side's opposite edge. */
export function isCompact(padded: PaddedKv, padding: Padding): boolean {
  const { mask, width } = padded;
  for (let row = 0; row < padded.batch; row++) {
    const n = realLength(padded, row);
    const start = padding === "left" ? width - n : 0;
    for (let j = start; j < start + n; j++) if (mask[row * width + j] !== 1) return false;
  }
  return true;
}

/**
 * `rows` of a batch with their real positions moved together (padding and holes dropped),
 * aligned by `padding`, as a batch of width = the longest of them. Rows of equal length give a
 * dense batch with no padding at all.
 */
export function compactRows(
  padded: PaddedKv,
  rows: readonly number[],
  shape: KvShape,
  padding: Padding,
): PaddedKv {
  const parts = unpackKv(
    padded.keys,
    padded.values,
    shape,
    padded.width,
    maskSpans(padded, rows),
    rows,
  );
  return packSequences(parts, shape, padding);
}

/**
 * Batches placed row by row into one: part k's row i becomes row `parts[k].rows[i]` of the
 * result (every row of 0 .. batch-1 given once), widened to the widest part on the padding side.
 */
export function placeRows(
  parts: readonly { padded: PaddedKv; rows: readonly number[] }[],
  batch: number,
  shape: KvShape,
  padding: Padding,
): PaddedKv {
  if (
    parts.length === 1 &&
    parts[0]!.rows.every((r, i) => r === i) &&
    parts[0]!.padded.batch === batch
  )
    return parts[0]!.padded;
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const width = Math.max(0, ...parts.map((p) => p.padded.width));
  const mask = new Uint8Array(batch * width);
  const place = (pick: (p: PaddedKv) => KvArray[], layer: number) => {
    const out = allocKv(shape, batch * h * width * d); // [batch, kvHeads, width, headDim]
    for (const { padded, rows } of parts) {
      const src = pick(padded)[layer]!;
      const w = padded.width;
      const off = padding === "left" ? width - w : 0;
      rows.forEach((to, from) => {
        for (let head = 0; head < h; head++) {
          const at = (from * h + head) * w * d;
          out.set(src.subarray(at, at + w * d), ((to * h + head) * width + off) * d);
        }
      });
    }
    return out;
  };
  for (const { padded, rows } of parts) {
    const w = padded.width;
    const off = padding === "left" ? width - w : 0;
    rows.forEach((to, from) =>
      mask.set(padded.mask.subarray(from * w, (from + 1) * w), to * width + off),
    );
  }
  const keys: KvArray[] = [];
  const values: KvArray[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(place((p) => p.keys, l));
    values.push(place((p) => p.values, l));
  }
  return { keys, values, mask, width, batch };
}

/** Several batch states stacked into one (each padded to the widest). */
export function concatPadded(
  parts: readonly PaddedKv[],
  shape: KvShape,
  padding: Padding = "left",
): PaddedKv {
  if (parts.length === 1) return parts[0]!;
  let row0 = 0;
  const placed = parts.map((padded) => {
    const rows = Array.from({ length: padded.batch }, (_, i) => row0 + i);
    row0 += padded.batch;
    return { padded, rows };
  });
  return placeRows(placed, row0, shape, padding);
}
