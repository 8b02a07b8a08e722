"""Exports a Chronos-Bolt checkpoint (amazon/chronos-bolt-{tiny,mini,small,base} on Hugging
Face) to ONNX with a quantbook model card of family `chronos-bolt`.

    python3 models/export/chronos_bolt.py --checkpoint DIR --out models/chronos-bolt-small [--name NAME] [--context N]

DIR holds config.json and model.safetensors (or pytorch_model.bin), as published.

The network is written here from the authors' code, not imported: matched against
amazon-science/chronos-forecasting src/chronos/chronos_bolt.py at commit
bb8ec56d3b0c8c7ecc8f0779a3d2f2ea403c5d1f (ChronosBoltModelForForecasting: InstanceNorm,
Patch, ResidualBlock input/output_patch_embedding, optional [REG] token, T5 encoder and a
one-token T5 decoder, quantiles [B, Q, prediction_length] unscaled by loc/scale), and
transformers' T5 parameter names (see t5.py). The state dict loads by name with
strict=True; `lm_head.weight` is ignored as the authors' loader ignores it, and the tied
`encoder/decoder.embed_tokens.weight` come from `shared.weight` when absent.

Graph: context float32 [batch, time] (raw values, NaN = missing, left-padded with NaN;
`time` a multiple of the patch size, at most the card's context length) -> quantiles
float32 [batch, Q, prediction_length] in the units of the context. The instance
normalisation (mean / standard deviation of the observed values) runs inside the graph.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FAMILY = 'chronos-bolt'
SOURCE = {'repository': 'amazon-science/chronos-forecasting', 'file': 'src/chronos/chronos_bolt.py',
          'commit': 'bb8ec56d3b0c8c7ecc8f0779a3d2f2ea403c5d1f',
          't5': 'huggingface/transformers src/transformers/models/t5/modeling_t5.py (parameter names)'}


def build(config):
    import torch
    import torch.nn as nn
    from t5 import T5Cfg, T5Stack, act_fn

    cc = common.need_key(config, 'chronos_config')
    for k in ('context_length', 'prediction_length', 'input_patch_size', 'input_patch_stride', 'quantiles'):
        common.need_key(config, k, where='chronos_config')
    if cc['input_patch_stride'] != cc['input_patch_size']:
        raise common.ExportError('input_patch_stride differs from input_patch_size: overlapping patches are not supported '
                                 '(every published Chronos-Bolt uses stride = size)')
    use_reg = bool(cc.get('use_reg_token', False))
    t5cfg = T5Cfg({**config, 'vocab_size': 2 if use_reg else 1})
    dense_act = config.get('dense_act_fn') or t5cfg.act

    class ResidualBlock(nn.Module):
        def __init__(self, in_dim, h_dim, out_dim):
            super().__init__()
            self.hidden_layer = nn.Linear(in_dim, h_dim)
            self.act = act_fn(dense_act)
            self.output_layer = nn.Linear(h_dim, out_dim)
            self.residual_layer = nn.Linear(in_dim, out_dim)

        def forward(self, x):
            return self.output_layer(self.act(self.hidden_layer(x))) + self.residual_layer(x)

    class ChronosBolt(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_size = cc['input_patch_size']
            self.pred = cc['prediction_length']
            self.q = len(cc['quantiles'])
            self.use_reg = use_reg
            self.reg_id = 1
            self.start_id = config.get('decoder_start_token_id', 0)
            self.shared = nn.Embedding(t5cfg.vocab_size, t5cfg.d_model)
            self.input_patch_embedding = ResidualBlock(2 * self.patch_size, t5cfg.d_ff, t5cfg.d_model)
            self.encoder = T5Stack(t5cfg, self.shared, is_decoder=False)
            self.decoder = T5Stack(t5cfg, self.shared, is_decoder=True)
            self.output_patch_embedding = ResidualBlock(t5cfg.d_model, t5cfg.d_ff, self.q * self.pred)

        def forward(self, context):
            b = context.shape[0]
            observed = ~torch.isnan(context)
            obs = observed.to(torch.float32)
            zero = torch.zeros_like(context)
            count = obs.sum(-1, keepdim=True)
            # InstanceNorm: loc = nanmean (0 when nothing observed), scale = sqrt(nanmean((x - loc)^2)) (1 when
            # nothing observed, 1e-5 when 0).
            loc = torch.where(observed, context, zero).sum(-1, keepdim=True) / count
            loc = torch.where(torch.isnan(loc), torch.zeros_like(loc), loc)
            dev = torch.where(observed, (context - loc) ** 2, zero).sum(-1, keepdim=True) / count
            scale = torch.sqrt(dev)
            scale = torch.where(torch.isnan(scale), torch.ones_like(scale), scale)
            scale = torch.where(scale == 0, torch.full_like(scale, 1e-5), scale)
            x = (context - loc) / scale
            # Patch (stride = size; the caller left-pads time to a multiple of the patch size with NaN).
            px = x.reshape(b, -1, self.patch_size)
            pm = obs.reshape(b, -1, self.patch_size)
            px = torch.where(pm > 0, px, torch.zeros_like(px))
            attn = pm.sum(-1) > 0
            emb = self.input_patch_embedding(torch.cat([px, pm], dim=-1))
            if self.use_reg:
                reg = self.shared(torch.full_like(attn[:, :1], self.reg_id, dtype=torch.long))
                emb = torch.cat([emb, reg], dim=-2)
                attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=-1)
            enc = self.encoder(emb, attn)
            start = self.shared(torch.full_like(attn[:, :1], self.start_id, dtype=torch.long))
            dec = self.decoder(start, None, enc, attn)
            qp = self.output_patch_embedding(dec).view(b, self.q, self.pred)
            return qp * scale[:, :, None] + loc[:, :, None]

    return ChronosBolt(), cc


def main(argv=None):
    common.need_torch()
    import numpy as np
    import torch

    args = common.parse_args('Export a Chronos-Bolt checkpoint to ONNX and a quantbook model card.', argv)
    config = common.read_config(args.checkpoint)
    net, cc = build(config)
    state = common.read_weights(args.checkpoint)
    common.load_strict(net, state, aliases=[('shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight')],
                       ignore=('lm_head.weight',))
    net.eval()
    ps = cc['input_patch_size']
    context_length = args.context or cc['context_length']
    if context_length % ps != 0 or context_length > cc['context_length'] or context_length < ps:
        raise common.ExportError(f'--context must be a multiple of the patch size {ps} between {ps} and {cc["context_length"]}')
    folder, base = common.out_paths(args.out, args.force)
    name = args.name or base
    onnx_path = args.out + '.onnx'
    dummy = torch.randn(2, 4 * ps).cumsum(-1) + 100
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), onnx_path, opset_version=common.OPSET, input_names=['context'],
                          output_names=['quantiles'],
                          dynamic_axes={'context': {0: 'batch', 1: 'time'}, 'quantiles': {0: 'batch'}},
                          do_constant_folding=True)
    common.check_onnx(onnx_path)

    # Parity: a random walk, the same left-padded (short window), one with holes, a flat one.
    g = torch.Generator().manual_seed(7)
    t = min(context_length, 8 * ps)
    ctx = 100 + torch.randn(4, t, generator=g).cumsum(-1)
    ctx[1, : t - 2 * ps - 3] = float('nan')
    ctx[2, ::5] = float('nan')
    ctx[3, :] = 42.0
    with torch.no_grad():
        out = net(ctx)
    parity_name = base + '.parity.json'
    common.write_json(os.path.join(folder, parity_name), {
        'family': FAMILY, 'torch': torch.__version__,
        'inputs': {'context': common.recorded(ctx)}, 'outputs': {'quantiles': common.recorded(out)}})

    q = len(cc['quantiles'])
    n_params = sum(p.numel() for p in net.parameters())
    card = {
        'schema': common.CARD_SCHEMA,
        'name': name,
        'description': f'Chronos-Bolt (T5 encoder-decoder over patches of {ps}), {q} quantiles of the next '
                       f'{cc["prediction_length"]} values in one pass; exported from checkpoint folder {os.path.basename(os.path.normpath(args.checkpoint))}',
        'family': FAMILY,
        'file': os.path.basename(onnx_path),
        'sha256': common.sha256(onnx_path),
        'opset': common.OPSET,
        'contextLength': context_length,
        'minContext': 1,
        'horizon': cc['prediction_length'],
        'quantileLevels': [float(x) for x in cc['quantiles']],
        'patchSize': ps,
        'inputs': [common.tensor_spec('context', 'float32', ['batch', 'time'])],
        'outputs': [common.tensor_spec('quantiles', 'float32', ['batch', q, cc['prediction_length']])],
        'scaling': {'kind': 'instanceNorm', 'description': 'inside the graph: z = (x - mean) / std over the observed '
                    'values of the window (std 1e-5 when 0); quantiles are returned as mean + std * z, in the units '
                    'of the context. NaN marks missing values; windows are left-padded with NaN to a multiple of '
                    'the patch size.'},
        'architecture': {'dModel': config['d_model'], 'dFf': config['d_ff'], 'layers': config['num_layers'],
                         'decoderLayers': config.get('num_decoder_layers') or config['num_layers'],
                         'heads': config['num_heads'], 'patch': ps, 'regToken': bool(cc.get('use_reg_token', False)),
                         'parameters': int(n_params), 'checkpointContextLength': cc['context_length'],
                         'source': SOURCE},
        'parityFixture': parity_name,
    }
    common.write_json(args.out + '.json', card)
    print(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {args.out}.json and {parity_name}; '
          f'{n_params} parameters; max |quantile| on the parity inputs {float(np.nanmax(np.abs(out.numpy()))):.4g}')


if __name__ == '__main__':
    common.run_main(main)
