// How one decode step's rows, or one prefill round's, split into forward calls. A padded batch runs
// every row at the width of its longest: a step of 15 rows where two have 700 positions and
// thirteen 250 reads and copies the KV of 15 x 700 positions (the graph concatenates past and new
// KV into a new present each step), measured at 1.6 s a step on SmolLM2-135M's shape against
// 0.24 s for 15 x 250. Two calls, one per length class, pay the step's fixed cost twice and the KV
// of 13 x 250 + 2 x 700. The split is the cheapest partition of the rows, sorted by length, into
// contiguous groups, priced by the cost model (a decode step: d_0 + d_row B + d_kv B T, with T the
// group's widest row; a prefill round: its prefill formula at the group's longest new tokens): an
// exact dynamic program over at most a batch's rows.

/** Milliseconds of one decode step of `batch` rows padded to `width` positions. */
export type StepCost = (batch: number, width: number) => number;

/**
 * Row indexes of `widths` grouped into the forward calls that make the step cheapest, each group
 * in ascending width; one group (every row) when splitting saves nothing.
 */
export function splitStep(widths: readonly number[], cost: StepCost): number[][] {
  const n = widths.length;
  if (n <= 1) return [widths.map((_, i) => i)];
  const order = widths.map((_, i) => i).sort((a, b) => widths[a]! - widths[b]! || a - b);
  // best[i]: cheapest cost of the first i rows (by width); cut[i]: where its last group starts
  const best = new Array<number>(n + 1).fill(Infinity);
  const cut = new Array<number>(n + 1).fill(0);
  best[0] = 0;
  for (let i = 1; i <= n; i++) {
    const width = widths[order[i - 1]!]!;
    for (let j = 0; j < i; j++) {
      const c = best[j]! + cost(i - j, width);
      if (c < best[i]!) {
        best[i] = c;
        cut[i] = j;
      }
    }
  }
  const groups: number[][] = [];
  for (let i = n; i > 0; i = cut[i]!) groups.unshift(order.slice(cut[i]!, i));
  return groups;
}
