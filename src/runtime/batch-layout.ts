// How a batch of rows (each with its own past and new tokens) is laid out for a graph call.
// Exactness first: a graph gets the first layout its KV self-test (self-test.ts) proves gives
// every row what it gets alone; later layouts make more, smaller calls.
//
//   padded      one call; left padding in both the past and the new segment, holes allowed
//               (mask = [0]*(P-p) + [1]*p + [0]*(S-n) + [1]*n). Exact for graphs that build
//               attention from the full 2D mask and take position_ids (Optimum exports).
//   contiguous  right padding: each row's real tokens from column 0 with no holes. On a past,
//               decode steps (one new token a row) share a call; longer continuations run one
//               row per call. onnxruntime GroupQueryAttention builds (genai) need this: they
//               reduce the mask to per-row lengths, write new KV right after each row's past,
//               and take several new tokens on a past at batch 1 only.
//   grouped     rows with equal past and equal new lengths per call, no padding at all. Exact for
//               anything exact alone: GPT-2-style graphs, whose positions are the past width plus
//               the column whatever the mask says.
//   serial      one row per call: graphs whose rows depend on their batch-mates.
export type BatchLayout = "padded" | "contiguous" | "grouped" | "serial";

export const BATCH_LAYOUTS: readonly BatchLayout[] = ["padded", "contiguous", "grouped", "serial"];

export function isBatchLayout(value: unknown): value is BatchLayout {
  return typeof value === "string" && (BATCH_LAYOUTS as readonly string[]).includes(value);
}

/** Indices 0 .. n-1 grouped by a key, groups in order of first appearance. */
export function groupIndices(n: number, key: (i: number) => string | number): number[][] {
  const groups = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = key(i);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  return [...groups.values()];
}
