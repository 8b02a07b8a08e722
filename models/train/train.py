"""Trains the shipped models on generated series, exports ONNX, writes cards and parity fixtures.

Run through `npm run models:train` (which first dumps the series with dump-series.ts).
Debian's python3-torch 1.13 on CPU, one thread by default: on the shared 2-core machine
two threads ran a quantile step in 1.54 s against 0.07 s for one (OpenMP threads waiting
on each other while the other engineers' processes hold the cores).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import Batches, MixedBatches, VOCAB, load_real, load_series, log_returns, rms_scale, split_series, tokenize  # noqa: E402
from export import export_ar, export_quantile  # noqa: E402
from nets import ARNet, QuantileNet  # noqa: E402



def cosine_lr(step, steps, base, warmup=100):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def pinball(pred, target, levels):
    # pred [B, Q, H], target [B, H]; 2 * |(y - q)(1{q >= y} - tau)| as in REFERENCES.md
    # Missing future bars (NaN in real series) are left out of the mean, never filled.
    tau = torch.tensor(levels, dtype=pred.dtype).view(1, -1, 1)
    seen = torch.isfinite(target).unsqueeze(1).expand_as(pred)
    y = torch.where(torch.isfinite(target), target, torch.zeros_like(target)).unsqueeze(1)
    diff = y - pred
    loss = 2 * torch.abs(diff * ((pred >= y).to(pred.dtype) - tau))
    return loss[seen].mean()


def load_onnx_weights(net, path, prefix=''):
    """Warm start: the initializers of a shipped .onnx carry the PyTorch parameter names."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    weights = {i.name[len(prefix):]: torch.from_numpy(numpy_helper.to_array(i).copy())
               for i in model.graph.initializer if i.name.startswith(prefix)}
    net.load_state_dict(weights, strict=True)


def optimise(net, steps, lr, step_loss, log_every, name, log, checkpoint=None):
    """AdamW with warm-up and cosine decay, gradient clipping at 1; returns (EMA loss, history).
    Every log_every steps the weights go to `checkpoint` (if given), so a run cut short keeps them."""
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    t0, ema, history = time.time(), None, []
    for step in range(steps):
        for g in opt.param_groups:
            g['lr'] = cosine_lr(step, steps, lr)
        loss = step_loss()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % log_every == 0 or step == steps - 1:
            history.append({'step': step, 'loss': round(ema, 5)})
            log(f'{name} step {step} loss {ema:.4f} ({time.time() - t0:.0f} s)')
            if checkpoint:
                torch.save(net.state_dict(), checkpoint)
    return ema, history


def scaled_target(net, ctx, fut):
    z, observed, last, scale = net.scale_context(ctx)
    target = ((torch.log(fut) - last) / scale).clamp(-50.0, 50.0)
    return z, observed, target


def train_quantile(train, val, real, args, log):
    torch.manual_seed(args.seed)
    net = QuantileNet(context=512, horizon=32)
    if args.init_from:
        load_onnx_weights(net, os.path.join(args.init_from, 'qb-quantile-s.onnx'))
        log('quantile: warm start from ' + args.init_from)
    batches = MixedBatches(train, real, args.seed, args.real_share)

    def step_loss():
        ctx, fut = batches.quantile_batch(args.batch, 512, 32, 64)
        z, observed, target = scaled_target(net, ctx, fut)
        return pinball(net.forward_scaled(z, observed), target, net.levels)

    t0 = time.time()
    ema, history = optimise(net, args.quantile_steps, args.lr, step_loss, 100, 'quantile', log,
                            os.path.join(args.out, 'qb-quantile-s.ckpt.pt'))
    net.eval()
    with torch.no_grad():
        vb = Batches(val, args.seed + 1)
        ctx, fut = vb.quantile_batch(1024, 512, 32, 64)
        z, observed, target = scaled_target(net, ctx, fut)
        model_loss = pinball(net.forward_scaled(z, observed), target, net.levels).item()
        # random walk in scaled units: z_q * sqrt(h) (the scale is the RMS one-bar return)
        normal = torch.distributions.Normal(0.0, 1.0)
        zq = normal.icdf(torch.tensor(net.levels)).view(1, -1, 1)
        naive = zq * torch.sqrt(torch.arange(1, 33, dtype=torch.float32)).view(1, 1, -1)
        naive_loss = pinball(naive.expand(len(ctx), -1, -1), target, net.levels).item()
        validation = {'windows': 1024, 'meanScaledQuantileLoss': round(model_loss, 5),
                      'randomWalkNormalQuantileLoss': round(naive_loss, 5),
                      'lossRatioToRandomWalk': round(model_loss / naive_loss, 4)}
        if real:
            rb = MixedBatches(None, real, args.seed + 5, 1.0, validation=True)
            ctx, fut = rb.quantile_batch(1024, 512, 32, 64)
            z, observed, target = scaled_target(net, ctx, fut)
            real_loss = pinball(net.forward_scaled(z, observed), target, net.levels).item()
            real_naive = pinball(naive.expand(len(ctx), -1, -1), target, net.levels).item()
            validation['realValidationPart'] = {'windows': 1024, 'meanScaledQuantileLoss': round(real_loss, 5),
                                                'randomWalkNormalQuantileLoss': round(real_naive, 5),
                                                'lossRatioToRandomWalk': round(real_loss / real_naive, 4)}
            log(f'quantile real validation: model {real_loss:.4f} vs random-walk normal {real_naive:.4f}')
    stats = {'steps': args.quantile_steps, 'batch': args.batch, 'lr': args.lr, 'realShare': args.real_share,
             'warmStart': args.init_from_note, 'seconds': round(time.time() - t0),
             'lossHistory': history, 'finalTrainLoss': round(ema, 5), 'validation': validation}
    log(f'quantile validation: model {model_loss:.4f} vs random-walk normal {naive_loss:.4f}')
    return net, stats


def train_ar(train, val, real, args, log):
    torch.manual_seed(args.seed)
    net = ARNet(vocab=VOCAB)
    if args.init_from:
        load_onnx_weights(net, os.path.join(args.init_from, 'qb-ar-s.onnx'), 'net.')
        log('ar: warm start from ' + args.init_from)
    batches = MixedBatches(train, real, args.seed + 2, args.real_share)
    ce = torch.nn.CrossEntropyLoss()

    def step_loss():
        ids = batches.ar_batch(args.ar_batch, args.ar_tokens, args.ar_tokens - 64)
        return ce(net(ids[:, :-1]).reshape(-1, VOCAB), ids[:, 1:].reshape(-1))

    t0 = time.time()
    ema, history = optimise(net, args.ar_steps, args.lr, step_loss, 50, 'ar', log,
                            os.path.join(args.out, 'qb-ar-s.ckpt.pt'))
    net.eval()
    with torch.no_grad():
        vb = Batches(val, args.seed + 3)
        ids = vb.ar_batch(64, args.ar_tokens, args.ar_tokens - 64, missing_rate=0.0)
        model_ce = ce(net(ids[:, :-1]).reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).item()
        # unigram baseline: token frequencies of the training series
        r = log_returns(train[:, -1025:])
        counts = np.bincount(tokenize(r, rms_scale(r)).ravel(), minlength=VOCAB) + 1.0
        logp = torch.log(torch.tensor(counts / counts.sum(), dtype=torch.float32))
        unigram_ce = -logp[ids[:, 1:].reshape(-1)].mean().item()
        validation = {'sequences': 64, 'crossEntropyNatsPerToken': round(model_ce, 5),
                      'unigramCrossEntropy': round(unigram_ce, 5)}
        if real:
            rb = MixedBatches(None, real, args.seed + 6, 1.0, validation=True)
            ids = rb.ar_batch(64, args.ar_tokens, args.ar_tokens - 64, missing_rate=0.0)
            real_ce = ce(net(ids[:, :-1]).reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).item()
            real_uni = -logp[ids[:, 1:].reshape(-1)].mean().item()
            validation['realValidationPart'] = {'sequences': 64, 'crossEntropyNatsPerToken': round(real_ce, 5),
                                                'unigramCrossEntropy': round(real_uni, 5)}
            log(f'ar real validation: cross-entropy {real_ce:.4f} vs unigram {real_uni:.4f} nats/token')
    stats = {'steps': args.ar_steps, 'batch': args.ar_batch, 'tokensPerSequence': args.ar_tokens, 'lr': args.lr,
             'realShare': args.real_share, 'warmStart': args.init_from_note,
             'seconds': round(time.time() - t0), 'lossHistory': history, 'finalTrainLoss': round(ema, 5),
             'validation': validation}
    log(f'ar validation: cross-entropy {model_ce:.4f} vs unigram {unigram_ce:.4f} nats/token')
    return net, stats


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--series', required=True, help='.npy of closes [S, T] written by dump-series.ts')
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..'))
    p.add_argument('--family', choices=['quantile', 'autoregressive', 'both'], default='both')
    p.add_argument('--quantile-steps', type=int, default=3000)
    p.add_argument('--ar-steps', type=int, default=1500)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--ar-batch', type=int, default=16)
    p.add_argument('--ar-tokens', type=int, default=256)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--real-share', type=float, default=0.5, help='share of training windows drawn from real bars')
    p.add_argument('--init-from', default=None, help='folder of earlier .onnx exports to warm-start from')
    p.add_argument('--init-note', default=None, help='what the warm start was (written into the card)')
    args = p.parse_args()
    args.init_from_note = args.init_note or args.init_from
    torch.set_num_threads(args.threads)
    closes, meta = load_series(args.series)
    train, val = split_series(closes)
    real = load_real(args.series, meta)
    # Settings of each series stay in the .json beside the .npy; the card keeps the seed and ranges.
    generator = {k: v for k, v in meta.items() if k not in ('perSeries', 'real')}
    data_info = {'generator': generator, 'real': meta.get('real'), 'series': int(closes.shape[0]), 'barsPerSeries': int(closes.shape[1]),
                 'trainSeries': int(len(train)), 'validationSeries': int(len(val))}

    def log(msg):
        print(msg, flush=True)

    log(f'series {closes.shape}, torch {torch.__version__}, threads {torch.get_num_threads()}')
    if args.family in ('quantile', 'both'):
        net, stats = train_quantile(train, val, real, args, log)
        export_quantile(net, val, args.out, {'data': data_info, **stats}, log)
    if args.family in ('autoregressive', 'both'):
        net, stats = train_ar(train, val, real, args, log)
        export_ar(net, val, args.out, {'data': data_info, **stats}, log)


if __name__ == '__main__':
    main()
