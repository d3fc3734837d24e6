// A byte-level NFA (Thompson construction: byte-range edges and epsilon edges) and the pieces
// schema-nfa.ts assembles it from. Bytes, not characters, because byte-level BPE tokens split
// UTF-8 characters and cross JSON's own boundaries: a token is accepted when its bytes walk the
// automaton, wherever they fall. A piece is a recipe, so repeating one builds fresh copies.

/** Most NFA nodes one schema may compile to (maxLength / maxItems unroll; nesting multiplies). */
export const MAX_NFA_NODES = 400_000;

export class ByteNfa {
  /** Per node: byte edges as flat [lo, hi, to, ...]. */
  readonly edges: number[][] = [];
  /** Per node: epsilon edges. */
  readonly eps: number[][] = [];

  node(): number {
    if (this.edges.length >= MAX_NFA_NODES)
      throw new Error(
        `the schema compiles to more than ${MAX_NFA_NODES} automaton states: lower maxItems / maxLength (each unrolls) or flatten it`,
      );
    this.edges.push([]);
    this.eps.push([]);
    return this.edges.length - 1;
  }

  edge(from: number, lo: number, hi: number, to: number): void {
    this.edges[from]!.push(lo, hi, to);
  }

  epsilon(from: number, to: number): void {
    this.eps[from]!.push(to);
  }

  get size(): number {
    return this.edges.length;
  }
}

export interface Frag {
  start: number;
  end: number;
}

export type Piece = (nfa: ByteNfa) => Frag;

const utf8 = new TextEncoder();

export function literal(text: string | Uint8Array): Piece {
  const bytes = typeof text === "string" ? utf8.encode(text) : text;
  return (nfa) => {
    const start = nfa.node();
    let at = start;
    for (const b of bytes) {
      const next = nfa.node();
      nfa.edge(at, b, b, next);
      at = next;
    }
    return { start, end: at };
  };
}

/** One byte out of several ranges [lo, hi]. */
export function byteRanges(ranges: readonly (readonly [number, number])[]): Piece {
  return (nfa) => {
    const start = nfa.node();
    const end = nfa.node();
    for (const [lo, hi] of ranges) nfa.edge(start, lo, hi, end);
    return { start, end };
  };
}

export function concat(...pieces: Piece[]): Piece {
  return (nfa) => {
    if (pieces.length === 0) {
      const n = nfa.node();
      return { start: n, end: n };
    }
    const frags = pieces.map((p) => p(nfa));
    for (let i = 1; i < frags.length; i++) nfa.epsilon(frags[i - 1]!.end, frags[i]!.start);
    return { start: frags[0]!.start, end: frags.at(-1)!.end };
  };
}

export function alt(...pieces: Piece[]): Piece {
  return (nfa) => {
    const start = nfa.node();
    const end = nfa.node();
    for (const p of pieces) {
      const f = p(nfa);
      nfa.epsilon(start, f.start);
      nfa.epsilon(f.end, end);
    }
    return { start, end };
  };
}

export function optional(piece: Piece): Piece {
  return repeat(piece, 0, 1);
}

/** `min` to `max` copies (null: unbounded); the optional copies skip straight to the end. */
export function repeat(piece: Piece, min: number, max: number | null): Piece {
  return (nfa) => {
    const start = nfa.node();
    let at = start;
    for (let i = 0; i < min; i++) {
      const f = piece(nfa);
      nfa.epsilon(at, f.start);
      at = f.end;
    }
    const end = nfa.node();
    if (max === null) {
      const f = piece(nfa);
      nfa.epsilon(at, f.start);
      nfa.epsilon(f.end, at);
      nfa.epsilon(at, end);
      return { start, end };
    }
    for (let i = min; i < max; i++) {
      nfa.epsilon(at, end);
      const f = piece(nfa);
      nfa.epsilon(at, f.start);
      at = f.end;
    }
    nfa.epsilon(at, end);
    return { start, end };
  };
}

// ---- code points to UTF-8 byte ranges ----

/** Code point ranges [lo, hi], sorted and disjoint. */
export type CharSet = [number, number][];

export const MAX_CODE_POINT = 0x10ffff;

export function charSet(ranges: Iterable<readonly [number, number]>): CharSet {
  const sorted = [...ranges]
    .map(([a, b]) => [a, b] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  const out: CharSet = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

export function subtract(set: CharSet, minus: CharSet): CharSet {
  return intersect(set, complement(minus));
}

export function intersect(a: CharSet, b: CharSet): CharSet {
  const out: CharSet = [];
  for (const [alo, ahi] of a)
    for (const [blo, bhi] of b) {
      const lo = Math.max(alo, blo);
      const hi = Math.min(ahi, bhi);
      if (lo <= hi) out.push([lo, hi]);
    }
  return charSet(out);
}

function encodeCodePoint(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  ];
}

/**
 * The byte-range sequences whose union is exactly the UTF-8 encodings of [lo, hi] (surrogates
 * must be excluded by the caller). Split first where the encoded length changes, then wherever
 * lo and hi differ above a 6-bit continuation boundary that they do not fill, until every
 * position's bytes range independently.
 */
export function utf8Sequences(
  lo: number,
  hi: number,
  out: [number, number][][] = [],
): [number, number][][] {
  if (lo > hi) return out;
  for (const limit of [0x7f, 0x7ff, 0xffff]) {
    if (lo <= limit && limit < hi) {
      utf8Sequences(lo, limit, out);
      utf8Sequences(limit + 1, hi, out);
      return out;
    }
  }
  if (hi > 0x7f) {
    for (let i = 1; i < 4; i++) {
      const m = (1 << (6 * i)) - 1;
      if ((lo & ~m) !== (hi & ~m)) {
        if ((lo & m) !== 0) {
          utf8Sequences(lo, lo | m, out);
          utf8Sequences((lo | m) + 1, hi, out);
          return out;
        }
        if ((hi & m) !== m) {
          utf8Sequences(lo, (hi & ~m) - 1, out);
          utf8Sequences(hi & ~m, hi, out);
          return out;
        }
      }
    }
  }
  const a = encodeCodePoint(lo);
  const b = encodeCodePoint(hi);
  out.push(a.map((x, i) => [x, b[i]!] as [number, number]));
  return out;
}

/** One character of `set`, UTF-8 encoded (surrogates, which UTF-8 cannot carry, left out). */
export function utf8Char(set: CharSet): Piece {
  const usable = subtract(set, [[0xd800, 0xdfff]]);
  const sequences = usable.flatMap(([lo, hi]) => utf8Sequences(lo, hi));
  return (nfa) => {
    const start = nfa.node();
    const end = nfa.node();
    for (const seq of sequences) {
      let at = start;
      seq.forEach(([lo, hi], i) => {
        const next = i === seq.length - 1 ? end : nfa.node();
        nfa.edge(at, lo, hi, next);
        at = next;
      });
    }
    return { start, end };
  };
}
