"""Larger seeded-weight variants of halo-tiny for benchmarks: same architecture, tokenizer and
folder layout, random (seeded) weights, so model size and switching cost are real while the
answers are noise. Written to models/variants/ (git-ignored by its own .gitignore).

    /usr/bin/python3 models/build/make-variants.py [5m 20m ...]
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import bpe  # noqa: E402
from build import export  # noqa: E402
from model import Config, Decoder  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VARIANTS = {
    # name: (hidden, layers, query heads, kv heads, intermediate); head dim 32 throughout
    "5m": (256, 6, 8, 4, 768),     # 4.9 M parameters, 19 MB
    "20m": (512, 7, 16, 4, 1536),  # 21 M parameters, 84 MB
}


def load_tokenizer():
    with open(os.path.join(ROOT, "models", "halo-tiny", "tokenizer.json")) as f:
        merges = [tuple(m.split(" ", 1)) for m in json.load(f)["model"]["merges"]]
    return bpe.Tokenizer(merges)


def main(names):
    torch.set_num_threads(1)
    tok = load_tokenizer()
    base = os.path.join(ROOT, "models", "variants")
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".gitignore"), "w") as f:
        f.write("*\n")
    for name in names or list(VARIANTS):
        hidden, layers, heads, kv, inter = VARIANTS[name]
        torch.manual_seed(1000 + hidden + layers)
        c = Config(vocab_size=tok.size, hidden_size=hidden, num_layers=layers, num_heads=heads,
                   num_kv_heads=kv, intermediate_size=inter)
        model = Decoder(c)
        out = os.path.join(base, f"halo-{name}")
        export(model, tok, out, c)
        n = sum(p.numel() for p in model.parameters())
        print(f"{out}: {n / 1e6:.1f} M parameters")


if __name__ == "__main__":
    main(sys.argv[1:])
