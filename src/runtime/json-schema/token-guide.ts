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
  /** Allowed token ids, ascending. */
  tokens: Int32Array;
  /** The state each allowed token leads to. */
  next: Int32Array;
  /** The largest `dist` among those states: with more tokens left, no token needs filtering. */
  maxNextDist: number;
}

/** Token ids memoized across a guide's masks before it starts over (16 M ids: 128 MB). */
const MASK_BUDGET = 16 * 1024 * 1024;

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
    const mask = this.mask(state);
    if (remaining - 1 >= mask.maxNextDist) return mask.tokens;
    const dist = this.dfa.dist;
    const keep: number[] = [];
    for (let i = 0; i < mask.tokens.length; i++)
      if (dist[mask.next[i]!]! <= remaining - 1) keep.push(mask.tokens[i]!);
    return Int32Array.from(keep);
  }

  /** The state after token `id`, or DEAD when the schema does not allow it there. */
  advance(state: number, id: number): number {
    const bytes = this.vocab.bytes[id];
    return bytes ? this.dfa.walk(state, bytes) : DEAD;
  }

  private computeMask(state: number): Mask {
    const { childStart, childByte, childNode, tokenStart, tokenIds } = this.vocab.trie;
    const dfa = this.dfa;
    const tokens: number[] = [];
    const next: number[] = [];
    let maxNextDist = 0;
    // depth-first over (trie node, DFA state); the root spells no token
    const nodes: number[] = [0];
    const states: number[] = [state];
    while (nodes.length > 0) {
      const n = nodes.pop()!;
      const s = states.pop()!;
      for (let k = tokenStart[n]!; k < tokenStart[n + 1]!; k++) {
        tokens.push(tokenIds[k]!);
        next.push(s);
        if (dfa.dist[s]! > maxNextDist) maxNextDist = dfa.dist[s]!;
      }
      for (let c = childStart[n]!; c < childStart[n + 1]!; c++) {
        const ns = dfa.next(s, childByte[c]!);
        if (ns === DEAD) continue;
        nodes.push(childNode[c]!);
        states.push(ns);
      }
    }
    const order = tokens.map((_, i) => i).sort((a, b) => tokens[a]! - tokens[b]!);
    return {
      tokens: Int32Array.from(order, (i) => tokens[i]!),
      next: Int32Array.from(order, (i) => next[i]!),
      maxNextDist,
    };
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
  if (!guide) {
    guide = new SchemaGuide(normalizeSchema(schema), vocab);
    byVocab.set(key, guide);
  }
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
