"""PyTorch eager side of bench/forecast.ts: the shipped autoregressive model, rebuilt
from the weights inside its .onnx (initializer names are the PyTorch parameter names),
runs the same work as quantbook: a prefill of the context, then H - 1 cached steps of
N paths with temperature sampling, twice: with the cache tiled to every row (generateMs) and
with the context's cache shared by the rows as quantbook's graph does (generateSharedMs). Prints one JSON line of timings in ms.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from nets import ARNet  # noqa: E402


def load_from_onnx(card_path):
    card = json.load(open(card_path))
    arch = card['architecture']
    net = ARNet(vocab=card['tokenizer']['vocabSize'], d=arch['dModel'], layers=arch['layers'], heads=arch['heads'],
                kv_heads=arch['kvHeads'])
    model = onnx.load(os.path.join(os.path.dirname(card_path), card['file']))
    weights = {i.name[len('net.'):]: torch.from_numpy(numpy_helper.to_array(i).copy())
               for i in model.graph.initializer if i.name.startswith('net.')}
    net.load_state_dict(weights, strict=True)
    return net.eval(), card


def generate(net, ids, n, horizon, missing_token, shared=False):
    """Prefill [1, T], then horizon - 1 cached steps of n rows with sampling. The cache is tiled to
    every row (the usual PyTorch loop), or with shared=True the context's cache is shared by the
    rows (nets.Attention.forward_shared, the algorithm of quantbook's graph) and each step carries
    only the rows' own sampled keys/values."""
    h, ctx = net.hidden(ids)
    logits = net.head(h[:, -1]).expand(n, -1)
    if shared:
        past = [torch.zeros(n, c.shape[1], 0, c.shape[3], dtype=c.dtype) for c in ctx]
    else:
        past = [p.expand(n, -1, -1, -1).contiguous() for p in ctx]
    out = []
    for step in range(horizon):
        logits = logits.clone()
        logits[:, missing_token] = -float('inf')
        tok = torch.multinomial(torch.softmax(logits, dim=-1), 1)
        out.append(tok)
        if step == horizon - 1:
            break
        h, past = net.hidden_shared(tok, ctx, past) if shared else net.hidden(tok, past)
        logits = net.head(h[:, -1])
    return torch.cat(out, dim=1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--card', required=True)
    p.add_argument('--tokens', required=True, help='comma-separated context token ids')
    p.add_argument('--n', type=int, default=100)
    p.add_argument('--horizon', type=int, default=30)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net, card = load_from_onnx(args.card)
    ids = torch.tensor([[int(t) for t in args.tokens.split(',')]], dtype=torch.long)
    missing = card['tokenizer']['missingToken']
    with torch.no_grad():
        generate(net, ids, args.n, args.horizon, missing)  # warm-up
        generate(net, ids, args.n, args.horizon, missing, shared=True)  # warm-up
        prefill, total, shared = [], [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            net.head(net.hidden(ids)[0][:, -1])
            prefill.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            generate(net, ids, args.n, args.horizon, missing)
            total.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            generate(net, ids, args.n, args.horizon, missing, shared=True)
            shared.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'prefillMs': float(np.median(prefill)),
                      'generateMs': float(np.median(total)),
                      'generateSharedMs': float(np.median(shared))}))


if __name__ == '__main__':
    main()
