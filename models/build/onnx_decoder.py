"""Qwen2/Llama-architecture decoder graphs written op by op with the onnx helper API.

No torch and no Python onnxruntime are needed (Debian has neither onnxruntime nor transformers):
every graph is emitted from the same numpy weights, so each variant (dtype, graph family) has an
exact fp32 twin. Variants:

  weights   fp32 | fp16 | q8 | int8 | uint8 (DynamicQuantizeLinear + MatMulInteger, what
            onnxruntime's quantize_dynamic emits) | q4 | q4f16 (MatMulNBits, block 32) | bnb4
            (MatMulBnb4, NF4); fp16 and q4f16 compute in float16 as fp16 exports do
  io        float32 | float16: the type of the KV inputs/outputs and of the logits
  positions "input" (a position_ids input) | "past" (no position_ids: positions are the past
            length plus the column, as GPT-2-style exports compute them) | "gqa"
            (onnxruntime-genai style: GroupQueryAttention with fused rotary, seqlens_k and
            total_sequence_length derived from the attention mask) | "gqa-seqlens" (the same
            with seqlens_k and total_sequence_length as graph inputs instead of a mask)
  logits    "all" | "keep" (a num_logits_to_keep input) | "last" (the last position only)
  merged    an If on a use_cache_branch input (Optimum's decoder_model_merged)

Everything follows the Optimum signature: input_ids, attention_mask, [position_ids],
past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim]; logits, present.{i}.key/.value.
"""

import os

import numpy as np
from onnx import TensorProto, helper, mapping, numpy_helper

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], np.float32)

WEIGHT_DTYPES = ["fp32", "fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4"]
HALF_COMPUTE = {"fp16", "q4f16"}
DYNAMIC = {"q8", "int8", "uint8"}
ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16}


class Arch:
    """Architecture numbers (the config.json of the model)."""

    def __init__(self, vocab, hidden, layers, heads, kv_heads, inter, head_dim=None,
                 rope_theta=10000.0, eps=1e-6, max_positions=2048):
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.heads, self.kv_heads, self.inter = heads, kv_heads, inter
        self.head_dim = head_dim or hidden // heads
        self.rope_theta, self.eps, self.max_positions = rope_theta, eps, max_positions

    def parameters(self):
        h, d = self.hidden, self.head_dim
        attn = h * self.heads * d * 2 + h * self.kv_heads * d * 2
        return self.vocab * h + self.layers * (attn + 3 * h * self.inter + 2 * h) + h


def random_weights(arch, seed, residual=1.5):
    """Seeded weights scaled so logits spread over a few units (greedy picks with clear margins).
    `residual` scales what each layer adds to the residual stream: with tied embeddings a small
    value (0.5) leaves the input token's own embedding dominant and the model echoes its last
    token; 3 gives varied continuations."""
    rng = np.random.default_rng(seed)

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    h, d = arch.hidden, arch.head_dim
    w = {"embed": normal((arch.vocab, h), 3.0 / np.sqrt(h)),
         "norm": 1 + normal((h,), 0.1)}
    for i in range(arch.layers):
        p = f"l{i}."
        w[p + "ln1"] = 1 + normal((h,), 0.1)
        w[p + "ln2"] = 1 + normal((h,), 0.1)
        w[p + "q"] = normal((h, arch.heads * d), 1 / np.sqrt(h))
        w[p + "k"] = normal((h, arch.kv_heads * d), 1 / np.sqrt(h))
        w[p + "v"] = normal((h, arch.kv_heads * d), 1 / np.sqrt(h))
        w[p + "q.bias"] = normal((arch.heads * d,), 0.1)
        w[p + "k.bias"] = normal((arch.kv_heads * d,), 0.1)
        w[p + "v.bias"] = normal((arch.kv_heads * d,), 0.1)
        w[p + "o"] = normal((arch.heads * d, h), residual / np.sqrt(arch.heads * d))
        w[p + "gate"] = normal((h, arch.inter), 1 / np.sqrt(h))
        w[p + "up"] = normal((h, arch.inter), 1 / np.sqrt(h))
        w[p + "down"] = normal((arch.inter, h), residual / np.sqrt(arch.inter))
    return w


def snap_to_grid(w, grid="q4"):
    """The same weights rounded to what a 4-bit file stores (q4: MatMulNBits, block 32, symmetric;
    nf4: MatMulBnb4's NF4 table), so that file holds exactly its fp32 twin's weights: a fixture
    then tells packing bugs from rounding."""
    snap = snap_q4 if grid == "q4" else snap_nf4
    out = dict(w)
    for key, value in w.items():
        if key == "embed":  # the tied head multiplies by embed^T: blocks run along hidden
            out[key] = snap(value.T).T.copy()
        elif value.ndim == 2:
            out[key] = snap(value)
    return out


def snap_q4(w):
    k, n = w.shape
    blob, scale = quantize_q4(w)
    q = np.empty((n, k // 32, 32), np.float32)
    q[..., 0::2] = blob & 15
    q[..., 1::2] = blob >> 4
    deq = (q - 8) * scale.reshape(n, k // 32, 1)
    return deq.reshape(n, k).T.astype(np.float32).copy()


def snap_nf4(w):
    k, n = w.shape
    blob, absmax = quantize_bnb4(w)
    q = np.empty(blob.size * 2, np.uint8)
    q[0::2] = blob >> 4
    q[1::2] = blob & 15
    deq = NF4[q].reshape(-1, 32) * absmax[:, None]
    return deq.reshape(n, k).T.astype(np.float32).copy()


class ExternalData:
    """Writes large initializers to <model>.onnx_data, <model>.onnx_data_1, ... (chunks of at most
    `chunk_bytes`), as exports past 2 GB do, instead of into the protobuf."""

    def __init__(self, onnx_path, chunk_bytes, threshold=1024):
        self.dir = os.path.dirname(onnx_path)
        self.base = os.path.basename(onnx_path) + "_data"
        self.chunk_bytes, self.threshold = chunk_bytes, threshold
        self.index, self.offset, self.file = 0, 0, None

    def tensor(self, arr, name):
        data = np.ascontiguousarray(arr).tobytes()
        if self.file is None or (self.offset > 0 and self.offset + len(data) > self.chunk_bytes):
            if self.file is not None:
                self.file.close()
                self.index += 1
            location = self.base + ("" if self.index == 0 else f"_{self.index}")
            self.file = open(os.path.join(self.dir, location), "wb")
            self.location, self.offset = location, 0
        t = TensorProto()
        t.name = name
        t.data_type = mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype]
        t.dims.extend(arr.shape)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.location), ("offset", str(self.offset)),
                           ("length", str(len(data)))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        self.file.write(data)
        self.offset += len(data)
        return t

    def close(self):
        if self.file is not None:
            self.file.close()


class Graph:
    """Nodes and initializers of one model; `branch()` collects an If subgraph's nodes."""

    def __init__(self, external=None):
        self.nodes, self.inits, self.count, self.consts = [], [], 0, {}
        self.external = external

    def fresh(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def init(self, arr, name):
        if self.external is not None and arr.nbytes >= self.external.threshold:
            self.inits.append(self.external.tensor(arr, name))
        else:
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const(self, value, dtype):
        arr = np.array(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.consts:
            self.consts[key] = self.init(arr, self.fresh("c"))
        return self.consts[key]

    def op(self, op_type, inputs, n=1, outputs=None, domain=None, **attrs):
        outs = outputs or [self.fresh(op_type.lower()) for _ in range(n)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh("n_" + op_type),
                                           domain=domain, **attrs))
        return outs[0] if n == 1 else outs

    def branch(self):
        saved = self.nodes
        self.nodes = []
        return saved

    def end_branch(self, saved):
        nodes, self.nodes = self.nodes, saved
        return nodes


def quantize_q4(w):
    """[K, N] -> MatMulNBits blobs [N, K/32, 16] (low nibble first) and scales [N * K/32];
    symmetric, default zero point 8."""
    k, n = w.shape
    blocks = w.T.reshape(n, k // 32, 32)
    scale = np.abs(blocks).max(axis=2) / 7
    scale[scale == 0] = 1
    q = np.clip(np.round(blocks / scale[..., None]) + 8, 0, 15).astype(np.uint8)
    packed = q[..., 0::2] | (q[..., 1::2] << 4)
    return packed, scale.reshape(-1).astype(np.float32)


def quantize_bnb4(w):
    """[K, N] -> MatMulBnb4 NF4 bytes over W^T flattened (first element in the high nibble) and
    absmax per block of 32."""
    k, n = w.shape
    flat = w.T.reshape(-1, 32)
    absmax = np.abs(flat).max(axis=1)
    absmax[absmax == 0] = 1
    q = np.abs((flat / absmax[:, None])[..., None] - NF4).argmin(axis=-1).astype(np.uint8)
    q = q.reshape(-1)
    return (q[0::2] << 4) | q[1::2], absmax.astype(np.float32)


def quantize_int8(w, mode):
    """Dynamic-quantization weights: int8 symmetric per output channel, uint8 asymmetric per
    tensor (q8 and uint8)."""
    if mode == "int8":
        scale = np.abs(w).max(axis=0) / 127
        scale[scale == 0] = 1
        return (np.round(w / scale).astype(np.int8), scale.astype(np.float32),
                np.zeros(w.shape[1], np.int8))
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = (hi - lo) / 255 or 1.0
    zp = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
    q = np.clip(np.round(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.array(scale, np.float32), np.array(zp, np.uint8)


class Emitter:
    """Emits the decoder for one weight dtype into a Graph (weights become initializers once)."""

    def __init__(self, g, arch, w, weights):
        self.g, self.arch, self.w, self.weights = g, arch, w, weights
        self.ct = np.float16 if weights in HALF_COMPUTE else np.float32
        self.prepared = {}
        self.dql = {}

    def weight(self, key, arr, suffix=""):
        name = key + suffix
        if name not in self.prepared:
            self.prepared[name] = self.g.init(arr, name)
        return self.prepared[name]

    def linear(self, x, key, w=None):
        g, mode = self.g, self.weights
        w = self.w[key] if w is None else w
        k, n = w.shape
        if mode in ("fp32", "fp16"):
            y = g.op("MatMul", [x, self.weight(key, w.astype(self.ct))])
        elif mode in DYNAMIC:
            if key not in self.prepared:
                q, s, zp = quantize_int8(w, mode)
                self.prepared[key] = (g.init(q, key + ".q"), g.init(s, key + ".scale"),
                                      g.init(zp, key + ".zp"))
            wq, ws, wzp = self.prepared[key]
            if x not in self.dql:  # one DynamicQuantizeLinear per activation, as ORT emits
                self.dql[x] = g.op("DynamicQuantizeLinear", [x], n=3)
            xq, xs, xzp = self.dql[x]
            acc = g.op("MatMulInteger", [xq, wq, xzp, wzp])
            y = g.op("Mul", [g.op("Cast", [acc], to=TensorProto.FLOAT), g.op("Mul", [xs, ws])])
        elif mode in ("q4", "q4f16"):
            if key not in self.prepared:
                blob, scale = quantize_q4(w)
                self.prepared[key] = (g.init(blob, key + ".q4"),
                                      g.init(scale.astype(self.ct), key + ".scale"))
            blob, scale = self.prepared[key]
            y = g.op("MatMulNBits", [x, blob, scale], domain="com.microsoft", K=k, N=n, bits=4,
                     block_size=32)
        elif mode == "bnb4":
            if key not in self.prepared:
                blob, absmax = quantize_bnb4(w)
                self.prepared[key] = (g.init(blob, key + ".nf4"), g.init(absmax, key + ".absmax"))
            blob, absmax = self.prepared[key]
            y = g.op("MatMulBnb4", [x, blob, absmax], domain="com.microsoft", K=k, N=n,
                     block_size=32, quant_type=1)
        else:
            raise ValueError(mode)
        bias = self.w.get(key + ".bias")
        if bias is not None:
            y = g.op("Add", [y, self.weight(key + ".bias", bias.astype(self.ct))])
        return y

    def c(self, value):
        return self.g.const(value, self.ct)

    def i64(self, value):
        return self.g.const(value, np.int64)

    def rms_norm(self, x, key):
        g = self.g
        var = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
        inv = g.op("Div", [self.c(1.0), g.op("Sqrt", [g.op("Add", [var, self.c(self.arch.eps)])])])
        return g.op("Mul", [g.op("Mul", [x, inv]), self.weight(key, self.w[key].astype(self.ct))])

    def shape_dim(self, x, axis):
        return self.g.op("Gather", [self.g.op("Shape", [x]), self.i64(axis)], axis=0)

    def rope_tables(self, positions):
        """cos/sin [B|1, 1, S, D] of float positions [B|1, S]."""
        g, a = self.g, self.arch
        inv = 1.0 / (a.rope_theta ** (np.arange(0, a.head_dim, 2, dtype=np.float32) / a.head_dim))
        freqs = g.op("Mul", [g.op("Unsqueeze", [positions, self.i64([-1])]),
                             g.const(inv.astype(np.float32), np.float32)])
        emb = g.op("Concat", [freqs, freqs], axis=-1)
        out = []
        for fn in ("Cos", "Sin"):
            t = g.op(fn, [emb])
            if self.ct == np.float16:
                t = g.op("Cast", [t], to=TensorProto.FLOAT16)
            out.append(g.op("Unsqueeze", [t, self.i64([1])]))
        return out

    def rotate(self, x, cos, sin):
        g, half = self.g, self.arch.head_dim // 2
        x1 = g.op("Slice", [x, self.i64([0]), self.i64([half]), self.i64([-1])])
        x2 = g.op("Slice", [x, self.i64([half]), self.i64([2 * half]), self.i64([-1])])
        rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])])

    def heads(self, x, n):
        """[B, S, n*D] -> [B, n, S, D]"""
        r = self.g.op("Reshape", [x, self.i64([0, 0, n, self.arch.head_dim])])
        return self.g.op("Transpose", [r], perm=[0, 2, 1, 3])

    def attention(self, i, h, ctx, past, present_names):
        """Eager attention over past + new keys with the 2D mask and causality (ctx: cos, sin,
        bias). Returns the attention output [B, S, H] and names the presents."""
        g, a, p = self.g, self.arch, f"l{i}."
        q = self.rotate(self.heads(self.linear(h, p + "q"), a.heads), ctx["cos"], ctx["sin"])
        k = self.rotate(self.heads(self.linear(h, p + "k"), a.kv_heads), ctx["cos"], ctx["sin"])
        v = self.heads(self.linear(h, p + "v"), a.kv_heads)
        if past is not None:
            pk, pv = (self.from_io(t) for t in past)
            k = g.op("Concat", [pk, k], axis=2)
            v = g.op("Concat", [pv, v], axis=2)
        self.to_io(k, present_names[0])
        self.to_io(v, present_names[1])
        d = a.head_dim
        # [B, H, S, D] as [B, KV, rep*S, D]: query head j uses KV head j // rep
        qg = g.op("Reshape", [q, self.i64([0, a.kv_heads, -1, d])])
        scores = g.op("MatMul", [qg, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = g.op("Reshape", [g.op("Mul", [scores, self.c(d ** -0.5)]),
                                  self.i64([0, a.heads, -1, 0])])
        probs = g.op("Softmax", [g.op("Add", [scores, ctx["bias"]])], axis=-1)
        probs = g.op("Reshape", [probs, self.i64([0, a.kv_heads, -1, 0])])
        out = g.op("Reshape", [g.op("MatMul", [probs, v]), self.i64([0, a.heads, -1, d])])
        out = g.op("Reshape", [g.op("Transpose", [out], perm=[0, 2, 1, 3]),
                               self.i64([0, 0, a.heads * d])])
        return self.linear(out, p + "o")

    def gqa_attention(self, i, h, ctx, past, present_names):
        """onnxruntime-genai style: GroupQueryAttention with rotary inside."""
        g, a, p = self.g, self.arch, f"l{i}."
        q, k, v = (self.linear(h, p + n) for n in ("q", "k", "v"))
        out, pk, pv = g.op("GroupQueryAttention",
                           [q, k, v, past[0], past[1], ctx["seqlens_k"], ctx["total"],
                            ctx["cos_cache"], ctx["sin_cache"]],
                           n=3, domain="com.microsoft", num_heads=a.heads,
                           kv_num_heads=a.kv_heads, do_rotary=1, rotary_interleaved=0,
                           scale=float(a.head_dim ** -0.5))
        g.op("Identity", [pk], outputs=[present_names[0]])
        g.op("Identity", [pv], outputs=[present_names[1]])
        return self.linear(out, p + "o")

    def from_io(self, t):
        return t if self.io == self.ct else self.g.op("Cast", [t], to=ONNX_TYPE[np.dtype(self.ct)])

    def to_io(self, t, name):
        if self.io == self.ct:
            return self.g.op("Identity", [t], outputs=[name])
        return self.g.op("Cast", [t], outputs=[name], to=ONNX_TYPE[np.dtype(self.io)])

    def mask_bias(self, past_len, seq_len):
        """[B, 1, S, T] additive bias: query i (absolute past_len + i) sees key j when j <= it and
        attention_mask[j] is 1. A finite large negative keeps fully masked padding rows NaN-free."""
        g = self.g
        total = g.op("Add", [past_len, seq_len])
        q_idx = g.op("Unsqueeze", [g.op("Add", [g.op("Range", [self.i64(0), seq_len, self.i64(1)]),
                                               past_len]), self.i64([1])])
        k_idx = g.op("Unsqueeze", [g.op("Range", [self.i64(0), total, self.i64(1)]), self.i64([0])])
        causal = g.op("LessOrEqual", [k_idx, q_idx])
        pad = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], to=TensorProto.BOOL),
                                 self.i64([1, 2])])
        allowed = g.op("And", [causal, pad])
        neg = -1e4 if self.ct == np.float16 else -1e9
        return g.op("Where", [allowed, self.c(0.0), self.c(neg)])

    def body(self, positions, logits, use_past, io, out_names):
        """The decoder forward; out_names: logits then present key/value per layer."""
        g, a = self.g, self.arch
        self.io, self.dql = io, {}
        embed = self.weight("embed", self.w["embed"].astype(self.ct))
        x = g.op("Gather", [embed, "input_ids"], axis=0)
        pasts = [(f"past_key_values.{i}.key", f"past_key_values.{i}.value")
                 for i in range(a.layers)]
        seq_len = self.shape_dim("input_ids", 1)
        ctx = {}
        if positions == "gqa-seqlens":
            ctx["seqlens_k"], ctx["total"] = "seqlens_k", "total_sequence_length"
        elif positions == "gqa":
            mask_sum = g.op("ReduceSum", ["attention_mask", self.i64([1])], keepdims=0)
            ctx["seqlens_k"] = g.op("Cast", [g.op("Sub", [mask_sum, self.i64(1)])],
                                    to=TensorProto.INT32)
            ctx["total"] = g.op("Cast", [self.shape_dim("attention_mask", 1)], to=TensorProto.INT32)
        if positions.startswith("gqa"):
            inv = 1.0 / (a.rope_theta ** (np.arange(0, a.head_dim, 2) / a.head_dim))
            ang = np.arange(a.max_positions)[:, None] * inv[None, :]
            ctx["cos_cache"] = self.weight("cos_cache", np.cos(ang).astype(self.ct))
            ctx["sin_cache"] = self.weight("sin_cache", np.sin(ang).astype(self.ct))
        else:
            past_len = self.shape_dim(pasts[0][0], 2) if use_past else self.i64(0)
            if positions == "input":
                pos = g.op("Cast", ["position_ids"], to=TensorProto.FLOAT)
            else:  # GPT-2 style: past length + column, whatever the mask says
                rng = g.op("Range", [past_len, g.op("Add", [past_len, seq_len]), self.i64(1)])
                pos = g.op("Unsqueeze", [g.op("Cast", [rng], to=TensorProto.FLOAT), self.i64([0])])
            ctx["cos"], ctx["sin"] = self.rope_tables(pos)
            ctx["bias"] = self.mask_bias(past_len, seq_len)
        for i in range(a.layers):
            p = f"l{i}."
            names = out_names[1 + 2 * i: 3 + 2 * i]
            h = self.rms_norm(x, p + "ln1")
            if positions.startswith("gqa"):
                attn = self.gqa_attention(i, h, ctx, pasts[i], names)
            else:
                attn = self.attention(i, h, ctx, pasts[i] if use_past else None, names)
            x = g.op("Add", [x, attn])
            h = self.rms_norm(x, p + "ln2")
            gate = self.linear(h, p + "gate")
            act = g.op("Mul", [gate, g.op("Sigmoid", [gate])])
            x = g.op("Add", [x, self.linear(g.op("Mul", [act, self.linear(h, p + "up")]), p + "down")])
        x = self.rms_norm(x, "norm")
        if logits == "last":
            x = g.op("Slice", [x, self.i64([-1]), self.i64([2 ** 62]), self.i64([1])])
        elif logits == "keep":
            start = g.op("Neg", [g.op("Unsqueeze", ["num_logits_to_keep", self.i64([0])])])
            x = g.op("Slice", [x, start, self.i64([2 ** 62]), self.i64([1])])
        if self.weights in ("fp32", "fp16"):  # tied head: one initializer, transposed in-graph
            head = g.op("MatMul", [x, g.op("Transpose", [embed], perm=[1, 0])])
        else:
            head = self.linear(x, "lm_head", self.w["embed"].T.copy())
        self.to_io(head, out_names[0])


def decoder_model(arch, w, weights="fp32", io=np.float32, positions="input", logits="all",
                  merged=False, external=None):
    """A ModelProto of the decoder (see the module comment for the variants)."""
    io = np.dtype(io).type
    g = Graph(external)
    e = Emitter(g, arch, w, weights)
    t_io = ONNX_TYPE[np.dtype(io)]
    kv_dims = lambda past: ["batch_size", arch.kv_heads, past, arch.head_dim]  # noqa: E731
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                            ["batch_size", "sequence_length"])]
    if positions == "gqa-seqlens":
        inputs += [helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch_size"]),
                   helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, [])]
    else:
        inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64,
                                                    ["batch_size", "total_sequence_length"]))
    if positions == "input":
        inputs.append(helper.make_tensor_value_info("position_ids", TensorProto.INT64,
                                                    ["batch_size", "sequence_length"]))
    for i in range(arch.layers):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", t_io,
                                                        kv_dims("past_sequence_length")))
    if logits == "keep":
        inputs.append(helper.make_tensor_value_info("num_logits_to_keep", TensorProto.INT64, []))
    if merged:
        inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    names = ["logits"] + [f"present.{i}.{k}" for i in range(arch.layers) for k in ("key", "value")]
    seq = 1 if logits == "last" else "sequence_length"
    outputs = [helper.make_tensor_value_info("logits", t_io, ["batch_size", seq, arch.vocab])]
    outputs += [helper.make_tensor_value_info(n, t_io, kv_dims("total_sequence_length"))
                for n in names[1:]]
    if merged:
        branches = []
        for use_past, tag in ((True, "with_past"), (False, "no_past")):
            saved = g.branch()
            local = [f"{tag}/{n}" for n in names]
            e.body(positions, logits, use_past, io, local)
            nodes = g.end_branch(saved)
            branch_out = [helper.make_tensor_value_info(n, t_io, None) for n in local]
            branches.append(helper.make_graph(nodes, tag, [], branch_out))
        g.op("If", ["use_cache_branch"], outputs=names, then_branch=branches[0],
             else_branch=branches[1])
    else:
        e.body(positions, logits, True, io, names)
    graph = helper.make_graph(g.nodes, "decoder", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="halo models/build/onnx_decoder.py")
    model.ir_version = 8
    return model
