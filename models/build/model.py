"""A Qwen2-architecture decoder small enough to train on 2 CPU cores.

Qwen2 details kept so the exported folder looks like a real Qwen2 export: RMSNorm, RoPE in the
rotate_half convention applied before keys are cached, grouped-query attention, bias on q/k/v
only, SwiGLU MLP, tied embeddings. The forward takes the Optimum signature (input_ids,
attention_mask, position_ids, past key/values) and builds the attention mask in-graph from the 2D
attention_mask combined with causality, so any padding pattern (left padding, holes between a
cached prefix and a padded suffix) is exact.
"""

import torch
from torch import nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab_size=512, hidden_size=128, num_layers=4, num_heads=4,
                 num_kv_heads=2, intermediate_size=384, rope_theta=10000.0,
                 max_positions=2048, rms_eps=1e-6):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = hidden_size // num_heads
        self.intermediate_size = intermediate_size
        self.rope_theta = rope_theta
        self.max_positions = max_positions
        self.rms_eps = rms_eps


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q_proj = nn.Linear(c.hidden_size, c.num_heads * c.head_dim, bias=True)
        self.k_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=True)
        self.v_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=True)
        self.o_proj = nn.Linear(c.num_heads * c.head_dim, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        c = self.c
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, c.num_heads, c.head_dim).transpose(1, 2)  # [B, H, S, D]
        k = self.k_proj(x).view(b, s, c.num_kv_heads, c.head_dim).transpose(1, 2)  # [B, KV, S, D]
        v = self.v_proj(x).view(b, s, c.num_kv_heads, c.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)  # [B, KV, P+S, D]
        v = torch.cat([past_v, v], dim=2)
        rep = c.num_heads // c.num_kv_heads
        t = k.shape[2]
        kk = k[:, :, None].expand(b, c.num_kv_heads, rep, t, c.head_dim).reshape(b, c.num_heads, t, c.head_dim)
        vv = v[:, :, None].expand(b, c.num_kv_heads, rep, t, c.head_dim).reshape(b, c.num_heads, t, c.head_dim)
        scores = torch.matmul(q, kk.transpose(2, 3)) * (c.head_dim ** -0.5) + bias  # [B, H, S, T]
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, vv).transpose(1, 2).reshape(b, s, c.num_heads * c.head_dim)
        return self.o_proj(out), k, v


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        h, k, v = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + h
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Layer(c) for _ in range(c.num_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_eps)
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2).float() / c.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, input_ids, attention_mask, position_ids, past):
        """past: list of (key, value) per layer, each [B, KV, P, D] (P may be 0).
        attention_mask: [B, P+S] with 1 for real tokens. Returns logits [B, S, V] and presents."""
        b, s = input_ids.shape
        p = past[0][0].shape[2]
        x = self.embed_tokens(input_ids)
        freqs = position_ids[..., None].float() * self.inv_freq  # [B, S, D/2]
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # [B, 1, S, D]
        cos, sin = emb.cos(), emb.sin()
        # query i (absolute index p+i) sees key j when j <= p+i and attention_mask[j] == 1.
        # Finite -1e9 instead of -inf: a padding query row that sees no key stays NaN-free.
        q_idx = torch.arange(s, device=input_ids.device)[:, None] + p  # [S, 1]
        k_idx = torch.arange(p + s, device=input_ids.device)[None, :]  # [1, T]
        allowed = (k_idx <= q_idx)[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        presents = []
        for layer, (pk, pv) in zip(self.layers, past):
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        logits = F.linear(self.norm(x), self.embed_tokens.weight)  # tied lm_head
        return logits, presents

    def empty_past(self, b):
        c = self.c
        z = torch.zeros(b, c.num_kv_heads, 0, c.head_dim)
        return [(z, z) for _ in range(c.num_layers)]


class OnnxWrapper(nn.Module):
    """Flat tensor arguments and outputs in the order the Optimum signature names them."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(len(flat_past) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)
