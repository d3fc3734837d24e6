// IEEE half precision <-> float32 for the few places that read float16 tensors as numbers. Node 20
// has no Float16Array: onnxruntime-node hands float16 tensors over as raw bits in a Uint16Array.
// KV stays in those raw bits end to end (never converted); logits are converted once per step,
// only the rows sampling needs.

/** float32 value of every half bit pattern: 256 KiB, built once on first use. */
let table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    table[h] =
      exp === 0
        ? sign * frac * 2 ** -24
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** `count` halves from `src[from]` as float32 into `out[at]`. */
export function halfToFloat(
  src: Uint16Array,
  from: number,
  count: number,
  out: Float32Array,
  at: number,
): void {
  const t = halfTable();
  for (let i = 0; i < count; i++) out[at + i] = t[src[from + i]!]!;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Nearest half (ties to even) of a number, as raw bits. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let frac = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    frac |= 0x800000;
    const shift = 14 - e;
    let half = frac >>> shift;
    const rest = frac & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry rounds up to Infinity
  return sign | half;
}
