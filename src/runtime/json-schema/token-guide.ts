// Constrained decoding for a schema over one tokenizer's vocabulary. A token is allowed in a DFA
// state when its bytes, run through the automaton one by one, stay alive: so a token may close a
// string and open the next key (`"},"`), or end inside a UTF-8 character that the next token
// finishes. The mask of a state (its allowed tokens and where each leads) is found once by
// walking the vocabulary's byte trie beside the DFA, pruning every branch that dies, and
// memoized: a step then costs a lookup, plus the argmax over the allowed ids. Guides are cached
// per (schema, tokenizer), so every request of every run with that schema shares the masks.
//
// Always able to finish: a token is allowed only if the value can still be completed in the
// tokens left after it (LazyDfa.dist counts single-byte tokens, which a byte-level vocabulary
// always has). So a row that reaches maxTokens ends on a complete value; when even the shortest
// value does not fit maxTokens the request is refused before it starts.
import { compileSchemaNfa } from "./schema-nfa.ts";
import { DEAD, LazyDfa } from "./lazy-dfa.ts";
import { normalizeSchema } from "./normalize.ts";
import type { SchemaNode } from "./schema-node.ts";
import type { TokenVocabulary } from "./token-vocabulary.ts";

/** The allowed tokens of one DFA state. */
interface Mask {
  /**
   * Allowed token ids, ordered by how many tokens the value needs after them (then by id): the
   * tokens that fit a budget are a prefix, so the budget rule costs a binary search.
   */
  tokens: Int32Array;
  /** Per token: the fewest tokens to a complete value after it (ascending). */
  dists: Int32Array;
  /** The largest of `dists`: with more tokens left than that, no token needs filtering. */
  maxNextDist: number;
}

/** Token ids memoized across a guide's masks before it starts over (4 M ids: 32 MB). */
const MASK_BUDGET = 4 * 1024 * 1024;
/** Guides kept per vocabulary, least recently used first out (a session rarely has more schemas). */
const GUIDES_PER_VOCABULARY = 16;

export class SchemaGuide {
  readonly dfa: LazyDfa;
  private readonly masks = new Map<number, Mask>();
  private memoized = 0;
  /** Masks computed (a cold state) and served from memory, for the bench. */
  readonly stats = { computed: 0, hits: 0 };

  constructor(
    readonly node: SchemaNode,
    private readonly vocab: TokenVocabulary,
  ) {
    this.dfa = new LazyDfa(compileSchemaNfa(node), vocab.singleByteTokens);
  }

  /** Fewest tokens a complete value takes from the start (at worst, byte by byte). */
  get minTokens(): number {
    return this.dfa.dist[this.dfa.start]!;
  }

  mask(state: number): Mask {
    const known = this.masks.get(state);
    if (known) {
      this.stats.hits++;
      return known;
    }
    this.stats.computed++;
    const mask = this.computeMask(state);
    if (this.memoized + mask.tokens.length > MASK_BUDGET) {
      this.masks.clear();
      this.memoized = 0;
    }
    this.masks.set(state, mask);
    this.memoized += mask.tokens.length;
    return mask;
  }

  /** Tokens allowed in `state` with `remaining` tokens left (this one included). */
  allowed(state: number, remaining: number): Int32Array {
    const { tokens, dists, maxNextDist } = this.mask(state);
    const budget = remaining - 1;
    if (budget >= maxNextDist) return tokens;
    let lo = 0; // the first token needing more than the budget
    let hi = dists.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dists[mid]! <= budget) lo = mid + 1;
      else hi = mid;
    }
    return tokens.subarray(0, lo);
  }

  /** The state after token `id`, or DEAD when the schema does not allow it there. */
  advance(state: number, id: number): number {
    const bytes = this.vocab.bytes[id];
    return bytes ? this.dfa.walk(state, bytes) : DEAD;
  }

  private computeMask(state: number): Mask {
    const { childStart, childByte, childNode, tokenStart, tokenIds } = this.vocab.trie;
    const dfa = this.dfa;
    // Per token id: the fewest tokens after it, or -1 (not allowed); then a counting sort by
    // that distance, ids ascending within each (a comparison sort of 32k ids cost ~15 ms).
    const distOf = new Int32Array(this.vocab.bytes.length).fill(-1);
    let count = 0;
    let maxNextDist = 0;
    // depth-first over (trie node, DFA state); the root spells no token
    const nodes: number[] = [0];
    const states: number[] = [state];
    while (nodes.length > 0) {
      const n = nodes.pop()!;
      const s = states.pop()!;
      const d = dfa.dist[s]!;
      for (let k = tokenStart[n]!; k < tokenStart[n + 1]!; k++) {
        distOf[tokenIds[k]!] = d;
        count++;
        if (d > maxNextDist) maxNextDist = d;
      }
      for (let c = childStart[n]!; c < childStart[n + 1]!; c++) {
        const ns = dfa.next(s, childByte[c]!);
        if (ns === DEAD) continue;
        nodes.push(childNode[c]!);
        states.push(ns);
      }
    }
    const starts = new Int32Array(maxNextDist + 2);
    for (const d of distOf) if (d >= 0) starts[d + 1]!++;
    for (let d = 1; d < starts.length; d++) starts[d]! += starts[d - 1]!;
    const tokens = new Int32Array(count);
    const dists = new Int32Array(count);
    for (let id = 0; id < distOf.length; id++) {
      const d = distOf[id]!;
      if (d < 0) continue;
      const at = starts[d]!++;
      tokens[at] = id;
      dists[at] = d;
    }
    return { tokens, dists, maxNextDist };
  }
}

const guides = new WeakMap<TokenVocabulary, Map<string, SchemaGuide>>();

/** The guide of a JSON Schema over a vocabulary, built once and shared. */
export function guideFor(schema: Record<string, unknown>, vocab: TokenVocabulary): SchemaGuide {
  let byVocab = guides.get(vocab);
  if (!byVocab) {
    byVocab = new Map();
    guides.set(vocab, byVocab);
  }
  // key order matters here (properties are written in schema order): no sorted-key JSON
  const key = JSON.stringify(schema);
  let guide = byVocab.get(key);
  if (guide)
    byVocab.delete(key); // re-inserted below: most recently used last
  else guide = new SchemaGuide(normalizeSchema(schema), vocab);
  byVocab.set(key, guide);
  if (byVocab.size > GUIDES_PER_VOCABULARY) byVocab.delete(byVocab.keys().next().value!);
  return guide;
}

/** One request's walk through a guide. */
export class SchemaCursor {
  private state: number;

  constructor(
    private readonly guide: SchemaGuide,
    maxTokens: number,
  ) {
    this.state = guide.dfa.start;
    if (guide.minTokens > maxTokens)
      throw new Error(
        `maxTokens ${maxTokens} is too small for the schema: its shortest answer takes ${guide.minTokens} tokens; raise maxTokens`,
      );
  }

  /** Whether the output so far is a complete value (eos may end it here). */
  get complete(): boolean {
    return this.guide.dfa.accepting[this.state]!;
  }

  /** Complete, and no token can extend it: generation ends here. */
  get finished(): boolean {
    return this.complete && this.guide.mask(this.state).tokens.length === 0;
  }

  allowed(remaining: number): Int32Array {
    return this.guide.allowed(this.state, remaining);
  }

  advance(id: number): void {
    const next = this.guide.advance(this.state, id);
    if (next === DEAD) throw new Error(`token ${id} is not allowed by the schema here`);
    this.state = next;
  }
}
