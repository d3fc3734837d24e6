"""A byte-level BPE tokenizer (GPT-2 style) trained on the synthetic corpus, written as a Hugging
Face tokenizer.json so @huggingface/tokenizers loads it. Ids: 0-255 bytes, then merges, then the
specials <|endoftext|>, <|im_start|>, <|im_end|> at the top of the vocabulary.
"""

import collections
import json
import re

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# GPT-2's split `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` in
# Python's `re` (no \p classes): identical on ASCII, which is all the training data holds.
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_CHARS = bytes_to_unicode()


def to_symbols(word):
    return [BYTE_CHARS[b] for b in word.encode("utf-8")]


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges  # list of (a, b) in rank order
        self.ranks = {m: i for i, m in enumerate(merges)}
        # byte ids follow byte order, as the byte symbols do
        self.vocab = {c: i for i, c in enumerate(BYTE_CHARS[b] for b in range(256))}
        for a, b in merges:
            self.vocab[a + b] = len(self.vocab)
        for s in SPECIALS:
            self.vocab[s] = len(self.vocab)
        self.inverse = {i: s for s, i in self.vocab.items()}
        self.byte_of = {c: b for b, c in BYTE_CHARS.items()}
        self.cache = {}

    @property
    def size(self):
        return len(self.vocab)

    def special(self, s):
        return self.vocab[s]

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        symbols = to_symbols(word)
        while len(symbols) > 1:
            pairs = [(self.ranks.get((symbols[i], symbols[i + 1]), 1 << 30), i)
                     for i in range(len(symbols) - 1)]
            rank, _ = min(pairs)
            if rank == 1 << 30:
                break
            a, b = self.merges[rank]
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        ids = [self.vocab[s] for s in symbols]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for part in SPECIAL_SPLIT.split(text):
            if part in SPECIALS:
                ids.append(self.vocab[part])
            elif part:
                for word in SPLIT.findall(part):
                    ids.extend(self.bpe(word))
        return ids

    def decode(self, ids):
        out = bytearray()
        text = []
        for i in ids:
            s = self.inverse[i]
            if s in SPECIALS:
                text.append(out.decode("utf-8", "replace"))
                out = bytearray()
                text.append(s)
            else:
                out.extend(self.byte_of[c] for c in s)
        text.append(out.decode("utf-8", "replace"))
        return "".join(text)

    def to_json(self):
        vocab = {s: i for s, i in self.vocab.items() if s not in SPECIALS}
        added = [{"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True} for s in SPECIALS]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                      "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": dict(byte_level, trim_offsets=False),
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": [f"{a} {b}" for a, b in self.merges]},
        }


def train(texts, vocab_size):
    """Classic BPE: repeatedly merge the most frequent adjacent pair (ties: first seen pair)."""
    num_merges = vocab_size - 256 - len(SPECIALS)
    counts = collections.Counter()
    for text in texts:
        for part in SPECIAL_SPLIT.split(text):
            if part and part not in SPECIALS:
                counts.update(SPLIT.findall(part))
    words = [(to_symbols(w), c) for w, c in counts.items()]
    merges = []
    existing = set(BYTE_CHARS.values())
    for _ in range(num_merges):
        pairs = collections.Counter()
        for symbols, c in words:
            for i in range(len(symbols) - 1):
                if symbols[i] + symbols[i + 1] not in existing:
                    pairs[(symbols[i], symbols[i + 1])] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(ch) for ch in kv[0][0] + kv[0][1]]))[0]
        merges.append(best)
        a, b = best
        existing.add(a + b)
        new_words = []
        for symbols, c in words:
            if len(symbols) > 1:
                out, i = [], 0
                while i < len(symbols):
                    if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                        out.append(a + b)
                        i += 2
                    else:
                        out.append(symbols[i])
                        i += 1
                symbols = out
            new_words.append((symbols, c))
        words = new_words
    return Tokenizer(merges)


def save(tok, path):
    with open(path, "w") as f:
        json.dump(tok.to_json(), f, ensure_ascii=False, indent=1)
