"""A T5 encoder/decoder written from the published architecture, with the parameter names
of Hugging Face transformers' T5 (transformers/models/t5/modeling_t5.py: T5LayerNorm,
T5DenseActDense / T5DenseGatedActDense, T5Attention with relative_attention_bias in the
first block only, T5LayerSelfAttention / T5LayerCrossAttention / T5LayerFF, T5Block,
T5Stack with final_layer_norm), so a `T5ForConditionalGeneration` or Chronos-Bolt state
dict loads by name. Inference only: no dropout, no fp16 clamping, no cache.

Matched against transformers' modeling_t5.py (v4.x layout, unchanged since v4.0 for these
names) and the Chronos configs (`feed_forward_proj`, `d_kv`, `num_heads`,
`relative_attention_num_buckets`, `relative_attention_max_distance`, `layer_norm_epsilon`).
Written to trace to ONNX (opset 17) with dynamic batch and sequence lengths.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = torch.finfo(torch.float32).min


def act_fn(name):
    if name == 'relu':
        return F.relu
    if name in ('gelu_new', 'gelu_pytorch_tanh'):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == 'gelu':
        return F.gelu
    if name == 'silu':
        return F.silu
    raise ValueError(f'activation {name} is not supported')


class T5Cfg:
    """The fields of a T5 config.json that shape the network."""

    def __init__(self, c):
        self.d_model = c['d_model']
        self.d_kv = c['d_kv']
        self.d_ff = c['d_ff']
        self.num_layers = c['num_layers']
        self.num_decoder_layers = c.get('num_decoder_layers') or c['num_layers']
        self.num_heads = c['num_heads']
        self.num_buckets = c.get('relative_attention_num_buckets', 32)
        self.max_distance = c.get('relative_attention_max_distance', 128)
        self.eps = c.get('layer_norm_epsilon', 1e-6)
        proj = c.get('feed_forward_proj', 'relu').split('-')
        self.gated = len(proj) > 1 and proj[0] == 'gated'
        act = proj[-1]
        self.act = 'gelu_new' if act == 'gelu' and self.gated else act
        self.vocab_size = c['vocab_size']
        self.tie_word_embeddings = c.get('tie_word_embeddings', True)


class T5LayerNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class DenseAct(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gated = cfg.gated
        if cfg.gated:
            self.wi_0 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
            self.wi_1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        else:
            self.wi = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.act = act_fn(cfg.act)

    def forward(self, x):
        h = self.act(self.wi_0(x)) * self.wi_1(x) if self.gated else self.act(self.wi(x))
        return self.wo(h)


def relative_position_bucket(rel, bidirectional, num_buckets, max_distance):
    """T5's bucketing of key minus query positions (exact below num_buckets/2, log-spaced up to max_distance)."""
    buckets = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


class T5Attention(nn.Module):
    def __init__(self, cfg, has_bias, is_decoder):
        super().__init__()
        inner = cfg.num_heads * cfg.d_kv
        self.h, self.dk = cfg.num_heads, cfg.d_kv
        self.q = nn.Linear(cfg.d_model, inner, bias=False)
        self.k = nn.Linear(cfg.d_model, inner, bias=False)
        self.v = nn.Linear(cfg.d_model, inner, bias=False)
        self.o = nn.Linear(inner, cfg.d_model, bias=False)
        self.is_decoder = is_decoder
        self.num_buckets, self.max_distance = cfg.num_buckets, cfg.max_distance
        if has_bias:
            self.relative_attention_bias = nn.Embedding(cfg.num_buckets, cfg.num_heads)

    def compute_bias(self, q_len, k_len, device, offset=None):
        ctx = torch.arange(q_len, dtype=torch.long, device=device)[:, None]
        if offset is not None:
            ctx = ctx + offset  # queries after a cached prefix: positions offset .. offset + q_len - 1
        mem = torch.arange(k_len, dtype=torch.long, device=device)[None, :]
        b = relative_position_bucket(mem - ctx, not self.is_decoder, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(b).permute(2, 0, 1).unsqueeze(0)  # [1, heads, q, k]

    def forward(self, x, kv, bias, past=None):
        """x [b, lq, d]; kv [b or 1, lk, d] (a batch of 1 broadcasts over b); past: cached (key, value)
        [b, h, lp, dk] of earlier positions (self-attention), then (out, (key, value)) is returned."""
        b, lq = x.shape[0], x.shape[1]
        q = self.q(x).view(b, lq, self.h, self.dk).transpose(1, 2)
        k = self.k(kv).view(kv.shape[0], -1, self.h, self.dk).transpose(1, 2)
        v = self.v(kv).view(kv.shape[0], -1, self.h, self.dk).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        scores = torch.matmul(q, k.transpose(2, 3)) + bias  # T5: no 1/sqrt(d) scaling
        w = torch.softmax(scores.float(), dim=-1)
        out = self.o(torch.matmul(w, v).transpose(1, 2).reshape(b, lq, self.h * self.dk))
        return out if past is None else (out, (k, v))


class SelfAttnLayer(nn.Module):
    def __init__(self, cfg, has_bias, is_decoder):
        super().__init__()
        self.SelfAttention = T5Attention(cfg, has_bias, is_decoder)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.eps)

    def forward(self, x, bias):
        y = self.layer_norm(x)
        return x + self.SelfAttention(y, y, bias)


class CrossAttnLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.EncDecAttention = T5Attention(cfg, False, True)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.eps)

    def forward(self, x, enc, bias):
        return x + self.EncDecAttention(self.layer_norm(x), enc, bias)


class FFLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.DenseReluDense = DenseAct(cfg)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.eps)

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class T5Block(nn.Module):
    def __init__(self, cfg, has_bias, is_decoder):
        super().__init__()
        layers = [SelfAttnLayer(cfg, has_bias, is_decoder)]
        if is_decoder:
            layers.append(CrossAttnLayer(cfg))
        layers.append(FFLayer(cfg))
        self.layer = nn.ModuleList(layers)
        self.is_decoder = is_decoder

    def forward(self, x, self_bias, enc=None, cross_bias=None):
        x = self.layer[0](x, self_bias)
        if self.is_decoder:
            x = self.layer[1](x, enc, cross_bias)
        return self.layer[-1](x)


def additive_mask(keep):
    """[batch, k] keep mask (bool) -> [batch, 1, 1, k] additive mask (0 or float32 min), as HF does."""
    return (1.0 - keep[:, None, None, :].to(torch.float32)) * NEG


class T5Stack(nn.Module):
    def __init__(self, cfg, embed, is_decoder):
        super().__init__()
        self.embed_tokens = embed
        n = cfg.num_decoder_layers if is_decoder else cfg.num_layers
        self.block = nn.ModuleList([T5Block(cfg, i == 0, is_decoder) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(cfg.d_model, cfg.eps)
        self.is_decoder = is_decoder

    def forward(self, embeds, mask, enc=None, enc_mask=None):
        """embeds [b, l, d]; mask [b, l] bool (encoder: padding; decoder: unused, causal);
        enc [b, s, d] and enc_mask [b, s] bool for the decoder's cross-attention."""
        l = embeds.shape[1]
        bias = self.block[0].layer[0].SelfAttention.compute_bias(l, l, embeds.device)
        if self.is_decoder:
            pos = torch.arange(l, device=embeds.device)
            causal = (pos[None, :] <= pos[:, None])[None, None, :, :]
            bias = bias + (1.0 - causal.to(torch.float32)) * NEG
            cross = additive_mask(enc_mask)
        else:
            bias = bias + additive_mask(mask)
            cross = None
        x = embeds
        for blk in self.block:
            x = blk(x, bias, enc, cross)
        return self.final_layer_norm(x)


def decoder_with_cache(stack, embeds, enc, enc_mask, pasts):
    """A decoder T5Stack run on new tokens after a cached prefix.

    embeds [b, l, d] new positions; enc [b or 1, s, d] encoder states and enc_mask [b or 1, s] (bool)
    (a batch of 1 broadcasts over the b rows); pasts: per block (key, value) [b, h, p, dk] of the p
    earlier positions (p may be 0). Returns (hidden [b, l, d] after final_layer_norm, presents).
    Same numbers as running the whole prefix (T5's relative bias depends on key minus query only).
    """
    l = embeds.shape[1]
    p = pasts[0][0].shape[2]
    total = p + l
    attn0 = stack.block[0].layer[0].SelfAttention
    bias = attn0.compute_bias(l, total, embeds.device, offset=p)
    qpos = torch.arange(l, device=embeds.device)[:, None] + p
    kpos = torch.arange(total, device=embeds.device)[None, :]
    bias = bias + (1.0 - (kpos <= qpos).to(torch.float32))[None, None, :, :] * NEG
    cross = additive_mask(enc_mask)
    x = embeds
    presents = []
    for blk, past in zip(stack.block, pasts):
        sa = blk.layer[0]
        y = sa.layer_norm(x)
        out, kv = sa.SelfAttention(y, y, bias, past)
        x = x + out
        presents.append(kv)
        x = blk.layer[1](x, enc, cross)
        x = blk.layer[-1](x)
    return stack.final_layer_norm(x), presents
