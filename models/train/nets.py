"""The two shipped network architectures (PyTorch 1.13, exported to ONNX).

quantile: Chronos-Bolt style. Context prices [B, L] (NaN = missing) are turned
  inside the graph into log prices relative to the last observed value, scaled
  by the RMS of the observed one-bar log returns; patches of 16 (values + mask)
  go through a small transformer encoder; a head emits Q x H quantiles of the
  scaled future log price, sorted along Q so they never cross, and mapped back
  to prices: price = last * exp(scale * z).

autoregressive: a decoder-only transformer over tokens of scaled one-bar log
  returns (the tokenizer lives in TypeScript and in data.py). ALiBi positions
  (no learned table, so any length works and KV-cache steps need no position
  input), grouped-query attention with one key/value head so the cache that
  crosses onnxruntime's boundary each step is small. The exported graph returns
  the logits of the next token only, plus present keys/values.
"""
import math

import torch
from torch import nn


def alibi_slopes(n_heads: int) -> torch.Tensor:
    # Press et al. 2022: geometric slopes 2^(-8 i / n).
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / n_heads) for i in range(n_heads)])


class Attention(nn.Module):
    def __init__(self, d: int, n_heads: int, kv_heads: int, causal_alibi: bool):
        super().__init__()
        self.n_heads, self.kv_heads, self.head_dim = n_heads, kv_heads, d // n_heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * kv_heads * self.head_dim)
        self.o = nn.Linear(d, d)
        self.causal_alibi = causal_alibi
        if causal_alibi:
            self.register_buffer('slopes', alibi_slopes(n_heads).view(1, n_heads, 1, 1), persistent=False)

    def forward(self, x, past_k=None, past_v=None):
        b, t, d = x.shape
        hd = self.head_dim
        q = self.q(x).view(b, t, self.n_heads, hd).transpose(1, 2)
        kv = self.kv(x).view(b, t, 2, self.kv_heads, hd)
        k = kv[:, :, 0].transpose(1, 2)
        v = kv[:, :, 1].transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        # Grouped-query attention: each key/value head serves g query heads, by broadcasting
        # [B, kvH, g, T, hd] against [B, kvH, 1, S, hd] (no copy of the cache).
        g = self.n_heads // self.kv_heads
        qg = q.reshape(b, self.kv_heads, g, t, hd)
        scores = torch.matmul(qg, k.unsqueeze(2).transpose(-1, -2)).reshape(b, self.n_heads, t, -1)
        scores = scores / math.sqrt(hd)
        if self.causal_alibi:
            s_len = k.shape[2]
            k_pos = torch.arange(s_len, device=x.device)
            q_pos = k_pos[s_len - t:]
            rel = (q_pos.view(-1, 1) - k_pos.view(1, -1)).to(scores.dtype)
            bias = -self.slopes * rel.clamp(min=0.0)
            scores = scores + bias
            scores = scores.masked_fill(rel.view(1, 1, t, s_len) < 0, -1e9)
        att = torch.softmax(scores, dim=-1)
        y = torch.matmul(att.reshape(b, self.kv_heads, g, t, -1), v.unsqueeze(2)).reshape(b, self.n_heads, t, hd)
        y = y.transpose(1, 2).reshape(b, t, d)
        return self.o(y), k, v

    def forward_shared(self, x, ctx_k, ctx_v, past_k, past_v):
        """The same attention with the cache in two parts: the context's keys/values ctx_k/v
        [W, kvH, C, hd], shared by the B / W consecutive rows of each window (not tiled per row),
        and each row's own keys/values past_k/v [B, kvH, P, hd] of the tokens after the context.
        Positions: context keys 0..C-1, then the row's own P + t. Returns (out, k, v) with k, v
        [B, kvH, P + t, hd] (the row part only). With C = 0 this is forward(x, past_k, past_v)."""
        b, t, d = x.shape
        hd, kvh, nh = self.head_dim, self.kv_heads, self.n_heads
        g = nh // kvh
        w = ctx_k.shape[0]
        c = ctx_k.shape[2]
        r = b // w
        q = self.q(x).view(b, t, nh, hd).transpose(1, 2)
        kv = self.kv(x).view(b, t, 2, kvh, hd)
        k = torch.cat([past_k, kv[:, :, 0].transpose(1, 2)], dim=2)
        v = torch.cat([past_v, kv[:, :, 1].transpose(1, 2)], dim=2)
        s = k.shape[2]
        # Context part: one matmul per (window, kv head) over all its rows' queries.
        qc = q.reshape(w, r, kvh, g * t, hd).transpose(1, 2).reshape(w, kvh, r * g * t, hd)
        sc = torch.matmul(qc, ctx_k.transpose(-1, -2)).reshape(w, kvh, r, g * t, c).transpose(1, 2).reshape(b, nh, t, c)
        sg = torch.matmul(q.reshape(b, kvh, g * t, hd), k.transpose(-1, -2)).reshape(b, nh, t, s)
        scores = torch.cat([sc, sg], dim=3) / math.sqrt(hd)
        k_pos = torch.arange(c + s, device=x.device)
        q_pos = k_pos[c + s - t:]
        rel = (q_pos.view(-1, 1) - k_pos.view(1, -1)).to(scores.dtype)
        scores = scores + (-self.slopes * rel.clamp(min=0.0))
        scores = scores.masked_fill(rel.view(1, 1, t, c + s) < 0, -1e9)
        att = torch.softmax(scores, dim=-1)
        ac = att[:, :, :, :c].reshape(w, r, kvh, g * t, c).transpose(1, 2).reshape(w, kvh, r * g * t, c)
        yc = torch.matmul(ac, ctx_v).reshape(w, kvh, r, g * t, hd).transpose(1, 2).reshape(b, kvh, g * t, hd)
        yg = torch.matmul(att[:, :, :, c:].reshape(b, kvh, g * t, s), v)
        y = (yc + yg).reshape(b, nh, t, hd).transpose(1, 2).reshape(b, t, d)
        return self.o(y), k, v


class Block(nn.Module):
    def __init__(self, d: int, n_heads: int, kv_heads: int, causal_alibi: bool, mlp_mult: int = 4):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, n_heads, kv_heads, causal_alibi)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, mlp_mult * d), nn.GELU(), nn.Linear(mlp_mult * d, d))

    def forward(self, x, past_k=None, past_v=None):
        a, k, v = self.attn(self.ln1(x), past_k, past_v)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return x, k, v

    def forward_shared(self, x, ctx_k, ctx_v, past_k, past_v):
        a, k, v = self.attn.forward_shared(self.ln1(x), ctx_k, ctx_v, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return x, k, v


class QuantileNet(nn.Module):
    def __init__(self, context=512, patch=16, horizon=32, levels=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                 d=64, layers=2, heads=4):
        super().__init__()
        assert context % patch == 0
        self.context, self.patch, self.horizon = context, patch, horizon
        self.levels = list(levels)
        n_patches = context // patch
        self.embed = nn.Sequential(nn.Linear(2 * patch, d), nn.GELU(), nn.Linear(d, d))
        self.pos = nn.Parameter(torch.zeros(1, n_patches, d))
        self.blocks = nn.ModuleList([Block(d, heads, heads, False) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Sequential(nn.Linear(2 * d, 4 * d), nn.GELU(), nn.Linear(4 * d, horizon * len(self.levels)))
        nn.init.normal_(self.pos, std=0.02)

    @staticmethod
    def scale_context(ctx: torch.Tensor):
        """Returns (z [B, L], observed [B, L] float, last log price [B, 1], scale [B, 1])."""
        missing = torch.isnan(ctx)
        observed = (~missing).to(ctx.dtype)
        logp = torch.log(torch.where(missing, torch.ones_like(ctx), ctx))
        pos = torch.arange(ctx.shape[1], device=ctx.device).to(ctx.dtype).view(1, -1)
        last_idx = torch.argmax(torch.where(missing, -torch.ones_like(ctx), pos.expand_as(ctx)), dim=1, keepdim=True)
        last = torch.gather(logp, 1, last_idx)
        both = observed[:, 1:] * observed[:, :-1]
        d = (logp[:, 1:] - logp[:, :-1]) * both
        scale = torch.sqrt((d * d).sum(1, keepdim=True) / both.sum(1, keepdim=True).clamp(min=1.0)).clamp(min=1e-6)
        z = ((logp - last) / scale * observed).clamp(-50.0, 50.0)
        return z, observed, last, scale

    def forward_scaled(self, z, observed):
        b = z.shape[0]
        p = self.patch
        patches = torch.cat([z.view(b, -1, p), observed.view(b, -1, p)], dim=2)
        h = self.embed(patches) + self.pos
        for blk in self.blocks:
            h, _, _ = blk(h)
        h = self.norm(h)
        feat = torch.cat([h[:, -1], h.mean(1)], dim=1)
        out = self.head(feat).view(b, len(self.levels), self.horizon)
        out, _ = torch.sort(out, dim=1)
        return out

    def forward(self, ctx):
        z, observed, last, scale = self.scale_context(ctx)
        out = self.forward_scaled(z, observed)
        return torch.exp(last.unsqueeze(1) + scale.unsqueeze(1) * out)


class ARNet(nn.Module):
    def __init__(self, vocab=256, d=64, layers=3, heads=4, kv_heads=1):
        super().__init__()
        self.vocab, self.d, self.n_layers, self.heads, self.kv_heads = vocab, d, layers, heads, kv_heads
        self.head_dim = d // heads
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([Block(d, heads, kv_heads, True) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def hidden(self, ids, past=None):
        x = self.embed(ids)
        presents = []
        for i, blk in enumerate(self.blocks):
            pk, pv = (past[2 * i], past[2 * i + 1]) if past is not None else (None, None)
            x, k, v = blk(x, pk, pv)
            presents += [k, v]
        return self.norm(x), presents

    def hidden_shared(self, ids, ctx, past):
        """hidden() with the context's cache shared by windows (see Attention.forward_shared):
        ctx and past are lists of 2 * layers tensors (key, value per layer)."""
        x = self.embed(ids)
        presents = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk.forward_shared(x, ctx[2 * i], ctx[2 * i + 1], past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return self.norm(x), presents

    def forward(self, ids):
        """Training: logits at every position [B, T, V]."""
        h, _ = self.hidden(ids)
        return self.head(h)


class ARExportWithCache(nn.Module):
    """Graph contract: (input_ids, past_key_values.{i}.key/value...) -> (logits [B, V], present.{i}.key/value...)."""

    def __init__(self, net: ARNet):
        super().__init__()
        self.net = net

    def forward(self, input_ids, *past):
        h, presents = self.net.hidden(input_ids, list(past))
        return (self.net.head(h[:, -1]), *presents)


class ARExportSharedContext(nn.Module):
    """Graph contract: (input_ids [B, t], context.{i}.key/value [W, kvH, C, hd], past_key_values.{i}.key/value
    [B, kvH, P, hd]) -> (logits [B, V], present.{i}.key/value [B, kvH, P + t, hd]); rows are window-major,
    B / W per window. A prefill is a run with C = 0 and P = 0 (its presents become the context cache);
    then each step feeds one token per row and only the row's own generated keys/values cross the boundary."""

    def __init__(self, net: ARNet):
        super().__init__()
        self.net = net

    def forward(self, input_ids, *caches):
        n = len(caches) // 2
        h, presents = self.net.hidden_shared(input_ids, list(caches[:n]), list(caches[n:]))
        return (self.net.head(h[:, -1]), *presents)
