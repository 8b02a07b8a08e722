#!/usr/bin/env python3
"""Exports a Kronos checkpoint (tokenizer + predictor) to ONNX graphs and a quantbook model card.

Usage:
  python3 models/export/kronos.py --checkpoint DIR --out PREFIX [--name NAME] [--tokenizer DIR]
      [--max-context 512] [--horizon 256]
  python3 models/export/kronos.py --random-checkpoint DIR   # small random-weight checkpoint (tests)

DIR is the predictor folder as published on Hugging Face (NeoQuasar/Kronos-mini, -small, -base:
config.json + model.safetensors). The tokenizer folder (NeoQuasar/Kronos-Tokenizer-base, or
Kronos-Tokenizer-2k for Kronos-mini) is --tokenizer, by default DIR/tokenizer. If DIR itself holds
`model/` and `tokenizer/` sub-folders, those are used.

Writes PREFIX.json (card), PREFIX.encoder.onnx, PREFIX.decoder.onnx, PREFIX.s1.onnx, PREFIX.s2.onnx,
and PREFIX.parity.json (inputs and PyTorch outputs of every graph, plus a greedy path).

The definitions below are written for quantbook from the authors' public code: parameter names and
shapes match shiyu-coder/Kronos model/kronos.py (KronosTokenizer, Kronos; read at commit
2aad5769f188d7a03f495b62ce3029218174a13e) and model/module.py (BSQuantizer, TransformerBlock,
MultiHeadAttentionWithRoPE, MultiHeadCrossAttentionWithRoPE, HierarchicalEmbedding,
DependencyAwareLayer, DualHead, TemporalEmbedding, FixedEmbedding; commit
19cb9ae84dfdc53d9d9686f8df5a767a531caca0), so a published state dict loads with strict=True.
Attention is written out (torch 1.13 has no scaled_dot_product_attention); the math is the same:
softmax(q k^T / sqrt(head_dim)) v, causal in the tokenizer and the predictor, not causal in the
dependency-aware layer at inference (its is_causal follows self.training).
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (CARD_SCHEMA, OPSET, fail, floats, ints, load_strict, need_keys, read_config,  # noqa: E402
                    read_weights, run_main, sha256, tensor_spec, write_json, write_safetensors)

TOKENIZER_KEYS = ['d_in', 'd_model', 'n_heads', 'ff_dim', 'n_enc_layers', 'n_dec_layers', 's1_bits', 's2_bits',
                  'group_size']
MODEL_KEYS = ['s1_bits', 's2_bits', 'n_layers', 'd_model', 'n_heads', 'ff_dim', 'learn_te']
CLIP = 5.0
NORM_EPS = 1e-5


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps) * self.weight


class FeedForward(nn.Module):
    def __init__(self, d_model, ff_dim):
        super().__init__()
        self.w1 = nn.Linear(d_model, ff_dim, bias=False)
        self.w3 = nn.Linear(d_model, ff_dim, bias=False)
        self.w2 = nn.Linear(ff_dim, d_model, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Rotary(nn.Module):
    """RoPE with the rotate-half layout; positions 0..len(q)-1 applied to q and k alike."""

    def __init__(self, dim):
        super().__init__()
        self.register_buffer('inv_freq', 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim)))

    def forward(self, q, k):
        t = torch.arange(q.shape[-2], dtype=torch.float32)
        freqs = t[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        return q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin


def _rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    """MultiHeadAttentionWithRoPE (causal=True) and MultiHeadCrossAttentionWithRoPE (causal=False)."""

    def __init__(self, d_model, n_heads, causal):
        super().__init__()
        self.n_heads, self.head_dim, self.causal = n_heads, d_model // n_heads, causal
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.rotary = Rotary(self.head_dim)

    def forward(self, query, key, value):
        b, lq, d = query.shape
        lk = key.shape[1]
        q = self.q_proj(query).view(b, lq, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(key).view(b, lk, self.n_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(value).view(b, lk, self.n_heads, self.head_dim).transpose(1, 2)
        q, k = self.rotary(q, k)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if self.causal:
            mask = torch.ones(lq, lk, dtype=torch.bool).triu(1)
            scores = scores.masked_fill(mask, float('-inf'))
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.out_proj(out.transpose(1, 2).reshape(b, lq, d))


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, ff_dim):
        super().__init__()
        self.norm1 = RMSNorm(d_model)
        self.self_attn = Attention(d_model, n_heads, causal=True)
        self.norm2 = RMSNorm(d_model)
        self.ffn = FeedForward(d_model, ff_dim)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h)
        return x + self.ffn(self.norm2(x))


class BSQ(nn.Module):
    """Only the persistent buffers of BinarySphericalQuantizer (its losses are for training)."""

    def __init__(self, embed_dim, group_size):
        super().__init__()
        self.register_buffer('basis', 2 ** torch.arange(embed_dim - 1, -1, -1))
        self.register_buffer('group_basis', 2 ** torch.arange(group_size - 1, -1, -1))


class BSQuantizer(nn.Module):
    def __init__(self, s1_bits, s2_bits, group_size):
        super().__init__()
        self.bsq = BSQ(s1_bits + s2_bits, group_size)


class KronosTokenizer(nn.Module):
    def __init__(self, d_in, d_model, n_heads, ff_dim, n_enc_layers, n_dec_layers, s1_bits, s2_bits, group_size, **_):
        super().__init__()
        self.d_in, self.s1_bits, self.s2_bits = d_in, s1_bits, s2_bits
        self.codebook_dim = s1_bits + s2_bits
        self.embed = nn.Linear(d_in, d_model)
        self.head = nn.Linear(d_model, d_in)
        self.encoder = nn.ModuleList([TransformerBlock(d_model, n_heads, ff_dim) for _ in range(n_enc_layers - 1)])
        self.decoder = nn.ModuleList([TransformerBlock(d_model, n_heads, ff_dim) for _ in range(n_dec_layers - 1)])
        self.quant_embed = nn.Linear(d_model, self.codebook_dim)
        self.post_quant_embed_pre = nn.Linear(s1_bits, d_model)
        self.post_quant_embed = nn.Linear(self.codebook_dim, d_model)
        self.tokenizer = BSQuantizer(s1_bits, s2_bits, group_size)

    def encode(self, x):
        """x [B, L, d_in] (normalised, clipped) -> (s1_ids, s2_ids) [B, L]: KronosTokenizer.encode(half=True)."""
        z = self.embed(x)
        for layer in self.encoder:
            z = layer(z)
        z = F.normalize(self.quant_embed(z), dim=-1)
        bits = (z > 0).long()  # BSQ: sign (z > 0 -> +1, else -1); bits_to_indices: q >= 0 -> 1
        w1 = 2 ** torch.arange(self.s1_bits)
        w2 = 2 ** torch.arange(self.s2_bits)
        return (bits[..., :self.s1_bits] * w1).sum(-1), (bits[..., self.s1_bits:] * w2).sum(-1)

    def decode(self, s1_ids, s2_ids):
        """(s1_ids, s2_ids) [B, L] -> bars [B, L, d_in]: KronosTokenizer.decode(half=True)."""
        half = self.codebook_dim // 2
        mask = 2 ** torch.arange(half)
        b1 = torch.div(s1_ids.unsqueeze(-1), mask, rounding_mode='floor') % 2
        b2 = torch.div(s2_ids.unsqueeze(-1), mask, rounding_mode='floor') % 2
        q = (torch.cat([b1, b2], dim=-1).float() * 2 - 1) / math.sqrt(self.codebook_dim)
        z = self.post_quant_embed(q)
        for layer in self.decoder:
            z = layer(z)
        return self.head(z)


class FixedEmbedding(nn.Module):
    def __init__(self, c_in, d_model):
        super().__init__()
        w = torch.zeros(c_in, d_model)
        pos = torch.arange(0, c_in).float().unsqueeze(1)
        div = (torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model)).exp()
        w[:, 0::2] = torch.sin(pos * div)
        w[:, 1::2] = torch.cos(pos * div)
        self.emb = nn.Embedding(c_in, d_model)
        self.emb.weight = nn.Parameter(w, requires_grad=False)

    def forward(self, x):
        return self.emb(x)


class TemporalEmbedding(nn.Module):
    def __init__(self, d_model, learn_te):
        super().__init__()
        emb = nn.Embedding if learn_te else FixedEmbedding
        self.minute_embed = emb(60, d_model)
        self.hour_embed = emb(24, d_model)
        self.weekday_embed = emb(7, d_model)
        self.day_embed = emb(32, d_model)
        self.month_embed = emb(13, d_model)

    def forward(self, stamp):
        x = stamp.long()
        return (self.hour_embed(x[:, :, 1]) + self.weekday_embed(x[:, :, 2]) + self.day_embed(x[:, :, 3])
                + self.month_embed(x[:, :, 4]) + self.minute_embed(x[:, :, 0]))


class HierarchicalEmbedding(nn.Module):
    def __init__(self, s1_bits, s2_bits, d_model):
        super().__init__()
        self.d_model = d_model
        self.emb_s1 = nn.Embedding(2 ** s1_bits, d_model)
        self.emb_s2 = nn.Embedding(2 ** s2_bits, d_model)
        self.fusion_proj = nn.Linear(2 * d_model, d_model)

    def forward(self, s1_ids, s2_ids):
        scale = math.sqrt(self.d_model)
        return self.fusion_proj(torch.cat([self.emb_s1(s1_ids) * scale, self.emb_s2(s2_ids) * scale], dim=-1))


class DependencyAwareLayer(nn.Module):
    def __init__(self, d_model, n_heads=4):
        super().__init__()
        self.cross_attn = Attention(d_model, n_heads, causal=False)
        self.norm = RMSNorm(d_model)

    def forward(self, hidden, sibling):
        return self.norm(hidden + self.cross_attn(sibling, hidden, hidden))


class DualHead(nn.Module):
    def __init__(self, s1_bits, s2_bits, d_model):
        super().__init__()
        self.proj_s1 = nn.Linear(d_model, 2 ** s1_bits)
        self.proj_s2 = nn.Linear(d_model, 2 ** s2_bits)


class Kronos(nn.Module):
    def __init__(self, s1_bits, s2_bits, n_layers, d_model, n_heads, ff_dim, learn_te, **_):
        super().__init__()
        self.embedding = HierarchicalEmbedding(s1_bits, s2_bits, d_model)
        self.time_emb = TemporalEmbedding(d_model, learn_te)
        self.transformer = nn.ModuleList([TransformerBlock(d_model, n_heads, ff_dim) for _ in range(n_layers)])
        self.norm = RMSNorm(d_model)
        self.dep_layer = DependencyAwareLayer(d_model)
        self.head = DualHead(s1_bits, s2_bits, d_model)

    def decode_s1(self, s1_ids, s2_ids, stamp):
        """Kronos.decode_s1 (no cache): next coarse-token logits at the last position, and the normed states."""
        x = self.embedding(s1_ids, s2_ids) + self.time_emb(stamp)
        for layer in self.transformer:
            x = layer(x)
        x = self.norm(x)
        return self.head.proj_s1(x[:, -1, :]), x

    def decode_s2(self, context, s1_id):
        """Kronos.decode_s2 for one sampled coarse token per row (s1_id [B, 1]): fine-token logits, last position."""
        x2 = self.dep_layer(context, self.embedding.emb_s1(s1_id))
        return self.head.proj_s2(x2[:, -1, :])


class EncoderGraph(nn.Module):
    def __init__(self, tok):
        super().__init__()
        self.tok = tok

    def forward(self, bars):
        return self.tok.encode(bars)


class DecoderGraph(nn.Module):
    def __init__(self, tok):
        super().__init__()
        self.tok = tok

    def forward(self, s1_ids, s2_ids):
        return self.tok.decode(s1_ids, s2_ids)


class S1Graph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, s1_ids, s2_ids, stamp):
        return self.model.decode_s1(s1_ids, s2_ids, stamp)


class S2Graph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, context, s1_id):
        return self.model.decode_s2(context, s1_id)


def resolve_folders(checkpoint, tokenizer):
    if tokenizer is None and os.path.isdir(os.path.join(checkpoint, 'model')):
        return os.path.join(checkpoint, 'model'), os.path.join(checkpoint, 'tokenizer')
    return checkpoint, tokenizer or os.path.join(checkpoint, 'tokenizer')


def load_checkpoint(checkpoint, tokenizer_dir):
    model_dir, tok_dir = resolve_folders(checkpoint, tokenizer_dir)
    if not os.path.isdir(tok_dir):
        fail(f'tokenizer folder {tok_dir} not found: pass --tokenizer DIR (NeoQuasar/Kronos-Tokenizer-base, '
             'or Kronos-Tokenizer-2k for Kronos-mini)')
    tcfg = need_keys(read_config(tok_dir, 'Kronos tokenizer'), TOKENIZER_KEYS, tok_dir)
    mcfg = need_keys(read_config(model_dir, 'Kronos predictor'), MODEL_KEYS, model_dir)
    if tcfg['s1_bits'] != mcfg['s1_bits'] or tcfg['s2_bits'] != mcfg['s2_bits']:
        fail(f's1/s2 bits differ: tokenizer {tcfg["s1_bits"]}/{tcfg["s2_bits"]}, predictor {mcfg["s1_bits"]}/{mcfg["s2_bits"]}')
    if tcfg['s1_bits'] != tcfg['s2_bits']:
        fail('Kronos decodes half tokens with s1_bits == s2_bits; this tokenizer has different sizes')
    tok = KronosTokenizer(**tcfg).eval()
    load_strict(tok, read_weights(tok_dir), what=f'the tokenizer weights in {tok_dir}')
    model = Kronos(**mcfg).eval()
    load_strict(model, read_weights(model_dir), what=f'the predictor weights in {model_dir}')
    return tok, model, tcfg, mcfg, model_dir, tok_dir


def time_features(ms):
    """minute, hour, weekday (Monday 0), day, month of UTC times in ms (KronosPredictor's calc_time_stamps)."""
    import datetime as dt
    out = np.zeros((len(ms), 5), dtype=np.float32)
    for i, m in enumerate(ms):
        d = dt.datetime.fromtimestamp(m / 1000, tz=dt.timezone.utc)
        out[i] = [d.minute, d.hour, d.weekday(), d.day, d.month]
    return out


def normalise(x):
    """KronosPredictor.predict: per-column mean and population std over the context, (x - mean) / (std + 1e-5), clip 5."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return np.clip((x - mean) / (std + NORM_EPS), -CLIP, CLIP).astype(np.float32), mean, std


def greedy_path(tok, model, xn, stamp_x, stamp_y, horizon, max_context):
    """auto_regressive_inference with argmax in place of sampling (one row), decoded to normalised bars."""
    with torch.no_grad():
        s1, s2 = tok.encode(torch.from_numpy(xn[None]))
        full_stamp = torch.from_numpy(np.concatenate([stamp_x, stamp_y])[None])
        L = xn.shape[0]
        pre, post = s1[0].tolist(), s2[0].tolist()
        for i in range(horizon):
            cur = L + i
            start = max(0, cur - max_context)
            a = torch.tensor([pre[start:cur]])
            b = torch.tensor([post[start:cur]])
            logits1, ctx = model.decode_s1(a, b, full_stamp[:, start:cur])
            t1 = int(logits1.argmax(-1))
            logits2 = model.decode_s2(ctx, torch.tensor([[t1]]))
            t2 = int(logits2.argmax(-1))
            pre.append(t1)
            post.append(t2)
        total = L + horizon
        start = max(0, total - max_context)
        z = tok.decode(torch.tensor([pre[start:total]]), torch.tensor([post[start:total]]))
        return z[0, -horizon:].numpy(), pre[L:], post[L:]


def export(args):
    tok, model, tcfg, mcfg, model_dir, tok_dir = load_checkpoint(args.checkpoint, args.tokenizer)
    prefix = os.path.abspath(args.out)
    name = args.name or os.path.basename(prefix)
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    d_in, d_model = tcfg['d_in'], mcfg['d_model']
    v1, v2 = 2 ** mcfg['s1_bits'], 2 ** mcfg['s2_bits']
    if d_in != 6:
        fail(f'tokenizer d_in is {d_in}: quantbook feeds open, high, low, close, volume, amount (6)')
    files = {role: f'{prefix}.{role}.onnx' for role in ('encoder', 'decoder', 's1', 's2')}
    L = 12
    g = torch.Generator().manual_seed(0)
    bars = torch.randn(2, L, d_in, generator=g)
    ids = torch.randint(0, v1, (2, L), generator=g)
    stamp = torch.zeros(2, L, 5)
    ctx = torch.randn(2, L, d_model, generator=g)
    one = torch.randint(0, v1, (2, 1), generator=g)
    seq = {0: 'batch', 1: 'sequence'}
    with torch.no_grad():
        torch.onnx.export(EncoderGraph(tok).eval(), (bars,), files['encoder'], opset_version=OPSET,
                          input_names=['bars'], output_names=['s1_ids', 's2_ids'],
                          dynamic_axes={'bars': seq, 's1_ids': seq, 's2_ids': seq})
        torch.onnx.export(DecoderGraph(tok).eval(), (ids, ids), files['decoder'], opset_version=OPSET,
                          input_names=['s1_ids', 's2_ids'], output_names=['bars'],
                          dynamic_axes={'s1_ids': seq, 's2_ids': seq, 'bars': seq})
        torch.onnx.export(S1Graph(model).eval(), (ids, ids, stamp), files['s1'], opset_version=OPSET,
                          input_names=['s1_ids', 's2_ids', 'stamp'], output_names=['s1_logits', 'context'],
                          dynamic_axes={'s1_ids': seq, 's2_ids': seq, 'stamp': seq, 's1_logits': {0: 'batch'},
                                        'context': seq})
        torch.onnx.export(S2Graph(model).eval(), (ctx, one), files['s2'], opset_version=OPSET,
                          input_names=['context', 's1_id'], output_names=['s2_logits'],
                          dynamic_axes={'context': seq, 's1_id': {0: 'batch'}, 's2_logits': {0: 'batch'}})
    import onnx
    for f in files.values():
        onnx.checker.check_model(onnx.load(f))
    specs = {
        'encoder': ([tensor_spec('bars', 'float32', ['batch', 'sequence', d_in])],
                    [tensor_spec('s1_ids', 'int64', ['batch', 'sequence']), tensor_spec('s2_ids', 'int64', ['batch', 'sequence'])]),
        'decoder': ([tensor_spec('s1_ids', 'int64', ['batch', 'sequence']), tensor_spec('s2_ids', 'int64', ['batch', 'sequence'])],
                    [tensor_spec('bars', 'float32', ['batch', 'sequence', d_in])]),
        's1': ([tensor_spec('s1_ids', 'int64', ['batch', 'sequence']), tensor_spec('s2_ids', 'int64', ['batch', 'sequence']),
                tensor_spec('stamp', 'float32', ['batch', 'sequence', 5])],
               [tensor_spec('s1_logits', 'float32', ['batch', v1]), tensor_spec('context', 'float32', ['batch', 'sequence', d_model])]),
        's2': ([tensor_spec('context', 'float32', ['batch', 'sequence', d_model]), tensor_spec('s1_id', 'int64', ['batch', 1])],
               [tensor_spec('s2_logits', 'float32', ['batch', v2])]),
    }
    rel = lambda p: os.path.basename(p)  # noqa: E731
    parity = write_parity(tok, model, prefix, name, args.max_context)
    card = {
        'schema': CARD_SCHEMA,
        'name': name,
        'description': f'Kronos (shiyu-coder/Kronos) exported from {os.path.basename(os.path.normpath(model_dir))} with '
                       f'tokenizer {os.path.basename(os.path.normpath(tok_dir))}: OHLCV bars -> two-level tokens -> '
                       'coarse then fine token sampled in TypeScript -> decoded bars',
        'family': 'kronos',
        'file': rel(files['s1']),
        'sha256': sha256(files['s1']),
        'opset': OPSET,
        'contextLength': args.max_context,
        'minContext': args.min_context,
        'horizon': args.horizon,
        'inputs': specs['s1'][0],
        'outputs': specs['s1'][1],
        'graphs': {role: {'file': rel(files[role]), 'sha256': sha256(files[role]), 'inputs': specs[role][0],
                          'outputs': specs[role][1]} for role in ('encoder', 'decoder', 's1', 's2')},
        'tokens': {'s1Bits': mcfg['s1_bits'], 's2Bits': mcfg['s2_bits']},
        'features': {'columns': ['open', 'high', 'low', 'close', 'volume', 'amount'],
                     'time': ['minute', 'hour', 'weekday', 'day', 'month'], 'timezone': 'UTC'},
        'normalisation': {'kind': 'contextZScore', 'eps': NORM_EPS, 'clip': CLIP,
                          'description': 'KronosPredictor.predict: each of the 6 columns minus its context mean, divided '
                                         'by (population std + 1e-5), clipped to +-5; decoded bars are mapped back with '
                                         'the same mean and std. Missing volume -> volume and amount 0; missing amount '
                                         '-> volume * mean(open, high, low, close). Time features of each bar: minute, '
                                         'hour, weekday (Monday 0), day, month of its open time in UTC. Applied in TypeScript.'},
        'sampling': {'temperature': 1.0, 'topK': 0, 'topP': 0.9},
        'architecture': {'tokenizer': {k: tcfg[k] for k in TOKENIZER_KEYS},
                         'predictor': {k: mcfg[k] for k in MODEL_KEYS},
                         'parameters': sum(p.numel() for p in model.parameters()) + sum(p.numel() for p in tok.parameters())},
        'source': {'repository': 'shiyu-coder/Kronos', 'files': ['model/kronos.py@2aad5769f188d7a03f495b62ce3029218174a13e',
                                                                 'model/module.py@19cb9ae84dfdc53d9d9686f8df5a767a531caca0']},
        'parityFixture': os.path.relpath(parity, os.path.dirname(prefix)),
    }
    write_json(prefix + '.json', card)
    print(f'wrote {prefix}.json, {len(files)} graphs ({sum(os.path.getsize(f) for f in files.values())} bytes) and {parity}')


def write_parity(tok, model, prefix, name, max_context):
    """Recorded PyTorch inputs and outputs: raw bars and times, their normalisation, every graph, a greedy path."""
    rng = np.random.default_rng(7)
    L, H = 40, 12
    t0 = 1_700_000_000_000
    step = 5 * 60_000
    times = t0 + step * np.arange(L + H)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, L)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, L)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, L)))
    volume = rng.integers(1000, 5000, L).astype(np.float64)
    amount = volume * (open_ + high + low + close) / 4
    raw = np.stack([open_, high, low, close, volume, amount], axis=1).astype(np.float32)
    xn, mean, std = normalise(raw)
    sx, sy = time_features(times[:L]), time_features(times[L:])
    with torch.no_grad():
        s1, s2 = tok.encode(torch.from_numpy(xn[None]))
        logits1, ctx = model.decode_s1(s1, s2, torch.from_numpy(sx[None]))
        probe = torch.tensor([[int(logits1.argmax(-1))]])
        logits2 = model.decode_s2(ctx, probe)
        dec = tok.decode(s1, s2)
    path, g1, g2 = greedy_path(tok, model, xn, sx, sy, H, max_context)
    prices = path * (std + NORM_EPS) + mean
    out = prefix + '.parity.json'
    write_json(out, {
        'model': name, 'torch': torch.__version__, 'maxContext': max_context,
        'bars': {'columns': ['open', 'high', 'low', 'close', 'volume', 'amount'], 'dims': list(raw.shape), 'data': floats(raw)},
        'timesMs': [int(t) for t in times],
        'normalised': {'dims': list(xn.shape), 'data': floats(xn), 'mean': floats(mean), 'std': floats(std)},
        'stamp': floats(np.concatenate([sx, sy])),
        's1_ids': ints(s1), 's2_ids': ints(s2),
        's1_logits': floats(logits1), 's2_probe': int(probe), 's2_logits': floats(logits2),
        'decoded': {'dims': list(dec.shape), 'data': floats(dec)},
        'greedy': {'horizon': H, 's1': g1, 's2': g2, 'bars': {'dims': list(prices.shape), 'data': floats(prices)}},
    })
    return out


def random_checkpoint(folder):
    """A small random-weight checkpoint in the published layout: model/ and tokenizer/, config.json + model.safetensors."""
    torch.manual_seed(11)
    tcfg = {'d_in': 6, 'd_model': 16, 'n_heads': 2, 'ff_dim': 32, 'n_enc_layers': 2, 'n_dec_layers': 2,
            'ffn_dropout_p': 0.0, 'attn_dropout_p': 0.0, 'resid_dropout_p': 0.0, 's1_bits': 4, 's2_bits': 4,
            'beta': 0.05, 'gamma0': 1.0, 'gamma': 1.1, 'zeta': 0.05, 'group_size': 4}
    mcfg = {'s1_bits': 4, 's2_bits': 4, 'n_layers': 2, 'd_model': 16, 'n_heads': 2, 'ff_dim': 32, 'ffn_dropout_p': 0.0,
            'attn_dropout_p': 0.0, 'resid_dropout_p': 0.0, 'token_dropout_p': 0.0, 'learn_te': True}
    for sub, cls, cfg in (('tokenizer', KronosTokenizer, tcfg), ('model', Kronos, mcfg)):
        net = cls(**cfg)
        with torch.no_grad():
            for pname, p in net.named_parameters():
                if pname.endswith('norm.weight') or pname.endswith('norm1.weight') or pname.endswith('norm2.weight'):
                    p.copy_(1 + 0.2 * torch.randn_like(p))
                elif p.dim() == 2:
                    p.copy_(torch.randn_like(p) * (0.5 / math.sqrt(p.shape[-1]) if 'emb' not in pname else 1.0))
                else:
                    p.copy_(0.05 * torch.randn_like(p))
        d = os.path.join(folder, sub)
        os.makedirs(d, exist_ok=True)
        write_json(os.path.join(d, 'config.json'), cfg)
        write_safetensors(os.path.join(d, 'model.safetensors'), net.state_dict(), {'format': 'pt'})
    print(f'wrote a random Kronos checkpoint to {folder}/model and {folder}/tokenizer')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', help='predictor folder (config.json + model.safetensors), or a folder with model/ and tokenizer/')
    p.add_argument('--tokenizer', help='tokenizer folder (default: CHECKPOINT/tokenizer)')
    p.add_argument('--out', help='output prefix, e.g. models/kronos-small')
    p.add_argument('--name', help='card name (default: basename of --out)')
    p.add_argument('--max-context', type=int, default=512, help='tokens the predictor sees (KronosPredictor max_context)')
    p.add_argument('--min-context', type=int, default=32)
    p.add_argument('--horizon', type=int, default=256)
    p.add_argument('--random-checkpoint', metavar='DIR', help='write a small random-weight checkpoint and exit')
    args = p.parse_args()
    if args.random_checkpoint:
        return random_checkpoint(args.random_checkpoint)
    if not args.checkpoint or not args.out:
        fail('--checkpoint DIR and --out PREFIX are required')
    if not os.path.isdir(args.checkpoint):
        fail(f'checkpoint folder {args.checkpoint} not found')
    export(args)


if __name__ == '__main__':
    run_main(main)
