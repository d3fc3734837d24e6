// Which waiting requests join the next prefill round: the LlmWorker's admission rule, in one
// place, so the optimizer's cache simulator (src/optimizer/prefix-sim.ts) admits exactly as the
// worker does. Requests admitted in one round are prefilled in one call, so they share only what
// was cached before the round; a request that shares many uncached tokens with one already
// chosen waits a round instead, and then finds that KV cached.

/** The knobs of the rule; defaults in ADMISSION_DEFAULTS. */
export interface AdmissionPolicy {
  /**
   * A waiting prompt that shares at least this many *uncached* tokens with one admitted in the
   * same round waits a round to reuse its KV. Default 32, SGLang's in-batch prefix threshold:
   * below it an extra round (a prefill call and a decode step, 2-20 ms on the shipped model)
   * costs more than the prefill it saves (16 rows sharing a 60-token prefix: 261 ms with a
   * threshold of 1, which chained rounds over 1-3 shared tokens such as "The ", vs 145 ms with
   * no deferral). 1 gives the fewest prefilled tokens (exactly the prompt trie's unique ones).
   */
  deferSharedTokens: number;
  /** Most new tokens in one prefill call (bounds the logits and activations of a call). */
  prefillTokenBudget: number;
}

export const ADMISSION_DEFAULTS: Readonly<AdmissionPolicy> = {
  deferSharedTokens: 32,
  prefillTokenBudget: 4096,
};

/** What the rule asks of the one admitting (the worker, or the simulator). */
export interface AdmissionState<T> {
  /** Sequences running now (they hold batch slots). */
  running: number;
  /** Most sequences running at once (the batch sizer's limit). */
  limit: number;
  /** Whether there is a prefix cache at all (no cache: nothing to wait for). */
  cacheAware: boolean;
  /** Prompt tokens of `item` found in the cache now, without touching it. */
  cachedTokens(item: T): number;
  /** Reserves the item's KV memory; `only` when nothing else would run (must then succeed). */
  reserve(item: T, only: boolean): boolean;
}

export interface AdmissionRound<T> {
  chosen: T[];
  /** Admissions put off one round so a sibling's prefill could fill the cache first. */
  deferredForSharing: number;
  /** True when the round stopped for lack of KV memory. */
  deferredForMemory: boolean;
}

/**
 * Takes the next round's requests off the head of `waiting` (in place), in submission order
 * (the optimizer's order), within the batch limit, the prefill token budget and KV memory;
 * requests deferred for sharing go back to the head, in order.
 */
export function admitRound<T extends { readonly promptTokens: readonly number[] }>(
  waiting: T[],
  policy: AdmissionPolicy,
  state: AdmissionState<T>,
): AdmissionRound<T> {
  const chosen: T[] = [];
  const chosenPrefixes = new PromptTrie();
  const deferred: T[] = [];
  let newTokens = 0;
  let deferredForMemory = false;
  // Cache-aware scanning looks this far down the queue, then gives up on purpose: with
  // thousands of rows behind one shared prefix, scanning them all every round would cost more
  // than the rounds it saves; the cache-agnostic FIFO order takes over for the rest.
  const maxScan = 8 * state.limit;
  let scanned = 0;
  while (waiting.length > 0 && state.running + chosen.length < state.limit) {
    const item = waiting[0]!;
    const prompt = item.promptTokens;
    const cached = state.cachedTokens(item);
    if (
      state.cacheAware &&
      ++scanned <= maxScan &&
      chosenPrefixes.longestShared(prompt) - cached >= policy.deferSharedTokens
    ) {
      deferred.push(waiting.shift()!);
      continue;
    }
    const suffix = prompt.length - cached;
    if (chosen.length > 0 && newTokens + suffix > policy.prefillTokenBudget) break;
    if (!state.reserve(item, chosen.length === 0 && state.running === 0)) {
      deferredForMemory = true;
      break;
    }
    waiting.shift();
    chosen.push(item);
    if (state.cacheAware) chosenPrefixes.add(prompt);
    newTokens += suffix;
  }
  waiting.unshift(...deferred);
  return { chosen, deferredForSharing: deferred.length, deferredForMemory };
}

/**
 * The prompts chosen so far in a round, as a radix tree: the longest prefix a waiting prompt
 * shares with any of them in one walk of its tokens. Comparing against each chosen prompt in turn
 * cost O(chosen x tokens) per waiting prompt, which dominated the planner's simulation of
 * 2,048-row plans. Edges are spans of the prompts themselves (no copies): adding a prompt makes
 * at most two nodes.
 */
export class PromptTrie {
  private readonly root: Edge = { source: [], start: 0, end: 0, children: new Map() };

  add(tokens: readonly number[]): void {
    let node = this.root;
    let i = 0;
    for (;;) {
      if (i === tokens.length) return;
      const child = node.children.get(tokens[i]!);
      if (!child) {
        node.children.set(tokens[i]!, {
          source: tokens,
          start: i,
          end: tokens.length,
          children: new Map(),
        });
        return;
      }
      const k = matchEdge(child, tokens, i);
      if (k < child.end - child.start) {
        // Split the edge where the new prompt leaves it.
        const lower: Edge = { ...child, start: child.start + k };
        child.end = child.start + k;
        child.children = new Map([[child.source[lower.start]!, lower]]);
      }
      i += k;
      node = child;
    }
  }

  longestShared(tokens: readonly number[]): number {
    let node = this.root;
    let i = 0;
    for (;;) {
      const child = i < tokens.length ? node.children.get(tokens[i]!) : undefined;
      if (!child) return i;
      const k = matchEdge(child, tokens, i);
      i += k;
      if (k < child.end - child.start) return i;
      node = child;
    }
  }
}

/** A radix edge: `source[start, end)` and the edges below it, by first token. */
interface Edge {
  source: readonly number[];
  start: number;
  end: number;
  children: Map<number, Edge>;
}

/** Tokens of `edge` that `tokens` matches from position `at`. */
function matchEdge(edge: Edge, tokens: readonly number[], at: number): number {
  const n = Math.min(edge.end - edge.start, tokens.length - at);
  let k = 0;
  while (k < n && edge.source[edge.start + k] === tokens[at + k]) k++;
  return k;
}
