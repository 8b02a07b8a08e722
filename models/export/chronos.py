"""Exports a Chronos checkpoint (amazon/chronos-t5-{tiny,mini,small,base,large} on Hugging
Face) to two ONNX graphs, an encoder and a decoder, with a quantbook model card of family
`chronos`.

    python3 models/export/chronos.py --checkpoint DIR --out models/chronos-t5-small [--name NAME] [--context N]

DIR holds config.json and model.safetensors (or pytorch_model.bin), as published.

The network is a T5ForConditionalGeneration written here from the published architecture
(t5.py), with transformers' parameter names: shared, encoder.*, decoder.*, lm_head (tied to
shared with the d_model ** -0.5 rescale when `tie_word_embeddings`, T5's default). It loads
by name with strict=True. The tokenizer and sampling are not in the graphs: quantbook
applies them in TypeScript, as amazon-science/chronos-forecasting src/chronos/chronos.py at
commit e48f48071f999825b4ed114230229dd771fac129 does (MeanScaleUniformBins: scale = mean
|x| of the observed context, 1 when not positive; centers = linspace(low_limit, high_limit,
n_tokens - n_special_tokens - 1); token = bucketize(x / scale, midpoints, right=True) +
n_special_tokens; missing -> pad_token_id with mask 0; EOS appended for seq2seq; samples
decode to centers[token - n_special_tokens - 1] * scale; generation starts from
decoder_start_token_id, with EOS suppressed until prediction_length tokens exist).

Graphs:
  PREFIX.encoder.onnx: input_ids int64 [batch, sequence], attention_mask int64 [batch, sequence]
      -> encoder_hidden_states float32 [batch, sequence, d_model]
  PREFIX.decoder.onnx: decoder_input_ids int64 [batch, steps] (new tokens), encoder_hidden_states
      float32 [encoder_batch, sequence, d_model] and attention_mask int64 [encoder_batch, sequence]
      (encoder_batch 1 broadcasts over the rows: every path of a window shares one encoding),
      past_key_values.{i}.key/value float32 [batch, heads, past_steps, d_kv] (self-attention cache,
      0 past steps to run a whole prefix) -> logits float32 [batch, vocab] (after the last new
      token) and present.{i}.key/value [batch, heads, past_steps + steps, d_kv]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FAMILY = 'chronos'
SOURCE = {'repository': 'amazon-science/chronos-forecasting', 'file': 'src/chronos/chronos.py',
          'commit': 'e48f48071f999825b4ed114230229dd771fac129',
          't5': 'huggingface/transformers src/transformers/models/t5/modeling_t5.py (parameter names)'}
CHRONOS_KEYS = ('tokenizer_class', 'tokenizer_kwargs', 'context_length', 'prediction_length', 'n_tokens',
                'n_special_tokens', 'pad_token_id', 'eos_token_id', 'use_eos_token', 'model_type')


def build(config):
    import torch
    import torch.nn as nn
    from t5 import T5Cfg, T5Stack, decoder_with_cache

    cc = common.need_key(config, 'chronos_config')
    for k in CHRONOS_KEYS:
        common.need_key(config, k, where='chronos_config')
    if cc['model_type'] != 'seq2seq':
        raise common.ExportError(f'chronos_config.model_type is {cc["model_type"]}: only the seq2seq (T5) Chronos models are supported')
    if cc['tokenizer_class'] != 'MeanScaleUniformBins':
        raise common.ExportError(f'chronos_config.tokenizer_class is {cc["tokenizer_class"]}: only MeanScaleUniformBins is supported')
    cfg = T5Cfg(config)
    if cfg.vocab_size < cc['n_tokens']:
        raise common.ExportError(f'vocab_size {cfg.vocab_size} is smaller than chronos_config.n_tokens {cc["n_tokens"]}')

    class T5ForConditionalGeneration(nn.Module):
        def __init__(self):
            super().__init__()
            self.shared = nn.Embedding(cfg.vocab_size, cfg.d_model)
            self.encoder = T5Stack(cfg, self.shared, is_decoder=False)
            self.decoder = T5Stack(cfg, self.shared, is_decoder=True)
            self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
            self.tied = cfg.tie_word_embeddings
            self.d_model = cfg.d_model

        def encode(self, input_ids, attention_mask):
            return self.encoder(self.shared(input_ids), attention_mask > 0)

        def next_logits(self, decoder_input_ids, encoder_hidden_states, attention_mask):
            h = self.decoder(self.shared(decoder_input_ids), None, encoder_hidden_states, attention_mask > 0)
            h = h[:, -1, :]
            if self.tied:
                h = h * (self.d_model ** -0.5)
            return self.lm_head(h)

    class Encoder(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m.encode(input_ids, attention_mask)

    class Decoder(nn.Module):
        """The decoder graph: new tokens after a cached prefix (an empty cache re-runs the whole prefix)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, decoder_input_ids, encoder_hidden_states, attention_mask, *past):
            pasts = [(past[2 * i], past[2 * i + 1]) for i in range(len(past) // 2)]
            h, presents = decoder_with_cache(self.m.decoder, self.m.shared(decoder_input_ids), encoder_hidden_states,
                                             attention_mask > 0, pasts)
            h = h[:, -1, :]
            if self.m.tied:
                h = h * (self.m.d_model ** -0.5)
            return (self.m.lm_head(h), *[t for kv in presents for t in kv])

    net = T5ForConditionalGeneration()
    return net, Encoder(net), Decoder(net), cc, cfg


def past_names_of(layers):
    past = [f'past_key_values.{i}.{p}' for i in range(layers) for p in ('key', 'value')]
    return past, [n.replace('past_key_values', 'present') for n in past]


def tokenize(context, cc):
    """MeanScaleUniformBins.context_input_transform, for the parity fixture (torch, float32)."""
    import torch
    kw = cc['tokenizer_kwargs']
    centers = torch.linspace(kw['low_limit'], kw['high_limit'], cc['n_tokens'] - cc['n_special_tokens'] - 1)
    bounds = torch.cat((torch.tensor([-1e20]), (centers[1:] + centers[:-1]) / 2, torch.tensor([1e20])))
    ctx = context.to(torch.float32)
    mask = ~torch.isnan(ctx)
    scale = torch.nansum(torch.abs(ctx) * mask, dim=-1) / torch.nansum(mask, dim=-1)
    scale[~(scale > 0)] = 1.0
    ids = torch.bucketize(ctx / scale.unsqueeze(-1), bounds, right=True) + cc['n_special_tokens']
    ids.clamp_(0, cc['n_tokens'] - 1)
    ids[~mask] = cc['pad_token_id']
    if cc['use_eos_token']:
        b = ids.shape[0]
        ids = torch.cat((ids, torch.full((b, 1), cc['eos_token_id'])), dim=1)
        mask = torch.cat((mask, torch.full((b, 1), True)), dim=1)
    return ids, mask.to(torch.long), scale, centers


def main(argv=None):
    common.need_torch()
    import torch

    args = common.parse_args('Export a Chronos (T5) checkpoint to ONNX encoder/decoder graphs and a quantbook model card.', argv)
    config = common.read_config(args.checkpoint)
    net, enc, dec, cc, cfg = build(config)
    state = common.read_weights(args.checkpoint)
    aliases = [('shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight')]
    if cfg.tie_word_embeddings:
        aliases = [aliases[0] + ('lm_head.weight',)]
    common.load_strict(net, state, aliases=aliases)
    net.eval()
    context_length = args.context or cc['context_length']
    if not 1 <= context_length <= cc['context_length']:
        raise common.ExportError(f'--context must be between 1 and {cc["context_length"]}')
    folder, base = common.out_paths(args.out, args.force)
    name = args.name or base
    enc_path, dec_path = args.out + '.encoder.onnx', args.out + '.decoder.onnx'
    ids = torch.randint(3, cc['n_tokens'], (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, :3] = 0
    with torch.no_grad():
        torch.onnx.export(enc, (ids, mask), enc_path, opset_version=common.OPSET,
                          input_names=['input_ids', 'attention_mask'], output_names=['encoder_hidden_states'],
                          dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'},
                                        'encoder_hidden_states': {0: 'batch', 1: 'sequence'}},
                          do_constant_folding=True)
        h = enc(ids, mask)
        dids = torch.randint(3, cc['n_tokens'], (2, 4))
        layers, heads, dk = cfg.num_decoder_layers, cfg.num_heads, cfg.d_kv
        past_names, present_names = past_names_of(layers)
        dyn = {'decoder_input_ids': {0: 'batch', 1: 'steps'}, 'encoder_hidden_states': {0: 'encoder_batch', 1: 'sequence'},
               'attention_mask': {0: 'encoder_batch', 1: 'sequence'}, 'logits': {0: 'batch'}}
        for a, b in zip(past_names, present_names):
            dyn[a] = {0: 'batch', 2: 'past_steps'}
            dyn[b] = {0: 'batch', 2: 'total_steps'}
        past = [torch.randn(2, heads, 3, dk) for _ in past_names]
        torch.onnx.export(dec, (dids, h[:1], mask[:1], *past), dec_path, opset_version=common.OPSET,
                          input_names=['decoder_input_ids', 'encoder_hidden_states', 'attention_mask', *past_names],
                          output_names=['logits', *present_names], dynamic_axes=dyn, do_constant_folding=True)
    common.check_onnx(enc_path)
    common.check_onnx(dec_path)

    # Parity: two windows (the second left-padded with NaN and holed) tokenized as Chronos does,
    # the encoder on them, then decoder logits after a fixed token sequence of 5 steps.
    g = torch.Generator().manual_seed(11)
    t = min(context_length, 40)
    ctx = 100 + torch.randn(2, t, generator=g).cumsum(-1)
    ctx[1, :7] = float('nan')
    ctx[1, 20] = float('nan')
    tok, tmask, scale, _ = tokenize(ctx, cc)
    start = config.get('decoder_start_token_id', cc['pad_token_id'])
    steps = torch.cat((torch.full((2, 1), start), torch.randint(cc['n_special_tokens'] + 1, cc['n_tokens'], (2, 4), generator=g)), dim=1)
    layers, heads, dk = cfg.num_decoder_layers, cfg.num_heads, cfg.d_kv
    empty = [torch.zeros(2, heads, 0, dk) for _ in range(2 * layers)]
    with torch.no_grad():
        hidden = enc(tok, tmask)
        logits = dec(steps, hidden, tmask, *empty)[0]
        first = dec(steps[:, :1], hidden, tmask, *empty)[0]
        prefix = dec(steps[:, :4], hidden, tmask, *empty)
        cached = dec(steps[:, 4:], hidden, tmask, *prefix[1:])[0]
    parity_name = base + '.parity.json'
    common.write_json(os.path.join(folder, parity_name), {
        'family': FAMILY, 'torch': torch.__version__,
        'context': common.recorded(ctx),
        'tokenizer': {'input_ids': common.recorded(tok), 'attention_mask': common.recorded(tmask), 'scale': common.floats(scale)},
        'encoder': {'encoder_hidden_states': common.recorded(hidden)},
        'decoder': {'decoder_input_ids': common.recorded(steps), 'logits': common.recorded(logits),
                    'first_logits': common.recorded(first), 'cached_logits': common.recorded(cached),
                    'prefix_steps': 4},
    })

    kw = cc['tokenizer_kwargs']
    n_params = sum(p.numel() for p in net.parameters() if p is not net.lm_head.weight or not cfg.tie_word_embeddings)
    d = cfg.d_model
    card = {
        'schema': common.CARD_SCHEMA,
        'name': name,
        'description': f'Chronos (T5 encoder-decoder over {cc["n_tokens"]} mean-scaled value tokens); paths are sampled '
                       f'in TypeScript; exported from checkpoint folder {os.path.basename(os.path.normpath(args.checkpoint))}',
        'family': FAMILY,
        'file': os.path.basename(enc_path),
        'sha256': common.sha256(enc_path),
        'opset': common.OPSET,
        'contextLength': context_length,
        'minContext': 1,
        'horizon': cc['prediction_length'],
        'inputs': [common.tensor_spec('input_ids', 'int64', ['batch', 'sequence']),
                   common.tensor_spec('attention_mask', 'int64', ['batch', 'sequence'])],
        'outputs': [common.tensor_spec('encoder_hidden_states', 'float32', ['batch', 'sequence', d])],
        'decoder': {
            'file': os.path.basename(dec_path),
            'sha256': common.sha256(dec_path),
            'inputs': [common.tensor_spec('decoder_input_ids', 'int64', ['batch', 'steps']),
                       common.tensor_spec('encoder_hidden_states', 'float32', ['encoder_batch', 'sequence', d]),
                       common.tensor_spec('attention_mask', 'int64', ['encoder_batch', 'sequence'])] +
                      [common.tensor_spec(n, 'float32', ['batch', heads, 'past_steps', dk]) for n in past_names_of(layers)[0]],
            'outputs': [common.tensor_spec('logits', 'float32', ['batch', cfg.vocab_size])] +
                       [common.tensor_spec(n, 'float32', ['batch', heads, 'total_steps', dk]) for n in past_names_of(layers)[1]],
        },
        'decoderCache': {'layers': layers, 'heads': heads, 'headDim': dk},
        'tokenizer': {
            'kind': 'meanScaleUniformBins',
            'lowLimit': float(kw['low_limit']), 'highLimit': float(kw['high_limit']),
            'nTokens': cc['n_tokens'], 'nSpecialTokens': cc['n_special_tokens'],
            'padTokenId': cc['pad_token_id'], 'eosTokenId': cc['eos_token_id'], 'useEosToken': bool(cc['use_eos_token']),
            'decoderStartTokenId': start, 'vocabSize': cfg.vocab_size,
            'description': 'scale = mean |x| over observed values (1 when not positive); centers = linspace(lowLimit, '
                           'highLimit, nTokens - nSpecialTokens - 1) in float32; token = bucketize(x / scale, midpoints '
                           'of centers, right) + nSpecialTokens, clamped to [0, nTokens - 1]; missing -> padTokenId with '
                           'attention 0; EOS appended; a sampled token decodes to centers[token - nSpecialTokens - 1] '
                           '(clamped) * scale',
        },
        'sampling': {'temperature': float(cc.get('temperature', 1.0)), 'topK': int(cc.get('top_k', 50)),
                     'topP': float(cc.get('top_p', 1.0))},
        'architecture': {'dModel': d, 'dFf': cfg.d_ff, 'layers': cfg.num_layers, 'decoderLayers': cfg.num_decoder_layers,
                         'heads': cfg.num_heads, 'feedForward': config.get('feed_forward_proj', 'relu'),
                         'tiedEmbeddings': bool(cfg.tie_word_embeddings), 'parameters': int(n_params),
                         'checkpointContextLength': cc['context_length'], 'source': SOURCE},
        'parityFixture': parity_name,
    }
    common.write_json(args.out + '.json', card)
    print(f'wrote {enc_path} ({os.path.getsize(enc_path)} bytes), {dec_path} ({os.path.getsize(dec_path)} bytes), '
          f'{args.out}.json and {parity_name}; {n_params} parameters')


if __name__ == '__main__':
    common.run_main(main)
