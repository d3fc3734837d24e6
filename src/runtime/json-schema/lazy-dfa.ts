// The schema NFA determinized lazily: a DFA state is the set of NFA nodes the bytes so far can
// reach, made on first use and its transitions cached per byte, so only the states generation
// actually visits are ever built (outlines builds every state up front; a string with maxLength
// 1000 has thousands that a run rarely sees).
//
// `dist` is the fewest bytes from a state to a complete value, using only bytes the vocabulary
// has as single tokens: so the fewest tokens it can still take at worst. Nodes that cannot reach
// the end that way are dropped from every state, so a state that is not dead can always finish.
import type { SchemaNfa } from "./schema-nfa.ts";

const UNKNOWN = -2;
export const DEAD = -1;

export class LazyDfa {
  /** NFA nodes of each state, ascending. */
  private readonly sets: Int32Array[] = [];
  private readonly ids = new Map<string, number>();
  /** Per state: next state per byte (UNKNOWN until computed, DEAD for none). */
  private readonly transitions: Int32Array[] = [];
  /** Per state: whether the bytes so far are a complete value. */
  readonly accepting: boolean[] = [];
  /** Per state: fewest single-byte tokens to a complete value. */
  readonly dist: number[] = [];
  /** Per NFA node: fewest single-byte tokens to the accept node (Infinity: never). */
  private readonly nodeDist: Float64Array;
  readonly start: number;

  constructor(
    private readonly schema: SchemaNfa,
    singleByteTokens: Uint8Array,
  ) {
    this.nodeDist = distances(schema, singleByteTokens);
    const start = this.stateOf([schema.start]);
    if (start === DEAD)
      throw new Error(
        "this tokenizer cannot write any value of the schema (a byte it needs is no token of its own)",
      );
    this.start = start;
  }

  get numStates(): number {
    return this.sets.length;
  }

  next(state: number, byte: number): number {
    const row = this.transitions[state]!;
    const known = row[byte]!;
    if (known !== UNKNOWN) return known;
    const { edges } = this.schema.nfa;
    const targets: number[] = [];
    for (const node of this.sets[state]!) {
      const e = edges[node]!;
      for (let k = 0; k < e.length; k += 3)
        if (e[k]! <= byte && byte <= e[k + 1]!) targets.push(e[k + 2]!);
    }
    const next = targets.length === 0 ? DEAD : this.stateOf(targets);
    row[byte] = next;
    return next;
  }

  /** The state after `bytes` from `state`, or DEAD. */
  walk(state: number, bytes: Uint8Array): number {
    let s = state;
    for (let i = 0; i < bytes.length && s !== DEAD; i++) s = this.next(s, bytes[i]!);
    return s;
  }

  /** The epsilon closure of `seeds`, live nodes only, as a (new or known) state. */
  private stateOf(seeds: number[]): number {
    const { eps } = this.schema.nfa;
    const seen = new Set<number>();
    const stack = seeds.filter((n) => this.nodeDist[n]! < Infinity);
    for (const n of stack) seen.add(n);
    while (stack.length > 0) {
      const n = stack.pop()!;
      for (const m of eps[n]!)
        if (!seen.has(m) && this.nodeDist[m]! < Infinity) {
          seen.add(m);
          stack.push(m);
        }
    }
    if (seen.size === 0) return DEAD;
    const set = Int32Array.from(seen).sort();
    const key = set.join(",");
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const id = this.sets.length;
    this.sets.push(set);
    this.ids.set(key, id);
    this.transitions.push(new Int32Array(256).fill(UNKNOWN));
    let dist = Infinity;
    for (const n of set) dist = Math.min(dist, this.nodeDist[n]!);
    this.dist.push(dist);
    this.accepting.push(set.includes(this.schema.accept));
    return id;
  }
}

/** 0-1 BFS backwards from the accept node: epsilon edges cost 0, usable byte edges 1. */
function distances(schema: SchemaNfa, singleByteTokens: Uint8Array): Float64Array {
  const { edges, eps, size } = schema.nfa;
  const reverse: number[][] = Array.from({ length: size }, () => []);
  for (let n = 0; n < size; n++) {
    for (const m of eps[n]!) reverse[m]!.push(n, 0);
    const e = edges[n]!;
    for (let k = 0; k < e.length; k += 3) {
      let usable = false;
      for (let b = e[k]!; b <= e[k + 1]! && !usable; b++) usable = singleByteTokens[b] === 1;
      if (usable) reverse[e[k + 2]!]!.push(n, 1);
    }
  }
  const dist = new Float64Array(size).fill(Infinity);
  dist[schema.accept] = 0;
  // a deque as two stacks' worth of array with a moving head
  const deque: number[] = [schema.accept];
  let head = 0;
  const front: number[] = [];
  while (front.length > 0 || head < deque.length) {
    const n = front.length > 0 ? front.pop()! : deque[head++]!;
    const r = reverse[n]!;
    for (let k = 0; k < r.length; k += 2) {
      const m = r[k]!;
      const d = dist[n]! + r[k + 1]!;
      if (d < dist[m]!) {
        dist[m] = d;
        if (r[k + 1] === 0) front.push(m);
        else deque.push(m);
      }
    }
  }
  return dist;
}
