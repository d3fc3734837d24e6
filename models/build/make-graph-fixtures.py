"""Random-weight decoder folders for every graph family and dtype the runtime loads, each with an
fp32 twin of the same weights (onnx_decoder.py emits them all from one set of numpy weights).

    /usr/bin/python3 models/build/make-graph-fixtures.py fixtures
        test/runtime/fixtures/graphs/<family>/ (committed, about 1.6 MB in all): tiny graphs
        (hidden 32, 2 layers, 4 query / 2 KV heads, vocab 512 with halo-tiny's tokenizer)
    /usr/bin/python3 models/build/make-graph-fixtures.py realistic [NAME ...] [--dtypes fp32,int8,q4]
        models/realistic/<NAME>/ (git-ignored): SmolLM2-135M's or Qwen2.5-0.5B's shapes
        (names: smollm2-135m, qwen2.5-0.5b; default both) for `halo bench runtime --models realistic`

Only numpy and python3-onnx are needed (no torch, no onnxruntime); the output is deterministic.
"""

import json
import os
import shutil
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(__file__))
from onnx_decoder import (  # noqa: E402
    Arch, ExternalData, decoder_model, random_weights, snap_to_grid)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY = os.path.join(ROOT, "models", "halo-tiny")
FIXTURES = os.path.join(ROOT, "test", "runtime", "fixtures", "graphs")
REALISTIC_DIR = os.path.join(ROOT, "models", "realistic")

FIXTURE_ARCH = Arch(vocab=512, hidden=32, layers=2, heads=4, kv_heads=2, inter=64, head_dim=16,
                    max_positions=512)
# name: architecture numbers of the public model (config.json of the hub repo)
REALISTIC = {
    "smollm2-135m": Arch(vocab=49152, hidden=576, layers=30, heads=9, kv_heads=3, inter=1536,
                         rope_theta=100000.0, eps=1e-5, max_positions=8192),
    "qwen2.5-0.5b": Arch(vocab=151936, hidden=896, layers=24, heads=14, kv_heads=2, inter=4864,
                         rope_theta=1000000.0, eps=1e-6, max_positions=32768),
}
DTYPE_FILE = {"fp32": "model.onnx", "fp16": "model_fp16.onnx", "q8": "model_quantized.onnx",
              "int8": "model_int8.onnx", "uint8": "model_uint8.onnx", "q4": "model_q4.onnx",
              "q4f16": "model_q4f16.onnx", "bnb4": "model_bnb4.onnx"}


def config_json(arch, model_type="qwen2", extra=None):
    c = {"architectures": ["Qwen2ForCausalLM"], "model_type": model_type,
         "hidden_size": arch.hidden, "intermediate_size": arch.inter,
         "num_hidden_layers": arch.layers, "num_attention_heads": arch.heads,
         "num_key_value_heads": arch.kv_heads, "head_dim": arch.head_dim,
         "vocab_size": arch.vocab, "max_position_embeddings": arch.max_positions,
         "rope_theta": arch.rope_theta, "rms_norm_eps": arch.eps, "hidden_act": "silu",
         "tie_word_embeddings": True, "use_cache": True, "torch_dtype": "float32",
         "bos_token_id": 509, "eos_token_id": 511, "pad_token_id": 509}
    c.update(extra or {})
    return c


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def folder(out, config, tokenizer=True):
    """A model folder with halo-tiny's tokenizer and generation config."""
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "onnx"))
    if config is not None:
        write_json(os.path.join(out, "config.json"), config)
    if tokenizer:
        for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
            shutil.copy(os.path.join(TINY, name), os.path.join(out, name))


def save(model, path):
    onnx.save(model, path)
    return os.path.getsize(path)


def build_fixtures():
    # weights on the q4 grid: the q4 files hold exactly the twin's weights (the 8-bit and fp16
    # files still round them); bnb4 gets a folder of its own with NF4-grid weights and their twin
    raw = random_weights(FIXTURE_ARCH, seed=17)
    arch, w = FIXTURE_ARCH, snap_to_grid(raw, "q4")
    half = {"fp16", "q4f16"}
    sizes = {}

    def put(family, name, **variant):
        path = os.path.join(FIXTURES, family, name)
        sizes[os.path.relpath(path, FIXTURES)] = save(decoder_model(arch, w, **variant), path)

    # Optimum / transformers.js layout, every dtype beside the fp32 twin (fp16 and q4f16 with
    # float16 KV and logits, as kv_cache_dtype says)
    folder(os.path.join(FIXTURES, "qwen2"), config_json(arch, extra={"transformers.js_config": {
        "kv_cache_dtype": {"fp16": "float16", "q4f16": "float16"}}}))
    for dtype, name in DTYPE_FILE.items():
        if dtype != "bnb4":
            put("qwen2", os.path.join("onnx", name), weights=dtype,
                io=np.float16 if dtype in half else np.float32)
    folder(os.path.join(FIXTURES, "bnb4"), config_json(arch))
    nf4 = snap_to_grid(raw, "nf4")
    for dtype in ("fp32", "bnb4"):
        path = os.path.join(FIXTURES, "bnb4", "onnx", DTYPE_FILE[dtype])
        sizes[os.path.relpath(path, FIXTURES)] = save(decoder_model(arch, nf4, weights=dtype), path)
    # fp16 weights with float32 I/O (the conversion script's keep_io_types default)
    folder(os.path.join(FIXTURES, "fp16-io32"), config_json(arch))
    put("fp16-io32", "onnx/model_fp16.onnx", weights="fp16")
    # GPT-2 style: no position_ids input, positions from the past length
    folder(os.path.join(FIXTURES, "gpt2-style"), config_json(arch, "gpt2"))
    put("gpt2-style", "onnx/model.onnx", positions="past")
    # Optimum's merged decoder (If on use_cache_branch), fp32 and dynamically quantized
    folder(os.path.join(FIXTURES, "merged"), config_json(arch))
    put("merged", "onnx/decoder_model_merged.onnx", merged=True)
    put("merged", "onnx/decoder_model_merged_quantized.onnx", merged=True, weights="q8")
    # newer exports: a num_logits_to_keep input; others return the last position's logits only
    folder(os.path.join(FIXTURES, "logits-to-keep"), config_json(arch))
    put("logits-to-keep", "onnx/model.onnx", logits="keep")
    folder(os.path.join(FIXTURES, "last-logits"), config_json(arch))
    put("last-logits", "onnx/model.onnx", logits="last")
    # onnxruntime-genai build: genai_config.json names the file; GroupQueryAttention with fused
    # rotary and per-row lengths from the mask; no config.json, as in Microsoft's repos
    genai = os.path.join(FIXTURES, "genai-gqa")
    folder(genai, None)
    shutil.rmtree(os.path.join(genai, "onnx"))
    put("genai-gqa", "model.onnx", positions="gqa")
    write_json(os.path.join(genai, "genai_config.json"), genai_config(arch))
    # the same with per-row lengths as graph inputs instead of a mask, and genai's shared-buffer
    # flag set (a runtime setting: the graph is the same)
    seqlens = os.path.join(FIXTURES, "genai-seqlens")
    folder(seqlens, None)
    shutil.rmtree(os.path.join(seqlens, "onnx"))
    put("genai-seqlens", "model.onnx", positions="gqa-seqlens")
    config = genai_config(arch)
    inputs = config["model"]["decoder"]["inputs"]
    del inputs["attention_mask"]
    inputs.update(seqlens_k="seqlens_k", total_sequence_length="total_sequence_length")
    config["search"]["past_present_share_buffer"] = True
    write_json(os.path.join(seqlens, "genai_config.json"), config)
    # weights in external data files, split in two chunks as exports past 2 GB are
    ext = os.path.join(FIXTURES, "external-data")
    folder(ext, config_json(arch))
    path = os.path.join(ext, "onnx", "model.onnx")
    data = ExternalData(path, chunk_bytes=80 * 1024)
    model = decoder_model(arch, w, external=data)
    data.close()
    save(model, path)
    for name in sorted(os.listdir(os.path.join(ext, "onnx"))):
        sizes["external-data/onnx/" + name] = os.path.getsize(os.path.join(ext, "onnx", name))
    total = 0
    for name, size in sorted(sizes.items()):
        total += size
        print(f"{name:50s} {size / 1024:8.1f} KiB")
    print(f"total {total / 1024:.0f} KiB in {FIXTURES}")


def genai_config(arch):
    return {"model": {
        "bos_token_id": 509, "context_length": arch.max_positions, "eos_token_id": [511, 509],
        "pad_token_id": 509, "type": "qwen2", "vocab_size": arch.vocab,
        "decoder": {
            "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
            "filename": "model.onnx", "head_size": arch.head_dim, "hidden_size": arch.hidden,
            "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                       "past_key_names": "past_key_values.%d.key",
                       "past_value_names": "past_key_values.%d.value"},
            "outputs": {"logits": "logits", "present_key_names": "present.%d.key",
                        "present_value_names": "present.%d.value"},
            "num_attention_heads": arch.heads, "num_hidden_layers": arch.layers,
            "num_key_value_heads": arch.kv_heads}},
        "search": {"do_sample": False, "max_length": arch.max_positions,
                   "past_present_share_buffer": False}}


def build_realistic(name, dtypes=("fp32", "int8", "q4"), out_dir=REALISTIC_DIR):
    """Writes out_dir/<name>/ with one ONNX file per dtype (random weights, the public model's
    shapes; external data past 1 GiB). Returns the folder."""
    arch = REALISTIC[name]
    out = os.path.join(out_dir, name)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, ".gitignore"), "w") as f:
        f.write("*\n")
    if not os.path.exists(os.path.join(out, "config.json")):
        folder(out, config_json(arch))
    print(f"{name}: {arch.parameters() / 1e6:.0f} M parameters, random weights (seed 5)",
          flush=True)
    w = random_weights(arch, seed=5)
    for dtype in dtypes:
        path = os.path.join(out, "onnx", DTYPE_FILE[dtype])
        for stale in os.listdir(os.path.join(out, "onnx")):
            if stale.startswith(os.path.basename(path) + "_data"):
                os.remove(os.path.join(out, "onnx", stale))
        big = dtype == "fp32" and arch.parameters() * 4 > 2 ** 30
        data = ExternalData(path, chunk_bytes=2 ** 31 - 2 ** 20) if big else None
        model = decoder_model(arch, w, weights=dtype, external=data)
        if data:
            data.close()
        size = save(model, path)
        print(f"  {os.path.relpath(path, ROOT)}: {size / 2 ** 20:.0f} MiB", flush=True)
    return out


def main(argv):
    if not argv or argv[0] not in ("fixtures", "realistic"):
        print(__doc__)
        sys.exit(2)
    if argv[0] == "fixtures":
        build_fixtures()
        return
    dtypes = ("fp32", "int8", "q4")
    names = []
    rest = argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg == "--dtypes":
            dtypes = tuple(rest.pop(0).split(","))
        else:
            names.append(arg)
    for name in names or list(REALISTIC):
        if name not in REALISTIC:
            sys.exit(f"unknown realistic model {name}: choose from {', '.join(REALISTIC)}")
        build_realistic(name, dtypes)


if __name__ == "__main__":
    main(sys.argv[1:])
