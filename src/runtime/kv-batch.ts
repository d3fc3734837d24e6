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
  /**
   * Columns in use: from here to `width` is room no row has written yet (mask 0 in every row),
   * where the next decode step's keys and values go (absent: width, no room).
   */
  used?: number;
  /**
   * The buffer these arrays are, shared by every step's state that appended to it; `head` is the
   * newest. Only the newest may append: an older state's room is a newer one's positions.
   */
  store?: { head: PaddedKv };
}

/** Columns of room a KV buffer built from a graph's new positions gets (appendNewPositions). */
export const KV_ROOM = 64;

/**
 * The state after a decode step of one token a row, written into the past's own room: no copy
 * of the past. `past` must be its store's head with room left; `newKeys`/`newValues` per layer
 * [batch, kvHeads, 1, headDim], the graph's outputs of new positions only.
 */
export function appendInPlace(
  past: PaddedKv,
  newKeys: readonly KvArray[],
  newValues: readonly KvArray[],
  shape: KvShape,
): PaddedKv {
  const { numKvHeads: h, headDim: d } = shape;
  const { width: w, batch: b, store } = past;
  const at = past.used ?? w;
  if (!store || store.head !== past || at >= w)
    throw new Error("appendInPlace: the past is not the head of its buffer, or it has no room");
  const write = (dst: KvArray, src: KvArray) => {
    for (let rh = 0; rh < b * h; rh++)
      dst.set(src.subarray(rh * d, (rh + 1) * d), (rh * w + at) * d);
  };
  past.keys.forEach((k, l) => write(k, newKeys[l]!));
  past.values.forEach((v, l) => write(v, newValues[l]!));
  const mask = past.mask.slice();
  for (let row = 0; row < b; row++) mask[row * w + at] = 1;
  const next: PaddedKv = {
    keys: past.keys,
    values: past.values,
    mask,
    width: w,
    batch: b,
    used: at + 1,
    store,
  };
  store.head = next;
  return next;
}

/**
 * The state after a call whose graph returned new positions only: the past's used columns, then
 * the new ones, then KV_ROOM columns of room, in a buffer of its own. `callMask` [batch, past
 * width + new width] is the mask the call was fed. (The past's room is dropped: no row uses it.)
 */
export function appendNewPositions(
  past: PaddedKv,
  callMask: Uint8Array,
  newKeys: readonly KvArray[],
  newValues: readonly KvArray[],
  newWidth: number,
  shape: KvShape,
): PaddedKv {
  const { numKvHeads: h, headDim: d } = shape;
  const b = past.batch;
  const p = past.width;
  const u = past.used ?? p;
  const s = newWidth;
  const w = u + s + KV_ROOM;
  const build = (old: KvArray, fresh: KvArray) => {
    const out = allocKv(shape, b * h * w * d); // [batch, kvHeads, width, headDim]
    for (let rh = 0; rh < b * h; rh++) {
      out.set(old.subarray(rh * p * d, (rh * p + u) * d), rh * w * d);
      out.set(fresh.subarray(rh * s * d, (rh + 1) * s * d), (rh * w + u) * d);
    }
    return out;
  };
  const keys = past.keys.map((k, l) => build(k, newKeys[l]!));
  const values = past.values.map((v, l) => build(v, newValues[l]!));
  const t = p + s;
  const mask = new Uint8Array(b * w);
  for (let row = 0; row < b; row++) {
    mask.set(callMask.subarray(row * t, row * t + u), row * w);
    mask.set(callMask.subarray(row * t + p, (row + 1) * t), row * w + u);
  }
  const state: PaddedKv = { keys, values, mask, width: w, batch: b, used: u + s };
  state.store = { head: state };
  return state;
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

/**
 * Keeps only `rows` (in that order): a batch after some sequences finished. With `room`, the
 * result is a buffer of its own with that many free columns after the used ones (the next decode
 * step appends there in place, appendInPlace); a past's own room is not copied.
 */
export function selectRows(
  padded: PaddedKv,
  rows: readonly number[],
  shape: KvShape,
  room = 0,
): PaddedKv {
  const { numKvHeads: h, headDim: d } = shape;
  const w = padded.width;
  const u = padded.used ?? w;
  const width = u + room;
  const pick = (src: KvArray) => {
    const out = allocKv(shape, rows.length * h * width * d);
    rows.forEach((row, i) => {
      if (width === w) {
        out.set(src.subarray(row * h * w * d, (row + 1) * h * w * d), i * h * w * d);
        return;
      }
      for (let head = 0; head < h; head++) {
        const at = (row * h + head) * w * d;
        out.set(src.subarray(at, at + u * d), (i * h + head) * width * d);
      }
    });
    return out;
  };
  const mask = new Uint8Array(rows.length * width);
  rows.forEach((row, i) => mask.set(padded.mask.subarray(row * w, row * w + u), i * width));
  const out: PaddedKv = {
    keys: padded.keys.map(pick),
    values: padded.values.map(pick),
    mask,
    width,
    batch: rows.length,
  };
  return room > 0 ? withStore(out, u) : out;
}

/** `state` as the head of its own buffer, `used` columns in use. */
function withStore(state: PaddedKv, used: number): PaddedKv {
  state.used = used;
  state.store = { head: state };
  return state;
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
  room = 0,
): PaddedKv {
  if (
    parts.length === 1 &&
    parts[0]!.rows.every((r, i) => r === i) &&
    parts[0]!.padded.batch === batch &&
    (room === 0 || hasRoom(parts[0]!.padded))
  )
    return parts[0]!.padded;
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  // each part's used columns only (its room is free in every row)
  const used = (p: PaddedKv) => p.used ?? p.width;
  const filled = Math.max(0, ...parts.map((p) => used(p.padded)));
  const width = filled + room;
  const mask = new Uint8Array(batch * width);
  const place = (pick: (p: PaddedKv) => KvArray[], layer: number) => {
    const out = allocKv(shape, batch * h * width * d); // [batch, kvHeads, width, headDim]
    for (const { padded, rows } of parts) {
      const src = pick(padded)[layer]!;
      const w = padded.width;
      const u = used(padded);
      const off = padding === "left" ? filled - u : 0;
      rows.forEach((to, from) => {
        for (let head = 0; head < h; head++) {
          const at = (from * h + head) * w * d;
          out.set(src.subarray(at, at + u * d), ((to * h + head) * width + off) * d);
        }
      });
    }
    return out;
  };
  for (const { padded, rows } of parts) {
    const w = padded.width;
    const u = used(padded);
    const off = padding === "left" ? filled - u : 0;
    rows.forEach((to, from) =>
      mask.set(padded.mask.subarray(from * w, from * w + u), to * width + off),
    );
  }
  const keys: KvArray[] = [];
  const values: KvArray[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(place((p) => p.keys, l));
    values.push(place((p) => p.values, l));
  }
  const out: PaddedKv = { keys, values, mask, width, batch };
  return room > 0 ? withStore(out, filled) : out;
}

/** The newest state of its buffer, with room for another decode step. */
export function hasRoom(state: PaddedKv): boolean {
  return state.store?.head === state && (state.used ?? state.width) < state.width;
}

/** Several batch states stacked into one (each padded to the widest). */
export function concatPadded(
  parts: readonly PaddedKv[],
  shape: KvShape,
  padding: Padding = "left",
  room = 0,
): PaddedKv {
  if (parts.length === 1 && (room === 0 || hasRoom(parts[0]!))) return parts[0]!;
  let row0 = 0;
  const placed = parts.map((padded) => {
    const rows = Array.from({ length: padded.batch }, (_, i) => row0 + i);
    row0 += padded.batch;
    return { padded, rows };
  });
  return placeRows(placed, row0, shape, padding, room);
}
