"""Re-exports the shipped qb-ar-s graph from its own weights (no retraining) with the graph contract of
export.write_ar_graph (the context's cache shared by each window's rows), rewrites its parity fixture on
the fixture's own input ids, and updates the card's file hash, tensors and kvCache, keeping everything
else in the card (training, evaluation). Checks first, in PyTorch, that the shared-context network gives
the plain cached network's logits on the fixture's runs.

usage: /usr/bin/python3 models/train/reexport_ar.py [--card models/qb-ar-s.json]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_torch import load_from_onnx  # noqa: E402
from export import ar_parity, cache_names, sha256, write_ar_graph, write_json  # noqa: E402
from nets import ARExportSharedContext  # noqa: E402


def check_shared(net, fx):
    """Max |logit difference| of the shared-context network against the fixture's plain-cache logits."""
    shared = ARExportSharedContext(net).eval()
    hd, kvh, layers = net.head_dim, net.kv_heads, net.n_layers
    prefill = torch.tensor(fx['prefill']['input_ids']['data']).view(fx['prefill']['input_ids']['dims'])
    b = prefill.shape[0]
    rows = fx['rows']['perWindow']
    steps = torch.tensor(fx['rows']['input_ids']['data']).view(fx['rows']['input_ids']['dims'])
    empty = lambda n: [torch.zeros(n, kvh, 0, hd) for _ in range(2 * layers)]  # noqa: E731
    with torch.no_grad():
        out1 = shared(prefill, *empty(b), *empty(b))
        step = torch.tensor(fx['step']['input_ids']['data']).view(fx['step']['input_ids']['dims'])
        out2 = shared(step, *out1[1:], *empty(b))
        past = empty(b * rows)
        for k in range(steps.shape[0]):
            out3 = shared(steps[k], *out1[1:], *past)
            past = list(out3[1:])
    diff = lambda t, ref: (t.ravel() - torch.tensor(ref['data'])).abs().max().item()  # noqa: E731
    return max(diff(out1[0], fx['prefill']['logits']), diff(out2[0], fx['step']['logits']), diff(out3[0], fx['rows']['logits']))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--card', default=os.path.join(os.path.dirname(__file__), '..', 'qb-ar-s.json'))
    args = p.parse_args()
    out_dir = os.path.dirname(os.path.abspath(args.card))
    net, card = load_from_onnx(args.card)
    fixture_path = os.path.join(out_dir, card['parityFixture'])
    old = json.load(open(fixture_path))
    prefill = torch.tensor(old['prefill']['input_ids']['data']).view(old['prefill']['input_ids']['dims'])
    step = torch.tensor(old['step']['input_ids']['data']).view(old['step']['input_ids']['dims'])
    fx = ar_parity(net, prefill, step)
    err = check_shared(net, fx)
    print(f'shared-context network vs plain cache, max |logit difference|: {err:.3g}')
    if not err < 1e-4:
        raise SystemExit('the shared-context network does not reproduce the plain one: not exported')
    onnx_path = os.path.join(out_dir, card['file'])
    tensors = write_ar_graph(net, onnx_path)
    assert [t['name'] for t in tensors['inputs'][1:]] == [n for names in cache_names(net.n_layers)[:2] for n in names]
    card.update(sha256=sha256(onnx_path), inputs=tensors['inputs'], outputs=tensors['outputs'], kvCache=tensors['kvCache'])
    write_json(fixture_path, fx)
    write_json(args.card, card)
    print(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {fixture_path} and {args.card}')


if __name__ == '__main__':
    main()
