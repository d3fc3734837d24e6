// JSON numbers as automaton pieces, with minimum/maximum enforced exactly. A number within
// bounds is written in plain decimal (no exponent): "x >= 1.25" is then a regular condition on
// its digits (integer part by digit count, fraction compared digit by digit), so the automaton
// accepts exactly the in-range numbers. Unbounded numbers may use an exponent.
//
// Caps, so every answer parses to a finite JS number: an integer without bounds stays within
// +-(2^53 - 1) (as zod's z.int() says), a number's integer part has at most 16 digits and an
// exponent at most 2.
import type { Bound, SchemaNode } from "./schema-node.ts";
import {
  alt,
  byteRanges,
  concat,
  literal,
  optional,
  repeat,
  type Frag,
  type Piece,
} from "./byte-nfa.ts";

const SAFE_INT = 2n ** 53n - 1n;
const INT_DIGITS_CAP = 16;
const CAP_INT = 10n ** BigInt(INT_DIGITS_CAP) - 1n;
const DIGIT: Piece = byteRanges([[0x30, 0x39]]);

/** A non-negative decimal: integer digits (no leading zeros) and fraction digits (no trailing). */
interface Dec {
  int: bigint;
  frac: string;
}

export function numberPiece(node: Extract<SchemaNode, { kind: "number" }>): Piece {
  const { integer } = node;
  let { min, max } = node;
  if (integer) {
    min ??= { value: -Number(SAFE_INT), exclusive: false };
    max ??= { value: Number(SAFE_INT), exclusive: false };
  } else if (!min && !max) {
    // -?(0|[1-9][0-9]{0,15})(\.[0-9]+)?([eE][+-]?[0-9]{1,2})?
    return concat(
      optional(literal("-")),
      alt(literal("0"), concat(byteRanges([[0x31, 0x39]]), repeat(DIGIT, 0, INT_DIGITS_CAP - 1))),
      optional(concat(literal("."), repeat(DIGIT, 1, null))),
      optional(
        concat(
          byteRanges([
            [0x45, 0x45],
            [0x65, 0x65],
          ]),
          optional(
            byteRanges([
              [0x2b, 0x2b],
              [0x2d, 0x2d],
            ]),
          ),
          repeat(DIGIT, 1, 2),
        ),
      ),
    );
  }
  return signedRange(min, max, integer);
}

function signedRange(lo: Bound | null, hi: Bound | null, integer: boolean): Piece {
  const branches: Piece[] = [];
  const zero: Dec = { int: 0n, frac: "" };
  // x >= 0, written without a sign
  if (!hi || hi.value > 0 || (hi.value === 0 && !hi.exclusive)) {
    const nonNegLo = lo && lo.value >= 0;
    const piece = unsignedRange(
      nonNegLo ? decimal(lo.value) : zero,
      nonNegLo ? lo.exclusive : false,
      hi ? decimal(hi.value) : null,
      hi?.exclusive ?? false,
      integer,
    );
    if (piece) branches.push(piece);
  }
  // x < 0: "-" and y = -x > 0 (never "-0", which the other branch writes as "0")
  if (!lo || lo.value < 0) {
    const negHi = hi && hi.value < 0;
    const piece = unsignedRange(
      negHi ? decimal(-hi.value) : zero,
      negHi ? hi.exclusive : true,
      lo ? decimal(-lo.value) : null,
      lo?.exclusive ?? false,
      integer,
    );
    if (piece) branches.push(concat(literal("-"), piece));
  }
  if (branches.length === 0) throw new Error("no number lies within the bounds");
  return branches.length === 1 ? branches[0]! : alt(...branches);
}

/**
 * y in [a, b] (strict ends exclude), y >= 0; b null: up to the cap. Integers are written without
 * a fraction. Undefined when the range is empty.
 */
function unsignedRange(
  a: Dec,
  aStrict: boolean,
  b: Dec | null,
  bStrict: boolean,
  integer: boolean,
): Piece | undefined {
  if (integer) {
    // Integer bounds arrive inclusive (normalize.ts); "y > 0" becomes y >= 1.
    const from = aStrict ? a.int + 1n : a.int;
    const to = b ? b.int : SAFE_INT;
    return from <= to ? intRange(from, to) : undefined;
  }
  const ai = a.int;
  const bi = b ? b.int : CAP_INT;
  const bFrac = b ? b.frac : null;
  if (ai > bi) return undefined;
  if (ai === bi) return concat(literal(String(ai)), fractionPiece(a.frac, aStrict, bFrac, bStrict));
  const branches: Piece[] = [
    concat(literal(String(ai)), fractionPiece(a.frac, aStrict, null, false)),
  ];
  if (bi - ai >= 2n)
    branches.push(concat(intRange(ai + 1n, bi - 1n), fractionPiece(null, false, null, false)));
  branches.push(concat(literal(String(bi)), fractionPiece(null, false, bFrac, bStrict)));
  return alt(...branches);
}

/** Canonical decimal integers in [x, y], 0 <= x <= y: split by digit count. */
export function intRange(x: bigint, y: bigint): Piece {
  const branches: Piece[] = [];
  const lenX = String(x).length;
  const lenY = String(y).length;
  for (let len = lenX; len <= lenY; len++) {
    const lo = len === lenX ? x : 10n ** BigInt(len - 1);
    const hi = len === lenY ? y : 10n ** BigInt(len) - 1n;
    branches.push(fixedLength(String(lo), String(hi)));
  }
  return branches.length === 1 ? branches[0]! : alt(...branches);
}

/** Digit strings of one length between p and q (lexicographic = numeric at equal length). */
function fixedLength(p: string, q: string): Piece {
  if (p.length === 0) return concat();
  const rest = p.length - 1;
  const digits = (lo: number, hi: number): Piece => byteRanges([[0x30 + lo, 0x30 + hi]]);
  const p0 = Number(p[0]);
  const q0 = Number(q[0]);
  if (p0 === q0) return concat(digits(p0, p0), fixedLength(p.slice(1), q.slice(1)));
  const zeros = "0".repeat(rest);
  const nines = "9".repeat(rest);
  if (p.slice(1) === zeros && q.slice(1) === nines)
    return concat(digits(p0, q0), repeat(DIGIT, rest, rest));
  const branches = [concat(digits(p0, p0), fixedLength(p.slice(1), nines))];
  if (q0 - p0 >= 2) branches.push(concat(digits(p0 + 1, q0 - 1), repeat(DIGIT, rest, rest)));
  branches.push(concat(digits(q0, q0), fixedLength(zeros, q.slice(1))));
  return alt(...branches);
}

/**
 * The optional fraction ("" or "." and digits) whose value f = 0.F satisfies lo <= f <= hi, with
 * lo = 0.loDigits and hi = 0.hiDigits (null: no bound on that side). A small DFA over
 * (digits read, still equal to lo's digits, still equal to hi's digits), built as NFA nodes.
 */
function fractionPiece(
  loDigits: string | null,
  loStrict: boolean,
  hiDigits: string | null,
  hiStrict: boolean,
): Piece {
  return (nfa) => {
    const lo = loDigits ?? "";
    const hi = hiDigits ?? "";
    const cap = Math.max(lo.length, hi.length);
    const end = nfa.node();
    const nodes = new Map<string, number>();
    // A prefix equal to lo's digits satisfies f >= lo from the end of lo on, unless strict.
    const keepLo = (tl: boolean, i: number) => tl && (loStrict || i < lo.length);
    const accepts = (i: number, tl: boolean, th: boolean) =>
      !(tl && (i < lo.length || loStrict)) && !(th && i >= hi.length && hiStrict);
    const stateNode = (i: number, tl: boolean, th: boolean): number => {
      const key = `${i},${tl},${th}`;
      let n = nodes.get(key);
      if (n !== undefined) return n;
      n = nfa.node();
      nodes.set(key, n);
      if (accepts(i, tl, th)) nfa.epsilon(n, end);
      for (let d = 0; d <= 9; d++) {
        let ntl = tl;
        let nth = th;
        if (tl) {
          const ld = i < lo.length ? Number(lo[i]) : 0;
          if (d < ld) continue;
          if (d > ld) ntl = false;
        }
        if (th) {
          const hd = i < hi.length ? Number(hi[i]) : 0;
          if (d > hd) continue;
          if (d < hd) nth = false;
        }
        const ni = Math.min(i + 1, cap);
        nfa.edge(n, 0x30 + d, 0x30 + d, stateNode(ni, keepLo(ntl, ni), nth));
      }
      return n;
    };
    const tl0 = keepLo(loDigits !== null, 0);
    const th0 = hiDigits !== null;
    const start = nfa.node();
    if (accepts(0, tl0, th0)) nfa.epsilon(start, end);
    // at least one digit after the point
    const point = nfa.node();
    nfa.edge(start, 0x2e, 0x2e, point);
    const first = stateNode(0, tl0, th0);
    // `point` has the first state's digit edges, but not its epsilon to the end
    const edges = nfa.edges[first]!;
    for (let k = 0; k < edges.length; k += 3)
      nfa.edge(point, edges[k]!, edges[k + 1]!, edges[k + 2]!);
    const frag: Frag = { start, end };
    return frag;
  };
}

/** The exact decimal digits of a non-negative finite JS number (its shortest round-trip form). */
export function decimal(x: number): Dec {
  const s = x.toString();
  let digits: string;
  let point: number;
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s);
  if (!m) throw new Error(`cannot read ${s} as a decimal`);
  digits = m[1]! + (m[2] ?? "");
  point = m[1]!.length + Number(m[3] ?? 0);
  if (point <= 0) {
    digits = "0".repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) digits = digits + "0".repeat(point - digits.length);
  const int = BigInt(digits.slice(0, point));
  const frac = digits.slice(point).replace(/0+$/, "");
  return { int, frac };
}
