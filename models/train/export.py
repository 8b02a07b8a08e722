"""ONNX export, model cards and parity fixtures of the shipped models.

The exporter is torch 1.13's TorchScript-based one, opset 17. Constant folding is
off so that every initializer keeps its PyTorch parameter name: bench_torch.py
rebuilds the same network from the .onnx weights (onnxruntime folds the
transposes itself when it loads the graph).
"""
import os
import sys

import numpy as np
import torch

# sha256, JSON and ONNX checks are the foundation-model export scripts' (models/export/common.py).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'export'))
from common import OPSET, floats, sha256, write_json  # noqa: E402
from common import check_onnx as check_graph  # noqa: E402
from data import MISSING_TOKEN, SCALE_FLOOR, TOKEN_BINS, VOCAB, bin_edges, log_returns, rms_scale, tokenize
from nets import ARExportWithCache

QUANTILE_NAME = 'qb-quantile-s'
AR_NAME = 'qb-ar-s'


def export_quantile(net, val, out_dir, training, log):
    net.eval()
    onnx_path = os.path.join(out_dir, QUANTILE_NAME + '.onnx')
    dummy = torch.from_numpy(val[:2, :512].astype(np.float32))
    torch.onnx.export(net, (dummy,), onnx_path, opset_version=OPSET, input_names=['context'],
                      output_names=['quantiles'], dynamic_axes={'context': {0: 'batch'}, 'quantiles': {0: 'batch'}},
                      do_constant_folding=False)
    check_graph(onnx_path)
    # Parity inputs: a full window, a left-padded short one, one with holes, a flat one.
    ctx = val[:4, -600:-88].astype(np.float32).copy()
    ctx[1, :400] = np.nan
    ctx[2, ::37] = np.nan
    ctx[3, :] = ctx[3, -1]
    with torch.no_grad():
        out = net(torch.from_numpy(ctx)).numpy()
    fixture = os.path.join(out_dir, 'fixtures', QUANTILE_NAME + '.parity.json')
    os.makedirs(os.path.dirname(fixture), exist_ok=True)
    write_json(fixture, {'model': QUANTILE_NAME, 'torch': torch.__version__,
                         'inputs': {'context': {'dims': list(ctx.shape), 'data': floats(ctx)}},
                         'outputs': {'quantiles': {'dims': list(out.shape), 'data': floats(out)}}})
    card = {
        'schema': 'quantbook.model-card/1',
        'name': QUANTILE_NAME,
        'description': 'Small patch transformer (Chronos-Bolt style) giving 9 quantiles of the next 32 closes',
        'family': 'quantile',
        'file': QUANTILE_NAME + '.onnx',
        'sha256': sha256(onnx_path),
        'opset': OPSET,
        'contextLength': 512,
        'minContext': 64,
        'horizon': 32,
        'quantileLevels': net.levels,
        'inputs': [{'name': 'context', 'dtype': 'float32', 'shape': ['batch', 512]}],
        'outputs': [{'name': 'quantiles', 'dtype': 'float32', 'shape': ['batch', len(net.levels), 32]}],
        'scaling': {'kind': 'inGraph', 'description': 'log price minus the last observed log price, divided by the '
                    'RMS of the observed one-bar log returns; outputs are prices (last * exp(scale * z)). '
                    'Context values must be positive; NaN marks missing bars; shorter windows are left-padded with NaN.'},
        'architecture': {'patch': 16, 'dModel': 64, 'layers': 2, 'heads': 4,
                         'parameters': sum(p.numel() for p in net.parameters())},
        'training': training,
        'parityFixture': 'fixtures/' + QUANTILE_NAME + '.parity.json',
    }
    write_json(os.path.join(out_dir, QUANTILE_NAME + '.json'), card)
    log(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes) and its card')


def export_ar(net, val, out_dir, training, log):
    net.eval()
    wrapper = ARExportWithCache(net).eval()
    onnx_path = os.path.join(out_dir, AR_NAME + '.onnx')
    hd, kvh, layers = net.head_dim, net.kv_heads, net.n_layers
    past_names, present_names, dyn = [], [], {'input_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch'}}
    for i in range(layers):
        for kind in ('key', 'value'):
            past_names.append(f'past_key_values.{i}.{kind}')
            present_names.append(f'present.{i}.{kind}')
            dyn[past_names[-1]] = {0: 'batch', 2: 'past_sequence'}
            dyn[present_names[-1]] = {0: 'batch', 2: 'total_sequence'}
    ids = torch.zeros(2, 4, dtype=torch.long)
    past = [torch.zeros(2, kvh, 3, hd) for _ in past_names]
    torch.onnx.export(wrapper, (ids, *past), onnx_path, opset_version=OPSET,
                      input_names=['input_ids', *past_names], output_names=['logits', *present_names],
                      dynamic_axes=dyn, do_constant_folding=False)
    check_graph(onnx_path)
    # Parity: a prefill of 24 real tokens with an empty cache, then one cached step.
    r = log_returns(val[:2, -26:])
    prefill = torch.from_numpy(tokenize(r[:, :24], rms_scale(r[:, :24])))
    step = torch.from_numpy(tokenize(r[:, 24:], rms_scale(r[:, :24])))
    empty = [torch.zeros(2, kvh, 0, hd) for _ in past_names]
    with torch.no_grad():
        out1 = wrapper(prefill, *empty)
        out2 = wrapper(step, *out1[1:])
    fixture = os.path.join(out_dir, 'fixtures', AR_NAME + '.parity.json')
    os.makedirs(os.path.dirname(fixture), exist_ok=True)
    write_json(fixture, {
        'model': AR_NAME, 'torch': torch.__version__,
        'prefill': {'input_ids': {'dims': list(prefill.shape), 'data': prefill.ravel().tolist()},
                    'logits': {'dims': list(out1[0].shape), 'data': floats(out1[0])},
                    'present.0.key': {'dims': list(out1[1].shape), 'data': floats(out1[1])}},
        'step': {'input_ids': {'dims': list(step.shape), 'data': step.ravel().tolist()},
                 'logits': {'dims': list(out2[0].shape), 'data': floats(out2[0])}},
    })
    edges = bin_edges()
    card = {
        'schema': 'quantbook.model-card/1',
        'name': AR_NAME,
        'description': 'Small decoder-only transformer over tokenized one-bar log returns of closes '
                       '(ALiBi, one key/value head); paths are sampled in TypeScript',
        'family': 'autoregressive',
        'file': AR_NAME + '.onnx',
        'sha256': sha256(onnx_path),
        'opset': OPSET,
        'contextLength': 512,
        'minContext': 65,
        'horizon': 64,
        'inputs': [{'name': 'input_ids', 'dtype': 'int64', 'shape': ['batch', 'sequence']}] +
                  [{'name': n, 'dtype': 'float32', 'shape': ['batch', kvh, 'past_sequence', hd]} for n in past_names],
        'outputs': [{'name': 'logits', 'dtype': 'float32', 'shape': ['batch', VOCAB]}] +
                   [{'name': n, 'dtype': 'float32', 'shape': ['batch', kvh, 'total_sequence', hd]}
                    for n in present_names],
        'tokenizer': {'kind': 'scaledLogReturn', 'series': 'close', 'scaling': 'rms', 'scaleFloor': SCALE_FLOOR,
                      'binEdges': [round(float(e), 10) for e in edges], 'missingToken': MISSING_TOKEN,
                      'vocabSize': VOCAB},
        'kvCache': {'layers': layers, 'kvHeads': kvh, 'headDim': hd},
        'sampling': {'temperature': 1.0, 'topK': 0, 'topP': 1.0},
        'architecture': {'dModel': net.d, 'layers': layers, 'heads': net.heads, 'kvHeads': kvh,
                         'positions': 'ALiBi', 'parameters': sum(p.numel() for p in net.parameters())},
        'training': training,
        'parityFixture': 'fixtures/' + AR_NAME + '.parity.json',
    }
    assert len(card['tokenizer']['binEdges']) == TOKEN_BINS + 1
    write_json(os.path.join(out_dir, AR_NAME + '.json'), card)
    log(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes) and its card')
