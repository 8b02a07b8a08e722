"""Builds small random-weight Chronos-Bolt and Chronos checkpoints in the layout their
authors publish on Hugging Face, for the export and parity tests.

    python3 models/export/testdata/make_chronos_checkpoints.py --out tests/forecast/fixtures/fm/checkpoints

Writes OUT/chronos-bolt-rand/{config.json, model.safetensors} and
OUT/chronos-t5-rand/{config.json, pytorch_model.bin}.

The parameter names are enumerated here from transformers' T5 naming and the Chronos-Bolt
module names (not taken from the export scripts' modules), so a loader that drifted from
the published names fails the strict load. config.json carries the same keys as the
published amazon/chronos-bolt-* and amazon/chronos-t5-* configs, with tiny sizes
(d_model 16) so every file stays well under 1 MB.

Fixture choices that keep random weights usable end to end, both legal configs: the
Bolt output layer's bias increases with the quantile level (so quantiles do not cross);
the Chronos tokenizer limits are 0.8..1.2 (published: -15..15), so every token decodes to
a positive price near the context's mean level.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import common  # noqa: E402

D, DFF, DKV, HEADS, LAYERS = 16, 32, 8, 2, 2


def t5_stack_names(prefix, layers, decoder, gated=False):
    """(name, shape) of a transformers T5Stack's parameters."""
    inner = HEADS * DKV
    out = []
    for i in range(layers):
        b = f'{prefix}.block.{i}.layer'
        for p in ('q', 'k', 'v'):
            out.append((f'{b}.0.SelfAttention.{p}.weight', (inner, D)))
        out.append((f'{b}.0.SelfAttention.o.weight', (D, inner)))
        if i == 0:
            out.append((f'{b}.0.SelfAttention.relative_attention_bias.weight', (32, HEADS)))
        out.append((f'{b}.0.layer_norm.weight', (D,)))
        ff = 1
        if decoder:
            for p in ('q', 'k', 'v'):
                out.append((f'{b}.1.EncDecAttention.{p}.weight', (inner, D)))
            out.append((f'{b}.1.EncDecAttention.o.weight', (D, inner)))
            out.append((f'{b}.1.layer_norm.weight', (D,)))
            ff = 2
        if gated:
            out.append((f'{b}.{ff}.DenseReluDense.wi_0.weight', (DFF, D)))
            out.append((f'{b}.{ff}.DenseReluDense.wi_1.weight', (DFF, D)))
        else:
            out.append((f'{b}.{ff}.DenseReluDense.wi.weight', (DFF, D)))
        out.append((f'{b}.{ff}.DenseReluDense.wo.weight', (D, DFF)))
        out.append((f'{b}.{ff}.layer_norm.weight', (D,)))
    out.append((f'{prefix}.final_layer_norm.weight', (D,)))
    return out


def random_state(names, rng):
    state = {}
    for name, shape in names:
        if name.endswith('layer_norm.weight'):
            state[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        elif name.endswith('.bias'):
            state[name] = (0.05 * rng.standard_normal(shape)).astype(np.float32)
        else:
            fan_in = shape[-1] if len(shape) > 1 else 1
            state[name] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
    return state


def t5_config(extra):
    base = {
        'd_ff': DFF, 'd_kv': DKV, 'd_model': D, 'decoder_start_token_id': 0, 'dense_act_fn': 'relu',
        'dropout_rate': 0.1, 'eos_token_id': 1, 'feed_forward_proj': 'relu', 'initializer_factor': 0.05,
        'is_encoder_decoder': True, 'is_gated_act': False, 'layer_norm_epsilon': 1e-06, 'model_type': 't5',
        'n_positions': 512, 'num_decoder_layers': LAYERS, 'num_heads': HEADS, 'num_layers': LAYERS,
        'pad_token_id': 0, 'relative_attention_max_distance': 128, 'relative_attention_num_buckets': 32,
        'torch_dtype': 'float32', 'transformers_version': '4.39.3', 'use_cache': True,
    }
    base.update(extra)
    return base


def bolt(out, rng):
    folder = os.path.join(out, 'chronos-bolt-rand')
    os.makedirs(folder, exist_ok=True)
    quantiles = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    ps, pred = 16, 64
    cfg = t5_config({
        'architectures': ['ChronosBoltModelForForecasting'],
        'chronos_config': {'context_length': 2048, 'input_patch_size': ps, 'input_patch_stride': ps,
                           'prediction_length': pred, 'quantiles': quantiles, 'use_reg_token': True},
        'chronos_pipeline_class': 'ChronosBoltPipeline', 'reg_token_id': 1, 'vocab_size': 2,
    })
    names = [('shared.weight', (2, D))]
    names += t5_stack_names('encoder', LAYERS, False) + t5_stack_names('decoder', LAYERS, True)
    for blk, i, o in (('input_patch_embedding', 2 * ps, D), ('output_patch_embedding', D, len(quantiles) * pred)):
        names += [(f'{blk}.hidden_layer.weight', (DFF, i)), (f'{blk}.hidden_layer.bias', (DFF,)),
                  (f'{blk}.output_layer.weight', (o, DFF)), (f'{blk}.output_layer.bias', (o,)),
                  (f'{blk}.residual_layer.weight', (o, i)), (f'{blk}.residual_layer.bias', (o,))]
    state = random_state(names, rng)
    # Quantiles that increase with the level: a level offset in the output bias, small weights.
    for k in ('output_layer', 'residual_layer'):
        state[f'output_patch_embedding.{k}.weight'] *= 0.02
    offsets = (np.array(quantiles, dtype=np.float32) - 0.5)[:, None] * np.ones((1, pred), dtype=np.float32)
    state['output_patch_embedding.output_layer.bias'] = (2.0 * offsets).ravel()
    state['output_patch_embedding.residual_layer.bias'] = np.zeros(len(quantiles) * pred, dtype=np.float32)
    common.write_safetensors(os.path.join(folder, 'model.safetensors'), state)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    return folder


def chronos_t5(out, rng):
    folder = os.path.join(out, 'chronos-t5-rand')
    os.makedirs(folder, exist_ok=True)
    n_tokens = 4096
    cfg = t5_config({
        'architectures': ['T5ForConditionalGeneration'],
        'chronos_config': {'context_length': 512, 'eos_token_id': 1, 'model_type': 'seq2seq', 'n_special_tokens': 2,
                           'n_tokens': n_tokens, 'num_samples': 20, 'pad_token_id': 0, 'prediction_length': 64,
                           'temperature': 1.0, 'tokenizer_class': 'MeanScaleUniformBins',
                           'tokenizer_kwargs': {'high_limit': 1.2, 'low_limit': 0.8}, 'top_k': 50, 'top_p': 1.0,
                           'use_eos_token': True},
        'vocab_size': n_tokens,
    })
    names = [('shared.weight', (n_tokens, D))]
    names += t5_stack_names('encoder', LAYERS, False) + t5_stack_names('decoder', LAYERS, True)
    state = {k: torch.from_numpy(v) for k, v in random_state(names, rng).items()}
    # transformers' state_dict() of a tied T5ForConditionalGeneration lists the shared tensor under
    # four names; torch.save stores it once.
    for alias in ('encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'):
        state[alias] = state['shared.weight']
    torch.save(state, os.path.join(folder, 'pytorch_model.bin'))
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    return folder


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=21)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    for folder in (bolt(args.out, rng), chronos_t5(args.out, rng)):
        sizes = ', '.join(f'{f} {os.path.getsize(os.path.join(folder, f))} bytes' for f in sorted(os.listdir(folder)))
        print(f'{folder}: {sizes}')


if __name__ == '__main__':
    main()
