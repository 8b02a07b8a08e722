#!/usr/bin/env python3
"""Exports a Toto checkpoint (Datadog/Toto-Open-Base-1.0) to an ONNX graph and a quantbook model card.

Usage:
  python3 models/export/toto.py --checkpoint DIR --out PREFIX [--name NAME] [--max-context 512]
      [--min-context 64] [--horizon 256]
  python3 models/export/toto.py --random-checkpoint DIR   # small random-weight checkpoint (tests)

DIR is the folder as published on Hugging Face (Datadog/Toto-Open-Base-1.0: config.json +
model.safetensors). Writes PREFIX.json (card), PREFIX.onnx and PREFIX.parity.json (inputs and
PyTorch outputs, plus a mixture-mean path).

The graph: `context` float32 [batch, time] (already scaled, time a multiple of patch_size) ->
the Student-T mixture of each of the patch_size steps after the context: `weights` (softmax of
the mixture logits), `df`, `loc`, `scale`, each float32 [batch, patch_size, K]. Scaling
(CausalPatchStdMeanScaler), left padding, sampling and the autoregression over patches run in
TypeScript (src/forecast/families/toto.ts).

The definitions below are written for quantbook from the authors' public code, DataDog/toto at
commit e8522f2d83b2512ee37b169bc42aeeec3cedd2d5: toto/model/backbone.py (TotoBackbone: scaler,
patch_embed, transformer, unembed Linear(D, D*patch) rearranged '(patch_size embed_dim)',
output_distribution), transformer.py (TransformerLayer: pre-norm RMSNorm, attention, SwiGLU mlp;
Transformer: rotary_emb = TimeAwareRotaryEmbedding(head_dim, use_xpos=True), layer types from
spacewise_every_n_layers/spacewise_first), attention.py (wQKV split '(qkv head_dim n_heads)',
causal time-wise attention with xPos RoPE, space-wise attention across variates without RoPE,
wO); and, read from the same repository through the code index (file commits not shown there):
model/rope.py (get_scale: power = (t - max(t) // 2) / scale_base, scale cat'ed, not interleaved),
model/distribution.py (MixtureOfStudentTsOutput: df = 2 + softplus, scale = softplus, both
clamped at float32 eps; softmax mixture weights), model/scaler.py (CausalPatchStdMeanScaler,
Welford, Bessel, minimum_scale 0.1 added to the variance, global clamp), model/util.py (RMSNorm:
parameter `scale`, eps 1e-8), model/feed_forward.py (SwiGLU: gate, x = chunk(2); silu(gate) * x),
model/embedding.py (PatchEmbedding.projection Linear(patch_size, D)); and lucidrains
rotary-embedding-torch (RotaryEmbedding: freqs 1/theta^(2i/d) repeated interleaved, rotate_half
interleaved, xpos scale buffer (arange(0, d, 2) + 0.4 d) / (1.4 d), scale_base 512).

State-dict layout: the published file holds the Toto wrapper's names, `model.` + TotoBackbone's,
with the xFormers fused SwiGLU names `mlp.0.w12.*` and `mlp.0.w3.*` (Toto's own loader,
toto/model/toto.py `_map_state_dict_keys`, maps them to the plain `mlp.0.*`/`mlp.2.*` when xFormers
is missing). This script defines the fused layout (as published) and accepts the plain one, with
or without the `model.` prefix; `transformer.rotary_emb.freqs` (non-persistent in Toto) is dropped
as Toto's loader does. Attention is written out (torch 1.13 has no scaled_dot_product_attention).
quantbook feeds one variate, so the space-wise layers attend over one element (their output is the
value projection, as softmax over one score is 1).
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
from common import (CARD_SCHEMA, OPSET, fail, floats, load_strict, need_keys, read_config, read_weights,  # noqa: E402
                    run_main, sha256, tensor_spec, write_json, write_safetensors)

CONFIG_KEYS = ['embed_dim', 'num_heads', 'num_layers', 'mlp_hidden_dim', 'patch_size', 'stride',
               'spacewise_every_n_layers', 'output_distribution_kwargs']
NORM_EPS = 1e-8
MIN_SCALE = 0.1
PRICE_LEVEL = 100.0
XPOS_SCALE_BASE = 512
F32_EPS = float(torch.finfo(torch.float32).eps)
SOURCE_COMMIT = 'e8522f2d83b2512ee37b169bc42aeeec3cedd2d5'


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x / torch.sqrt(torch.mean(x * x, dim=-1, keepdim=True) + NORM_EPS) * self.scale


class FusedSwiGLU(nn.Module):
    """xFormers SwiGLU names: w12 Linear(D, 2 hidden), w3 Linear(hidden, D); silu(first half) * second half."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x):
        gate, val = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(gate) * val)


class Rotary(nn.Module):
    """TimeAwareRotaryEmbedding(head_dim, use_xpos=True): only `scale` is persistent."""

    def __init__(self, dim, theta=10000.0):
        super().__init__()
        self.register_buffer('freqs', 1.0 / (theta ** (torch.arange(0, dim, 2)[:dim // 2].float() / dim)), persistent=False)
        self.register_buffer('scale', (torch.arange(0, dim, 2) + 0.4 * dim) / (1.4 * dim))

    def forward(self, q, k):
        # q, k: [N, H, S, hd]
        S = q.shape[-2]
        t = torch.arange(S, dtype=torch.float32)
        f = t[:, None] * self.freqs[None, :]
        f = torch.stack((f, f), dim=-1).reshape(S, -1)  # repeat '... n -> ... (n r)', r=2
        power = (t - torch.div(t[-1], 2, rounding_mode='floor')) / XPOS_SCALE_BASE
        sc = self.scale[None, :] ** power[:, None]
        sc = torch.cat((sc, sc), dim=-1)
        cos, sin = f.cos(), f.sin()
        return (q * cos + _rotate_half(q) * sin) * sc, (k * cos + _rotate_half(k) * sin) / sc


def _rotate_half(x):
    pairs = x.reshape(*x.shape[:-1], -1, 2)
    return torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).reshape(x.shape)


class Attention(nn.Module):
    def __init__(self, dim, heads, time_wise):
        super().__init__()
        self.heads, self.hd, self.time_wise = heads, dim // heads, time_wise
        self.wQKV = nn.Linear(dim, 3 * dim)
        self.wO = nn.Linear(dim, dim)

    def forward(self, x, rotary):
        # x: [N, S, D] (one variate: batch x variate = batch)
        n, s, d = x.shape
        qkv = self.wQKV(x).reshape(n, s, 3, self.hd, self.heads)  # '(qkv head_dim n_heads)'
        if not self.time_wise:
            # Space-wise attention over one variate: softmax of one score is 1, the output is v.
            v = qkv[:, :, 2].permute(0, 1, 3, 2).reshape(n, s, d)  # '(n_heads head_dim)'
            return self.wO(v)
        q, k, v = (qkv[:, :, i].permute(0, 3, 1, 2) for i in range(3))  # [N, H, S, hd]
        q, k = rotary(q, k)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        mask = torch.ones(s, s, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float('-inf'))
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.wO(out.permute(0, 2, 1, 3).reshape(n, s, d))


class Layer(nn.Module):
    def __init__(self, dim, heads, hidden, time_wise):
        super().__init__()
        self.norm1 = RMSNorm(dim)
        self.norm2 = RMSNorm(dim)
        self.attention = Attention(dim, heads, time_wise)
        self.mlp = nn.Sequential(FusedSwiGLU(dim, hidden), nn.Dropout(0.0))

    def forward(self, x, rotary):
        x = x + self.attention(self.norm1(x), rotary)
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, H = cfg['embed_dim'], cfg['num_heads']
        self.rotary_emb = Rotary(D // H)
        self.layers = nn.ModuleList([Layer(D, H, cfg['mlp_hidden_dim'], t) for t in layer_types(cfg)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x, self.rotary_emb)
        return x


def layer_types(cfg):
    """True for time-wise layers (Transformer._get_layer_types)."""
    n, every = cfg['num_layers'], cfg['spacewise_every_n_layers']
    if every == -1:
        return [True] * n
    if n % every:
        fail(f'num_layers {n} is not a multiple of spacewise_every_n_layers {every}')
    block = [True] * (every - 1)
    block = [False] + block if cfg.get('spacewise_first', True) else block + [False]
    return block * (n // every)


class PatchEmbedding(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.projection = nn.Linear(patch, dim)


class MixtureOfStudentTs(nn.Module):
    def __init__(self, dim, k):
        super().__init__()
        self.df = nn.Linear(dim, k)
        self.loc_proj = nn.Linear(dim, k)
        self.scale_proj = nn.Linear(dim, k)
        self.mixture_weights = nn.Linear(dim, k)

    def forward(self, h):
        df = 2.0 + F.softplus(self.df(h)).clamp_min(F32_EPS)
        scale = F.softplus(self.scale_proj(h)).clamp_min(F32_EPS)
        return torch.softmax(self.mixture_weights(h), dim=-1), df, self.loc_proj(h), scale


class TotoBackbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, P = cfg['embed_dim'], cfg['patch_size']
        self.patch, self.dim = P, D
        self.patch_embed = PatchEmbedding(P, D)
        self.transformer = Transformer(cfg)
        self.unembed = nn.Linear(D, D * P)
        self.output_distribution = MixtureOfStudentTs(D, cfg['output_distribution_kwargs']['k_components'])

    def forward(self, context):
        """context [B, T] scaled, T % patch == 0 -> mixture of the patch after it: 4 x [B, patch, K]."""
        b = context.shape[0]
        x = self.patch_embed.projection(context.reshape(b, -1, self.patch))
        x = self.transformer(x)
        last = self.unembed(x[:, -1]).reshape(b, self.patch, self.dim)  # '(patch_size embed_dim)'
        return self.output_distribution(last)


class Toto(nn.Module):
    """The published wrapper: its state dict is `model.` + TotoBackbone's."""

    def __init__(self, cfg):
        super().__init__()
        self.model = TotoBackbone(cfg)

    def forward(self, context):
        return self.model(context)


def check_config(cfg, folder):
    need_keys(cfg, CONFIG_KEYS, folder)
    if cfg['stride'] != cfg['patch_size']:
        fail(f'{folder}: stride {cfg["stride"]} != patch_size {cfg["patch_size"]}; Toto forecasts with stride = patch_size')
    if 'k_components' not in cfg['output_distribution_kwargs']:
        fail(f'{folder}: output_distribution_kwargs lacks k_components (the Student-T mixture size)')
    kinds = cfg.get('output_distribution_classes', ['MixtureOfStudentTsOutput'])
    if not any('MixtureOfStudentTsOutput' in str(c) for c in kinds):
        fail(f'{folder}: output_distribution_classes {kinds}: only MixtureOfStudentTsOutput is supported')
    if cfg['embed_dim'] % cfg['num_heads']:
        fail(f'{folder}: embed_dim is not a multiple of num_heads')
    return cfg


def remap(state):
    """Published names (prefix `model.`, fused SwiGLU) from either layout; drops the non-persistent RoPE freqs."""
    out = {}
    for k, v in state.items():
        if k.endswith('rotary_emb.freqs'):
            continue
        if not k.startswith('model.'):
            k = 'model.' + k
        k = k.replace('.mlp.0.weight', '.mlp.0.w12.weight').replace('.mlp.0.bias', '.mlp.0.w12.bias')
        k = k.replace('.mlp.2.weight', '.mlp.0.w3.weight').replace('.mlp.2.bias', '.mlp.0.w3.bias')
        out[k] = v.float() if v.is_floating_point() else v
    return out


def load_checkpoint(folder):
    cfg = check_config(read_config(folder, 'Toto checkpoint'), folder)
    model = Toto(cfg).eval()
    state = remap(read_weights(folder))
    own = model.state_dict()
    # The xPos scale buffer is a formula of head_dim: filled when a checkpoint leaves it out, checked when present.
    key = 'model.transformer.rotary_emb.scale'
    if key not in state:
        state[key] = own[key]
    elif not torch.allclose(state[key], own[key], atol=1e-6):
        fail(f'{folder}: {key} differs from the xPos formula (arange(0, d, 2) + 0.4 d) / (1.4 d)')
    load_strict(model, state, what=f'the weights in {folder}')
    return model, cfg


def scale_series(x, observed, patch, prefix_length):
    """CausalPatchStdMeanScaler (stabilize_with_global, Bessel, minimum_scale 0.1) on one series, float64.

    Returns (scaled, loc, scale) per step; loc and scale are those of the last step of each patch.
    """
    x = np.asarray(x, dtype=np.float64)
    w = observed.astype(np.float64)
    cw = np.cumsum(w)
    den = np.maximum(cw, 1.0)
    mean = np.cumsum(w * x) / den
    shifted = np.concatenate([[0.0], mean[:-1]])
    m2 = np.cumsum((x - shifted) * (x - mean) * w)
    scale = np.sqrt(m2 / np.maximum(den - 1.0, 1.0) + MIN_SCALE)
    wp = w.copy()
    wp[prefix_length:] = 0
    gden = max(wp.sum(), 1.0)
    gmean = (wp * x).sum() / gden
    gscale = math.sqrt((((x - gmean) * wp) ** 2).sum() / gden + MIN_SCALE)
    scale = np.clip(scale, max(MIN_SCALE, gscale * 1e-10), gscale * 1e10)
    T = len(x)
    last = np.arange(patch - 1, T, patch)
    loc_p = np.repeat(mean[last], patch)
    scale_p = np.repeat(scale[last], patch)
    return (x - loc_p) / scale_p, loc_p, scale_p


def mean_path(model, series, patch, horizon, max_context):
    """The autoregression with each patch set to its mixture mean (sum_k w_k loc_k, df > 2) in place of draws.

    As quantbook runs it: the window is first divided by its last close and multiplied by PRICE_LEVEL
    (and the path mapped back), so that the scaler's variance floor means the same in any price unit.
    """
    unit = series[-1] / PRICE_LEVEL
    x = list(series[-max_context:] / unit)
    pad = (-len(x)) % patch
    vals = [0.0] * pad + x
    obs = np.array([False] * pad + [True] * len(x))
    prefix = len(vals)
    out = []
    while len(out) < horizon:
        scaled, loc, scale = scale_series(vals, obs, patch, prefix)
        with torch.no_grad():
            w, _, mu, _ = model(torch.tensor(scaled, dtype=torch.float32)[None])
        m = (w[0] * mu[0]).sum(-1).double().numpy() * scale[-1] + loc[-1]
        vals += list(m)
        obs = np.concatenate([obs, np.ones(patch, dtype=bool)])
        out += list(m)
    return np.array(out[:horizon]) * unit


def export(args):
    model, cfg = load_checkpoint(args.checkpoint)
    P, K = cfg['patch_size'], cfg['output_distribution_kwargs']['k_components']
    if args.max_context % P or args.min_context > args.max_context:
        fail(f'--max-context must be a multiple of patch_size {P} and at least --min-context')
    prefix = os.path.abspath(args.out)
    name = args.name or os.path.basename(prefix)
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    onnx_path = prefix + '.onnx'
    g = torch.Generator().manual_seed(0)
    example = torch.randn(2, 3 * P, generator=g)
    outs = ['weights', 'df', 'loc', 'scale']
    with torch.no_grad():
        torch.onnx.export(model, (example,), onnx_path, opset_version=OPSET, input_names=['context'], output_names=outs,
                          dynamic_axes={'context': {0: 'batch', 1: 'time'}, **{o: {0: 'batch'} for o in outs}})
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))
    parity = write_parity(model, cfg, prefix, name, args.max_context)
    card = {
        'schema': CARD_SCHEMA,
        'name': name,
        'description': f'Toto (DataDog/toto) exported from {os.path.basename(os.path.normpath(args.checkpoint))}: scaled '
                       'closes in patches -> Student-T mixture of the next patch, sampled in TypeScript, patch by patch',
        'family': 'toto',
        'file': os.path.basename(onnx_path),
        'sha256': sha256(onnx_path),
        'opset': OPSET,
        'contextLength': args.max_context,
        'minContext': args.min_context,
        'horizon': args.horizon,
        'inputs': [tensor_spec('context', 'float32', ['batch', 'time'])],
        'outputs': [tensor_spec(o, 'float32', ['batch', P, K]) for o in outs],
        'patchSize': P,
        'mixtureComponents': K,
        'scaling': {'kind': 'causalPatchStdMean', 'minimumScale': MIN_SCALE, 'besselCorrection': True,
                    'stabilizeWithGlobal': True, 'scaleFactorExponent': float(cfg.get('scale_factor_exponent', 10.0)),
                    'description': 'CausalPatchStdMeanScaler: the context is left-padded with unobserved zeros to a '
                                   'multiple of patchSize; running (Welford) mean and Bessel-corrected variance over '
                                   'observed steps, scale = sqrt(variance + 0.1), clamped to the global scale of the '
                                   'original context times 10^(+-exponent); every step of a patch is scaled with the '
                                   'statistics at its last step. Applied in TypeScript; a draw is mapped back with the '
                                   'last patch\'s loc and scale.'},
        'priceLevel': {'kind': 'lastClose', 'level': PRICE_LEVEL,
                       'description': 'quantbook only (Toto feeds raw values): each window is divided by its last '
                                      'observed close and multiplied by 100 before the scaler, and paths are mapped '
                                      'back, so that the variance floor 0.1 of the scaler means the same in any price '
                                      'unit (a close of 0.0027 would otherwise get a scale of 0.32, 100 times itself).'},
        'architecture': {**{k: cfg[k] for k in CONFIG_KEYS}, 'spacewise_first': cfg.get('spacewise_first', True),
                         'parameters': sum(p.numel() for p in model.parameters())},
        'source': {'repository': 'DataDog/toto', 'commit': SOURCE_COMMIT,
                   'files': ['toto/model/backbone.py', 'toto/model/transformer.py', 'toto/model/attention.py',
                             'toto/model/rope.py', 'toto/model/distribution.py', 'toto/model/scaler.py',
                             'toto/model/util.py', 'toto/model/embedding.py', 'toto/model/feed_forward.py'],
                   'layout': 'published (model. prefix, fused SwiGLU mlp.0.w12/mlp.0.w3); plain mlp.0/mlp.2 accepted'},
        'parityFixture': os.path.relpath(parity, os.path.dirname(prefix)),
    }
    write_json(prefix + '.json', card)
    print(f'wrote {prefix}.json, {onnx_path} ({os.path.getsize(onnx_path)} bytes) and {parity}')


def write_parity(model, cfg, prefix, name, max_context):
    """Recorded inputs and PyTorch outputs: a raw close series, its scaling, the mixture, a mixture-mean path."""
    P = cfg['patch_size']
    rng = np.random.default_rng(3)
    L, H = 3 * P + P // 2 + 1, 2 * P + 3
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, L)))
    pad = (-L) % P
    vals = np.concatenate([np.zeros(pad), close])
    obs = np.array([False] * pad + [True] * L)
    scaled, loc, scale = scale_series(vals, obs, P, len(vals))
    with torch.no_grad():
        w, df, mu, sc = model(torch.tensor(scaled, dtype=torch.float32)[None])
    path = mean_path(model, close, P, H, max_context)
    out = prefix + '.parity.json'
    write_json(out, {
        'model': name, 'torch': torch.__version__, 'patchSize': P, 'maxContext': max_context,
        'close': floats(close), 'padded': pad, 'scaled': floats(scaled), 'loc': floats(loc), 'scale': floats(scale),
        'mixture': {'dims': list(w.shape), 'weights': floats(w), 'df': floats(df), 'loc': floats(mu), 'scale': floats(sc)},
        'meanPath': {'horizon': H, 'close': floats(path)},
    })
    return out


def random_checkpoint(folder):
    """A small random-weight checkpoint in the published layout: config.json + model.safetensors."""
    torch.manual_seed(17)
    cfg = {'patch_size': 4, 'stride': 4, 'embed_dim': 16, 'num_layers': 3, 'num_heads': 2, 'mlp_hidden_dim': 24,
           'dropout': 0.1, 'spacewise_every_n_layers': 3, 'spacewise_first': True,
           'scaler_cls': "<class 'model.scaler.CausalPatchStdMeanScaler'>",
           'output_distribution_classes': ["<class 'model.distribution.MixtureOfStudentTsOutput'>"],
           'output_distribution_kwargs': {'k_components': 3}, 'use_memory_efficient_attention': True,
           'stabilize_with_global': True, 'scale_factor_exponent': 10.0}
    net = Toto(cfg)
    with torch.no_grad():
        for pname, p in net.named_parameters():
            if pname.endswith('.scale') and 'norm' in pname:
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif p.dim() == 2:
                p.copy_(torch.randn_like(p) * 0.7 / math.sqrt(p.shape[-1]))
            else:
                p.copy_(0.05 * torch.randn_like(p))
        # Tame the heads so that sampled paths stay near the context's level over many patches (df ~ 6,
        # scale ~ 0.2 of the context's scale): random heads give df near 2 and paths that explode.
        head = net.model.output_distribution
        head.df.bias.fill_(4.0)
        head.scale_proj.bias.fill_(-1.5)
        for lin in (head.df, head.scale_proj, head.loc_proj):
            lin.weight.mul_(0.2)
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, 'config.json'), cfg)
    write_safetensors(os.path.join(folder, 'model.safetensors'), net.state_dict(), {'format': 'pt'})
    print(f'wrote a random Toto checkpoint to {folder}')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', help='folder with config.json + model.safetensors (Datadog/Toto-Open-Base-1.0)')
    p.add_argument('--out', help='output prefix, e.g. models/toto-base')
    p.add_argument('--name', help='card name (default: basename of --out)')
    p.add_argument('--max-context', type=int, default=None, help='closes the model sees (multiple of patch_size; default 8 patches)')
    p.add_argument('--min-context', type=int, default=None, help='fewest observed closes (default one patch)')
    p.add_argument('--horizon', type=int, default=256)
    p.add_argument('--random-checkpoint', metavar='DIR', help='write a small random-weight checkpoint and exit')
    args = p.parse_args()
    if args.random_checkpoint:
        return random_checkpoint(args.random_checkpoint)
    if not args.checkpoint or not args.out:
        fail('--checkpoint DIR and --out PREFIX are required')
    if not os.path.isdir(args.checkpoint):
        fail(f'checkpoint folder {args.checkpoint} not found')
    P = read_config(args.checkpoint, 'Toto checkpoint').get('patch_size', 64)
    args.max_context = args.max_context or 8 * P
    args.min_context = args.min_context or P
    export(args)


if __name__ == '__main__':
    run_main(main)
