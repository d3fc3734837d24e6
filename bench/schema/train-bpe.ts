// A byte-level BPE trainer (GPT-2 style, as models/build/bpe.py) fast enough for a 32k
// vocabulary: pair counts are kept incrementally and the best pair comes from a lazy max-heap,
// so a merge costs the words it touches, not a pass over the corpus (bpe.py's loop would take
// hours at 32k). The result is a tokenizer.json @huggingface/tokenizers loads; the schema bench
// uses it to measure token masks over a realistic large vocabulary.

const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/** GPT-2's printable stand-in character per byte. */
function byteChars(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars = new Array<string>(256);
  for (const b of printable) chars[b] = String.fromCodePoint(b);
  let extra = 0;
  for (let b = 0; b < 256; b++)
    if (chars[b] === undefined) chars[b] = String.fromCodePoint(256 + extra++);
  return chars;
}

class MaxHeap {
  private readonly keys: number[] = [];
  private readonly counts: number[] = [];
  push(key: number, count: number): void {
    this.keys.push(key);
    this.counts.push(count);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.counts[p]! >= count) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    if (this.keys.length === 0) return undefined;
    const top: [number, number] = [this.keys[0]!, this.counts[0]!];
    const lastKey = this.keys.pop()!;
    const lastCount = this.counts.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.counts[0] = lastCount;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.counts[l]! > this.counts[m]!) m = l;
        if (r < this.keys.length && this.counts[r]! > this.counts[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
    [this.counts[a], this.counts[b]] = [this.counts[b]!, this.counts[a]!];
  }
}

/** Trains merges until the vocabulary (256 bytes + merges + 3 specials) has `vocabSize` tokens. */
export function trainByteLevelBpe(
  texts: Iterable<string>,
  vocabSize: number,
): Record<string, unknown> {
  const utf8 = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const text of texts)
    for (const m of text.matchAll(SPLIT)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push([...utf8.encode(w)]);
    freq.push(c);
  }
  const KEY = 1 << 17; // symbol ids stay below 2^17
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number) => {
    const s = words[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * KEY + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]!);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  words.forEach((_, w) => addPairs(w, 1));
  const heap = new MaxHeap();
  for (const [key, count] of pairCount) heap.push(key, count);
  const pieces: string[] = byteChars();
  const merges: string[] = [];
  const target = vocabSize - 256 - SPECIALS.length;
  while (merges.length < target) {
    const top = heap.pop();
    if (!top) break;
    const [key, count] = top;
    if (pairCount.get(key) !== count || count <= 0) continue; // stale entry
    const a = Math.floor(key / KEY);
    const b = key % KEY;
    const id = pieces.length;
    pieces.push(pieces[a]! + pieces[b]!);
    merges.push(`${pieces[a]} ${pieces[b]}`);
    const touched = new Map<number, number>();
    for (const w of pairWords.get(key) ?? []) {
      const before = new Map<number, number>();
      const s = words[w]!;
      for (let i = 0; i + 1 < s.length; i++) before.set(s[i]! * KEY + s[i + 1]!, 0);
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(s[i]!);
      }
      words[w] = out;
      addPairs(w, 1);
      for (const k of before.keys()) touched.set(k, 0);
      for (let i = 0; i + 1 < out.length; i++) touched.set(out[i]! * KEY + out[i + 1]!, 0);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const k of touched.keys()) {
      const c = pairCount.get(k) ?? 0;
      if (c > 0) heap.push(k, c);
    }
  }
  const vocab: Record<string, number> = {};
  pieces.forEach((p, i) => (vocab[p] = i));
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, i) => ({
      id: pieces.length + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
