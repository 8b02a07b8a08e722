"""ONNX export, model cards and parity fixtures of the shipped models.

The exporter is torch 1.13's TorchScript-based one, opset 17. Constant folding is
off so that every initializer keeps its PyTorch parameter name: bench_torch.py
rebuilds the same network from the .onnx weights (onnxruntime folds the
transposes itself when it loads the graph).
"""
import os
import sys

import numpy as np
import onnx
import torch

# sha256, JSON and ONNX checks are the foundation-model export scripts' (models/export/common.py).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'export'))
from common import OPSET, floats, sha256, write_json  # noqa: E402
from common import check_onnx as check_graph  # noqa: E402
from data import MISSING_TOKEN, SCALE_FLOOR, TOKEN_BINS, VOCAB, bin_edges, log_returns, rms_scale, tokenize
from lean_graph import embedding_layer_norm, fused_qkv, lean_attention, skip_layer_norms
from nets import ARExportSharedContext, ARExportWithCache

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
    # Parity inputs: 24 real tokens of two validation series, then one more token each.
    r = log_returns(val[:2, -26:])
    prefill = torch.from_numpy(tokenize(r[:, :24], rms_scale(r[:, :24])))
    step = torch.from_numpy(tokenize(r[:, 24:], rms_scale(r[:, :24])))
    write_ar(net, prefill, step, out_dir, training, log)


def cache_names(layers):
    """(context, past, present) tensor names of the AR graph, key then value per layer."""
    parts = [f'{i}.{kind}' for i in range(layers) for kind in ('key', 'value')]
    return [f'context.{p}' for p in parts], [f'past_key_values.{p}' for p in parts], [f'present.{p}' for p in parts]


def ar_parity(net, prefill, step):
    """Parity fixture of the AR graph, reference outputs from the plain cached network (ARExportWithCache:
    one cache per row, the graph contract before the shared context): a prefill of two windows with an
    empty cache; one cached step of one row per window; and three rows per window (rows window-major)
    stepping twice more on their own tokens, each row its own past: the shared-context graph must give the
    same logits when it is fed the prefill's presents once as the context of each window."""
    plain = ARExportWithCache(net).eval()
    hd, kvh, layers = net.head_dim, net.kv_heads, net.n_layers
    empty = [torch.zeros(prefill.shape[0], kvh, 0, hd) for _ in range(2 * layers)]
    rows = 3
    g = torch.Generator().manual_seed(5)
    steps = torch.randint(0, VOCAB - 1, (2, prefill.shape[0] * rows, 1), generator=g)
    with torch.no_grad():
        out1 = plain(prefill, *empty)
        out2 = plain(step, *out1[1:])
        past = [p.repeat_interleave(rows, 0) for p in out1[1:]]
        for k in range(steps.shape[0]):
            out3 = plain(steps[k], *past)
            past = list(out3[1:])
    return {
        'model': AR_NAME, 'torch': torch.__version__,
        'prefill': {'input_ids': {'dims': list(prefill.shape), 'data': prefill.ravel().tolist()},
                    'logits': {'dims': list(out1[0].shape), 'data': floats(out1[0])},
                    'present.0.key': {'dims': list(out1[1].shape), 'data': floats(out1[1])}},
        'step': {'input_ids': {'dims': list(step.shape), 'data': step.ravel().tolist()},
                 'logits': {'dims': list(out2[0].shape), 'data': floats(out2[0])}},
        'rows': {'perWindow': rows,
                 'input_ids': {'dims': list(steps.shape), 'data': steps.ravel().tolist()},
                 'logits': {'dims': list(out3[0].shape), 'data': floats(out3[0])}},
    }


def write_ar_graph(net, onnx_path):
    """The AR graph with the shared context cache (ARExportSharedContext); returns the tensor specs of the card."""
    wrapper = ARExportSharedContext(net).eval()
    hd, kvh, layers = net.head_dim, net.kv_heads, net.n_layers
    ctx_names, past_names, present_names = cache_names(layers)
    dyn = {'input_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch'}}
    for n in ctx_names:
        dyn[n] = {0: 'windows', 2: 'context_sequence'}
    for n in past_names:
        dyn[n] = {0: 'batch', 2: 'past_sequence'}
    for n in present_names:
        dyn[n] = {0: 'batch', 2: 'total_sequence'}
    ids = torch.zeros(4, 2, dtype=torch.long)
    ctx = [torch.zeros(2, kvh, 5, hd) for _ in ctx_names]
    past = [torch.zeros(4, kvh, 3, hd) for _ in past_names]
    torch.onnx.export(wrapper, (ids, *ctx, *past), onnx_path, opset_version=OPSET,
                      input_names=['input_ids', *ctx_names, *past_names], output_names=['logits', *present_names],
                      dynamic_axes=dyn, do_constant_folding=False)
    # A prefill runs with an empty context (C = 0): a Reshape to [..., 0] must give a zero-size dimension,
    # not copy the input's (ONNX's default reading of 0). The exporter writes every target size out
    # (or -1, never next to a 0), so allowzero = 1 changes nothing else.
    model = onnx.load(onnx_path)
    for node in model.graph.node:
        if node.op_type == 'Reshape':
            kept = [a for a in node.attribute if a.name != 'allowzero']
            del node.attribute[:]
            node.attribute.extend(kept + [onnx.helper.make_attribute('allowzero', 1)])
    # The exporter's attention, rewritten with fewer nodes and passes (last-bit differences only, see lean_graph).
    if kvh == 1:
        model = lean_attention(model, layers, net.heads, kvh, hd)
        # q and kv as one MatMul and Add, the queries' scale in the weights (same bits, see lean_graph).
        model = fused_qkv(model, layers, net.heads, hd)
    # The residual sums' LayerNorms as onnxruntime's SkipLayerNormalization (float rounding only, see lean_graph).
    model = skip_layer_norms(model)
    # The embeddings' LayerNorm on the constant table, folded at load (same bits, see lean_graph).
    model = embedding_layer_norm(model)
    onnx.save(model, onnx_path)
    check_graph(onnx_path)
    return {
        'inputs': [{'name': 'input_ids', 'dtype': 'int64', 'shape': ['batch', 'sequence']}] +
                  [{'name': n, 'dtype': 'float32', 'shape': ['windows', kvh, 'context_sequence', hd]} for n in ctx_names] +
                  [{'name': n, 'dtype': 'float32', 'shape': ['batch', kvh, 'past_sequence', hd]} for n in past_names],
        'outputs': [{'name': 'logits', 'dtype': 'float32', 'shape': ['batch', VOCAB]}] +
                   [{'name': n, 'dtype': 'float32', 'shape': ['batch', kvh, 'total_sequence', hd]} for n in present_names],
        'kvCache': {'layers': layers, 'kvHeads': kvh, 'headDim': hd, 'sharedContext': True},
    }


def write_ar(net, prefill, step, out_dir, training, log):
    net.eval()
    onnx_path = os.path.join(out_dir, AR_NAME + '.onnx')
    tensors = write_ar_graph(net, onnx_path)
    kvh, layers = net.kv_heads, net.n_layers
    fixture = os.path.join(out_dir, 'fixtures', AR_NAME + '.parity.json')
    os.makedirs(os.path.dirname(fixture), exist_ok=True)
    write_json(fixture, ar_parity(net, prefill, step))
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
        'inputs': tensors['inputs'],
        'outputs': tensors['outputs'],
        'tokenizer': {'kind': 'scaledLogReturn', 'series': 'close', 'scaling': 'rms', 'scaleFloor': SCALE_FLOOR,
                      'binEdges': [round(float(e), 10) for e in edges], 'missingToken': MISSING_TOKEN,
                      'vocabSize': VOCAB},
        'kvCache': tensors['kvCache'],
        'sampling': {'temperature': 1.0, 'topK': 0, 'topP': 1.0},
        'architecture': {'dModel': net.d, 'layers': layers, 'heads': net.heads, 'kvHeads': kvh,
                         'positions': 'ALiBi', 'parameters': sum(p.numel() for p in net.parameters())},
        'training': training,
        'parityFixture': 'fixtures/' + AR_NAME + '.parity.json',
    }
    assert len(card['tokenizer']['binEdges']) == TOKEN_BINS + 1
    write_json(os.path.join(out_dir, AR_NAME + '.json'), card)
    log(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes) and its card')
