// Choosing the next token from logits: greedy (argmax, first index on ties, as torch.argmax) or
// temperature + top-p with a seeded generator, optionally restricted to an allowed set (choices, a schema's mask).

/** mulberry32: tiny, fast, and the same sequence for the same seed on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array, allowed?: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  if (allowed) {
    for (let i = 0; i < allowed.length; i++) {
      const id = allowed[i]!;
      // a tokenizer may have ids past the model's vocab_size (tokenizer.ts warns): never chosen
      if (id >= logits.length) continue;
      const v = logits[id]!;
      if (v > bestValue || best < 0 || (v === bestValue && id < best)) {
        best = id;
        bestValue = v;
      }
    }
    return best;
  }
  for (let i = 0; i < logits.length; i++) {
    if (logits[i]! > bestValue) {
      bestValue = logits[i]!;
      best = i;
    }
  }
  return best;
}

/** Samples from softmax(logits / temperature) cut to the smallest set with mass >= topP. */
export function sampleToken(
  logits: Float32Array,
  temperature: number,
  topP: number,
  random: () => number,
  allowed?: ArrayLike<number>,
): number {
  const ids = allowed
    ? Array.from(allowed).filter((id) => id < logits.length)
    : Array.from({ length: logits.length }, (_, i) => i);
  let max = -Infinity;
  for (const id of ids) max = Math.max(max, logits[id]!);
  const weights = ids.map((id) => Math.exp((logits[id]! - max) / temperature));
  const order = ids.map((_, i) => i).sort((x, y) => weights[y]! - weights[x]! || ids[x]! - ids[y]!);
  const total = weights.reduce((a, w) => a + w, 0);
  const kept: number[] = [];
  let mass = 0;
  for (const i of order) {
    kept.push(i);
    mass += weights[i]! / total;
    if (mass >= topP) break;
  }
  const keptTotal = kept.reduce((a, i) => a + weights[i]!, 0);
  let r = random() * keptTotal;
  for (const i of kept) {
    r -= weights[i]!;
    if (r <= 0) return ids[i]!;
  }
  return ids[kept[kept.length - 1]!]!;
}
