"""Training data: series dumped by scripts/dump-training-series.ts (the project's own
generator, and the recorded real bars of ../shared/data/real without the held-out symbols),
and the return tokenizer (the same arithmetic as src/forecast/tokenizer.ts)."""
import json
import os

import numpy as np
import torch

# Tokenizer of the autoregressive model: scaled one-bar log returns in uniform bins.
# An odd bin count puts a bin centre at exactly 0 (flat bars are common in thin markets).
TOKEN_BINS = 255
TOKEN_LOW, TOKEN_HIGH = -8.0, 8.0
MISSING_TOKEN = TOKEN_BINS
VOCAB = TOKEN_BINS + 1
SCALE_FLOOR = 1e-8


def bin_edges():
    return np.linspace(TOKEN_LOW, TOKEN_HIGH, TOKEN_BINS + 1)


def load_series(path):
    """Returns (closes float64 [S, T], meta dict written beside the .npy by dump-series.ts)."""
    closes = np.load(path)
    meta_path = os.path.splitext(path)[0] + '.json'
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {'source': path}
    return closes, meta


def load_real(path, meta):
    """The real series written beside the synthetic .npy: a list of (name, closes, train_bars).
    Training windows lie inside closes[:train_bars]; the rest is validation."""
    real_path = os.path.splitext(path)[0] + '_real.npy'
    if 'real' not in meta or not os.path.exists(real_path):
        return []
    flat = np.load(real_path)
    return [(p['symbol'], flat[p['offset']:p['offset'] + p['length']], p['trainBars']) for p in meta['real']['series']]


def split_series(closes, val_share=0.1):
    n_val = max(1, int(round(len(closes) * val_share)))
    return closes[:-n_val], closes[-n_val:]


def log_returns(closes):
    with np.errstate(divide='ignore', invalid='ignore'):
        r = np.log(closes[..., 1:] / closes[..., :-1])
    return np.where(np.isfinite(r), r, np.nan)


def rms_scale(returns):
    """RMS of the observed returns of each row; the floor keeps flat windows finite."""
    obs = np.isfinite(returns)
    sq = np.where(obs, returns, 0.0) ** 2
    n = np.maximum(obs.sum(-1, keepdims=True), 1)
    return np.maximum(np.sqrt(sq.sum(-1, keepdims=True) / n), SCALE_FLOOR)


def tokenize(returns, scale):
    z = returns / scale
    width = (TOKEN_HIGH - TOKEN_LOW) / TOKEN_BINS
    ids = np.clip(np.floor((z - TOKEN_LOW) / width), 0, TOKEN_BINS - 1)
    ids = np.where(np.isfinite(z), ids, MISSING_TOKEN)
    return ids.astype(np.int64)


class Batches:
    """Random windows of the training series, in the shapes each family trains on."""

    def __init__(self, closes, seed):
        self.closes = closes
        self.rng = np.random.default_rng(seed)

    def windows(self, batch, length, tail=None):
        s = self.rng.integers(0, self.closes.shape[0], batch)
        t = self.rng.integers(0, self.closes.shape[1] - length + 1, batch)
        return np.stack([self.closes[i, j:j + length] for i, j in zip(s, t)])

    def ar_batch(self, batch, tokens, scale_tokens, missing_rate=0.005):
        w = self.windows(batch, tokens + 1, tokens + 1 - scale_tokens)
        r = log_returns(w)
        r[self.rng.random(r.shape) < missing_rate] = np.nan
        ids = tokenize(r, rms_scale(r[:, :scale_tokens]))
        return torch.from_numpy(ids)

    def quantile_batch(self, batch, context, horizon, min_context):
        w = self.windows(batch, context + horizon, horizon)
        ctx, fut = w[:, :context].copy(), w[:, context:]
        for b in range(batch):
            if self.rng.random() < 0.3:  # shorter histories arrive left-padded with NaN
                ctx[b, :context - self.rng.integers(min_context, context + 1)] = np.nan
            if self.rng.random() < 0.2:  # holes
                ctx[b, self.rng.random(context) < 0.01] = np.nan
        return torch.from_numpy(ctx.astype(np.float32)), torch.from_numpy(fut.astype(np.float32))


class MixedBatches(Batches):
    """Windows drawn from the synthetic series or, with probability real_share, from the
    training part of a real series (chosen in proportion to its training bars). With
    validation=True, real windows end inside the validation part (their context may reach
    back into the training part, as a forecast origin's history does)."""

    def __init__(self, closes, real, seed, real_share, validation=False):
        super().__init__(closes, seed)
        self.real, self.real_share, self.validation = real, real_share if real else 0.0, validation

    def _real_window(self, length, tail):
        lens = np.array([len(c) - t if self.validation else t for _, c, t in self.real], dtype=np.float64)
        ok = lens >= (tail if self.validation else length)
        p = np.where(ok, lens, 0.0)
        i = self.rng.choice(len(self.real), p=p / p.sum())
        _, c, t = self.real[i]
        if self.validation:
            # the last `tail` values (what is scored) start inside the validation part
            end = self.rng.integers(max(t + tail, length), len(c) + 1)
        else:
            end = self.rng.integers(length, t + 1)
        return c[end - length:end]

    def windows(self, batch, length, tail=None):
        out = np.empty((batch, length)) if self.real_share >= 1 else super().windows(batch, length)
        if self.real_share > 0:
            for b in range(batch):
                if self.rng.random() < self.real_share:
                    out[b] = self._real_window(length, tail or length)
        return out
