/**
 * Model cards: the JSON file beside each `.onnx` that states its family, tensor
 * contract, context, horizon, quantile levels or tokenizer, training data and sha256.
 * A user's own export loads by writing a card that follows a family's contract.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ModelError } from '../core/errors';

const dim = z.union([z.number().int().nonnegative(), z.string().min(1)]);

const tensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'float16', 'int64', 'int32']),
  /** Fixed sizes as numbers, symbolic ones (batch, sequence) as names. */
  shape: z.array(dim),
});

const base = z.object({
  schema: z.literal('quantbook.model-card/1'),
  name: z.string().min(1),
  description: z.string().optional(),
  /** ONNX file, relative to the card. */
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  opset: z.number().int().optional(),
  /** Closes read from the end of a window. */
  contextLength: z.number().int().positive(),
  /** Fewest observed closes a window must have. */
  minContext: z.number().int().positive(),
  /** Largest horizon, in bars. */
  horizon: z.number().int().positive(),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
  architecture: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  evaluation: z.record(z.string(), z.unknown()).optional(),
  /** Inputs and outputs recorded from PyTorch at export, relative to the card. */
  parityFixture: z.string().optional(),
});

const quantileCard = base.extend({
  family: z.literal('quantile'),
  quantileLevels: z.array(z.number().gt(0).lt(1)).min(1),
  scaling: z.object({ kind: z.literal('inGraph'), description: z.string() }),
});

const tokenizer = z.object({
  /** Scaled one-bar log returns of closes: z = log(c_t / c_{t-1}) / s, binned by `binEdges`. */
  kind: z.literal('scaledLogReturn'),
  series: z.literal('close'),
  /** s = RMS of the context's observed returns, floored at `scaleFloor`. */
  scaling: z.literal('rms'),
  scaleFloor: z.number().positive(),
  /** Increasing edges; token i covers [edges[i], edges[i+1]); values outside go to the end bins. */
  binEdges: z.array(z.number()).min(2),
  /** Token of a missing return (NaN close on either side); never sampled. */
  missingToken: z.number().int().nonnegative(),
  vocabSize: z.number().int().positive(),
});

const autoregressiveCard = base.extend({
  family: z.literal('autoregressive'),
  tokenizer,
  /**
   * Present when the graph takes `past_key_values.{i}.key/value` and returns `present.{i}.key/value`.
   * `sharedContext`: the graph also takes `context.{i}.key/value` [windows, kvHeads, C, headDim], the
   * context's cache given once per window and shared by its batch / windows consecutive rows (not
   * tiled per row); the past and present then hold only each row's tokens after the context.
   */
  kvCache: z
    .object({
      layers: z.number().int().positive(),
      kvHeads: z.number().int().positive(),
      headDim: z.number().int().positive(),
      sharedContext: z.boolean().optional(),
    })
    .optional(),
  sampling: z.object({ temperature: z.number(), topK: z.number().int(), topP: z.number() }).partial().optional(),
});

/** One ONNX graph of a multi-graph family, relative to the card, with its own sha256 and tensors. */
const graphSpec = z.object({
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
});

/**
 * Kronos (shiyu-coder/Kronos): an OHLCV tokenizer (encoder and decoder graphs) and a predictor
 * over two-level tokens (`s1`: coarse-token logits and the context states; `s2`: fine-token logits
 * given a sampled coarse token). `file`/`sha256`/`inputs`/`outputs` of the card repeat `graphs.s1`.
 */
const kronosCard = base.extend({
  family: z.literal('kronos'),
  graphs: z.object({ encoder: graphSpec, decoder: graphSpec, s1: graphSpec, s2: graphSpec }),
  tokens: z.object({ s1Bits: z.number().int().positive(), s2Bits: z.number().int().positive() }),
  features: z.object({
    columns: z.tuple([z.literal('open'), z.literal('high'), z.literal('low'), z.literal('close'), z.literal('volume'), z.literal('amount')]),
    time: z.tuple([z.literal('minute'), z.literal('hour'), z.literal('weekday'), z.literal('day'), z.literal('month')]),
    timezone: z.literal('UTC'),
  }),
  /** KronosPredictor's per-context z-score of each column, clipped: (x - mean) / (std + eps), in [-clip, clip]. */
  normalisation: z.object({ kind: z.literal('contextZScore'), eps: z.number().positive(), clip: z.number().positive(), description: z.string() }),
  sampling: z.object({ temperature: z.number(), topK: z.number().int(), topP: z.number() }).partial().optional(),
  source: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Chronos-Bolt (amazon/chronos-bolt-*): raw values in (NaN = missing, left-padded with NaN to a
 * multiple of `patchSize`), quantiles at `quantileLevels` out, instance normalisation in the graph.
 */
const chronosBoltCard = base.extend({
  family: z.literal('chronos-bolt'),
  quantileLevels: z.array(z.number().gt(0).lt(1)).min(1),
  patchSize: z.number().int().positive(),
  scaling: z.object({ kind: z.literal('instanceNorm'), description: z.string() }),
});

/** The MeanScaleUniformBins tokenizer of Chronos, applied in TypeScript (see src/forecast/families/chronos.ts). */
const chronosTokenizer = z.object({
  kind: z.literal('meanScaleUniformBins'),
  lowLimit: z.number(),
  highLimit: z.number(),
  nTokens: z.number().int().positive(),
  nSpecialTokens: z.number().int().nonnegative(),
  padTokenId: z.number().int().nonnegative(),
  eosTokenId: z.number().int().nonnegative(),
  useEosToken: z.boolean(),
  decoderStartTokenId: z.number().int().nonnegative(),
  vocabSize: z.number().int().positive(),
  description: z.string().optional(),
});

/**
 * Chronos (amazon/chronos-t5-*): `file` is the T5 encoder, `decoder` the graph giving next-token
 * logits; tokenizer and sampling run in TypeScript.
 */
const chronosCard = base.extend({
  family: z.literal('chronos'),
  decoder: graphSpec,
  /** The decoder's self-attention cache: `past_key_values.{i}.key/value` in, `present.{i}.key/value` out, i < layers. */
  decoderCache: z.object({ layers: z.number().int().positive(), heads: z.number().int().positive(), headDim: z.number().int().positive() }),
  tokenizer: chronosTokenizer,
  sampling: z.object({ temperature: z.number(), topK: z.number().int(), topP: z.number() }).partial().optional(),
});

/**
 * Toto (DataDog/toto, checkpoint Datadog/Toto-Open-Base-1.0): one graph from the scaled context
 * `context` float32 [batch, time] (time a multiple of `patchSize`) to the Student-T mixture of each
 * step of the next patch: `weights`, `df`, `loc`, `scale`, float32 [batch, patchSize, K].
 */
const totoCard = base.extend({
  family: z.literal('toto'),
  patchSize: z.number().int().positive(),
  mixtureComponents: z.number().int().positive(),
  /** Toto's CausalPatchStdMeanScaler, applied in TypeScript (see families/toto.ts). */
  scaling: z.object({
    kind: z.literal('causalPatchStdMean'),
    minimumScale: z.number().positive(),
    besselCorrection: z.boolean(),
    stabilizeWithGlobal: z.boolean(),
    scaleFactorExponent: z.number().positive(),
    description: z.string(),
  }),
  /**
   * quantbook's own step before the scaler (Toto feeds raw values): each window is divided by its last
   * observed close and multiplied by `level`, and paths are mapped back, so that the scaler's variance
   * floor (`minimumScale`) means the same in any price unit.
   */
  priceLevel: z.object({ kind: z.literal('lastClose'), level: z.number().positive(), description: z.string() }).optional(),
  source: z.record(z.string(), z.unknown()).optional(),
});


export const modelCardSchema = z.discriminatedUnion('family', [quantileCard, autoregressiveCard, chronosBoltCard, chronosCard, kronosCard, totoCard]);

export type ModelCard = z.infer<typeof modelCardSchema>;
export type QuantileCard = z.infer<typeof quantileCard>;
export type AutoregressiveCard = z.infer<typeof autoregressiveCard>;
export type KronosCard = z.infer<typeof kronosCard>;
export type TotoCard = z.infer<typeof totoCard>;
export type TensorSpec = z.infer<typeof tensorSpec>;
export type GraphSpec = z.infer<typeof graphSpec>;
export type ChronosBoltCard = z.infer<typeof chronosBoltCard>;
export type ChronosCard = z.infer<typeof chronosCard>;
/** A second graph of a multi-graph card (the Chronos decoder). */
export type ExtraGraph = GraphSpec;

/** A parsed card with the absolute path of its ONNX file. */
export interface LoadedCard {
  card: ModelCard;
  cardPath: string;
  onnxPath: string;
}

/**
 * The card of a multi-graph model seen as the card of one of its other graphs: same name and
 * family, that graph's file, sha256 and tensors, so `openSession` checks and caches it like any graph.
 * @example openSession(graphCard(loaded, loaded.card.decoder), { device: 'cpu' })
 */
export function graphCard<C extends ModelCard>(loaded: LoadedCard & { card: C }, graph: ExtraGraph): LoadedCard & { card: C } {
  const card: C = { ...loaded.card, file: graph.file, sha256: graph.sha256, inputs: graph.inputs, outputs: graph.outputs };
  return { card, cardPath: loaded.cardPath, onnxPath: resolve(dirname(loaded.cardPath), graph.file) };
}

/**
 * Reads and validates a model card.
 *
 * Beyond the schema: bin edges increase, the vocabulary holds every bin and the
 * missing token, quantile levels increase; a Chronos-Bolt context is a whole number of
 * patches; a Chronos tokenizer has value bins, special pad/EOS ids and room for its tokens.
 * @throws ModelError naming the card file and the field when it is missing, not JSON, or invalid.
 * @example loadCard('models/qb-quantile-s.json').card.family // 'quantile'
 */
export function loadCard(cardPath: string): LoadedCard {
  const abs = resolve(cardPath);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ModelError('model card cannot be read: check the path', { file: abs }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`model card is not valid JSON: ${(err as Error).message}`, { file: abs }, { cause: err });
  }
  const parsed = modelCardSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelError(`model card is invalid: ${issue.message}`, { file: abs, key: issue.path.join('.') });
  }
  const card = parsed.data;
  const bad = (problem: string, key: string): never => {
    throw new ModelError(`model card is invalid: ${problem}`, { file: abs, key });
  };
  if (card.minContext > card.contextLength) bad('minContext exceeds contextLength', 'minContext');
  if (card.family === 'quantile' || card.family === 'chronos-bolt') {
    if (!isIncreasing(card.quantileLevels)) bad('quantileLevels must increase', 'quantileLevels');
    if (card.family === 'chronos-bolt' && card.contextLength % card.patchSize !== 0) {
      bad(`contextLength ${card.contextLength} must be a multiple of patchSize ${card.patchSize}`, 'contextLength');
    }
  } else if (card.family === 'chronos') {
    const t = card.tokenizer;
    if (!(t.highLimit > t.lowLimit)) bad('highLimit must exceed lowLimit', 'tokenizer.highLimit');
    if (t.nTokens - t.nSpecialTokens - 1 < 2) bad('nTokens must leave at least 2 value bins after the special tokens', 'tokenizer.nTokens');
    if (t.padTokenId >= t.nSpecialTokens || t.eosTokenId >= t.nSpecialTokens) bad('pad and EOS ids must be special tokens (< nSpecialTokens)', 'tokenizer.padTokenId');
    if (t.vocabSize < t.nTokens) bad(`vocabSize ${t.vocabSize} must hold the ${t.nTokens} tokens`, 'tokenizer.vocabSize');
  } else if (card.family === 'autoregressive') {
    const t = card.tokenizer;
    if (!isIncreasing(t.binEdges)) bad('binEdges must increase', 'tokenizer.binEdges');
    const bins = t.binEdges.length - 1;
    if (t.vocabSize < bins || t.missingToken >= t.vocabSize || t.missingToken < bins) {
      bad(`vocabSize ${t.vocabSize} must hold ${bins} bins and the missing token after them`, 'tokenizer.vocabSize');
    }
    if (card.minContext < 2) bad('minContext of an autoregressive model must be at least 2 (one return)', 'minContext');
  }
  checkFamilyContract(card, bad);
  return { card, cardPath: abs, onnxPath: resolve(dirname(abs), card.file) };
}

/**
 * The tensors each family must declare:
 * chronos-bolt: `context` float32 [batch, time] and `quantiles` float32 [batch, Q, horizon];
 * chronos: encoder `input_ids`, `attention_mask` int64 [batch, sequence] -> `encoder_hidden_states`
 * float32 [batch, sequence, d]; decoder `decoder_input_ids` int64 [batch, steps], `encoder_hidden_states`,
 * `attention_mask`, `past_key_values.{i}.key/value` float32 [batch, heads, past, headDim] -> `logits`
 * float32 [batch, vocab] and `present.{i}.key/value`, for i < decoderCache.layers;
 * quantile: one input float32 [batch, contextLength] and one output float32 [batch, Q, horizon];
 * autoregressive: `input_ids` int64 [batch, sequence] and `logits` float32 [batch, vocab], plus, with
 * `kvCache`, `past_key_values.{i}.key/value` inputs and `present.{i}.key/value` outputs, float32
 * [batch, kvHeads, sequence, headDim], for i < layers, and with `kvCache.sharedContext` also
 * `context.{i}.key/value` inputs float32 [windows, kvHeads, sequence, headDim].
 */
function checkFamilyContract(card: ModelCard, bad: (problem: string, key: string) => never): void {
  const expect = (spec: TensorSpec | undefined, key: string, dtype: TensorSpec['dtype'], dims: (number | null)[]): void => {
    if (!spec) return bad(`the ${card.family} family needs ${key}`, key);
    if (spec.dtype !== dtype) bad(`${spec.name} must be ${dtype}`, key);
    if (spec.shape.length !== dims.length) bad(`${spec.name} must have rank ${dims.length}`, key);
    dims.forEach((d, i) => {
      const s = spec.shape[i];
      if (d !== null && typeof s === 'number' && s !== d) bad(`${spec.name} dimension ${i} must be ${d}, not ${s}`, key);
    });
  };
  if (card.family === 'quantile') {
    if (card.inputs.length !== 1 || card.outputs.length !== 1) bad('a quantile model has exactly one input and one output', 'inputs');
    expect(card.inputs[0], 'inputs.0', 'float32', [null, card.contextLength]);
    expect(card.outputs[0], 'outputs.0', 'float32', [null, card.quantileLevels.length, card.horizon]);
    return;
  }
  if (card.family === 'kronos') return checkKronosContract(card, expect, bad);
  if (card.family === 'chronos-bolt') {
    if (card.inputs.length !== 1 || card.outputs.length !== 1) bad('a chronos-bolt model has exactly one input and one output', 'inputs');
    expect(card.inputs[0], 'inputs.0', 'float32', [null, null]);
    expect(card.outputs[0], 'outputs.0', 'float32', [null, card.quantileLevels.length, card.horizon]);
    return;
  }
  if (card.family === 'chronos') {
    const named = (specs: TensorSpec[], name: string) => specs.find((t) => t.name === name);
    if (card.inputs.length !== 2 || card.outputs.length !== 1) bad('a chronos encoder has inputs input_ids, attention_mask and one output', 'inputs');
    const kv = card.decoderCache;
    if (card.decoder.inputs.length !== 3 + 2 * kv.layers || card.decoder.outputs.length !== 1 + 2 * kv.layers) {
      bad(`a chronos decoder with a ${kv.layers}-layer cache has ${3 + 2 * kv.layers} inputs and ${1 + 2 * kv.layers} outputs`, 'decoder.inputs');
    }
    for (let i = 0; i < kv.layers; i++) {
      for (const part of ['key', 'value']) {
        expect(named(card.decoder.inputs, `past_key_values.${i}.${part}`), `decoder.inputs.past_key_values.${i}.${part}`, 'float32', [null, kv.heads, null, kv.headDim]);
        expect(named(card.decoder.outputs, `present.${i}.${part}`), `decoder.outputs.present.${i}.${part}`, 'float32', [null, kv.heads, null, kv.headDim]);
      }
    }
    expect(named(card.inputs, 'input_ids'), 'inputs.input_ids', 'int64', [null, null]);
    expect(named(card.inputs, 'attention_mask'), 'inputs.attention_mask', 'int64', [null, null]);
    expect(named(card.outputs, 'encoder_hidden_states'), 'outputs.encoder_hidden_states', 'float32', [null, null, null]);
    expect(named(card.decoder.inputs, 'decoder_input_ids'), 'decoder.inputs.decoder_input_ids', 'int64', [null, null]);
    expect(named(card.decoder.inputs, 'encoder_hidden_states'), 'decoder.inputs.encoder_hidden_states', 'float32', [null, null, null]);
    expect(named(card.decoder.inputs, 'attention_mask'), 'decoder.inputs.attention_mask', 'int64', [null, null]);
    expect(named(card.decoder.outputs, 'logits'), 'decoder.outputs.logits', 'float32', [null, card.tokenizer.vocabSize]);
    return;
  }
  if (card.family === 'toto') return checkTotoContract(card, expect, bad);
  const input = (name: string) => card.inputs.find((t) => t.name === name);
  const output = (name: string) => card.outputs.find((t) => t.name === name);
  expect(input('input_ids'), 'inputs.input_ids', 'int64', [null, null]);
  expect(output('logits'), 'outputs.logits', 'float32', [null, card.tokenizer.vocabSize]);
  const kv = card.kvCache;
  const outputs = 1 + (kv ? 2 * kv.layers : 0);
  const inputs = outputs + (kv?.sharedContext ? 2 * kv.layers : 0);
  if (card.inputs.length !== inputs || card.outputs.length !== outputs) {
    const what = kv ? `with a ${kv.layers}-layer cache${kv.sharedContext ? ' and a shared context' : ''} ` : 'without kvCache ';
    bad(`an autoregressive model ${what}has ${inputs} inputs and ${outputs} outputs`, 'inputs');
  }
  if (!kv) return;
  for (let i = 0; i < kv.layers; i++) {
    for (const part of ['key', 'value']) {
      if (kv.sharedContext) expect(input(`context.${i}.${part}`), `inputs.context.${i}.${part}`, 'float32', [null, kv.kvHeads, null, kv.headDim]);
      expect(input(`past_key_values.${i}.${part}`), `inputs.past_key_values.${i}.${part}`, 'float32', [null, kv.kvHeads, null, kv.headDim]);
      expect(output(`present.${i}.${part}`), `outputs.present.${i}.${part}`, 'float32', [null, kv.kvHeads, null, kv.headDim]);
    }
  }
}

type Expect = (spec: TensorSpec | undefined, key: string, dtype: TensorSpec['dtype'], dims: (number | null)[]) => void;

/**
 * Kronos: encoder `bars` float32 [b, s, 6] -> `s1_ids`, `s2_ids` int64 [b, s]; decoder the reverse;
 * s1: `s1_ids`, `s2_ids` int64 [b, s], `stamp` float32 [b, s, 5] -> `s1_logits` float32 [b, 2^s1Bits],
 * `context` float32 [b, s, d]; s2: `context`, `s1_id` int64 [b, 1] -> `s2_logits` float32 [b, 2^s2Bits].
 */
function checkKronosContract(card: KronosCard, expect: Expect, bad: (problem: string, key: string) => never): void {
  const g = card.graphs;
  if (g.s1.file !== card.file || g.s1.sha256 !== card.sha256) bad('file and sha256 must repeat graphs.s1', 'file');
  if (card.tokens.s1Bits !== card.tokens.s2Bits) bad('Kronos decodes half tokens: s1Bits must equal s2Bits', 'tokens');
  const v1 = 2 ** card.tokens.s1Bits;
  const v2 = 2 ** card.tokens.s2Bits;
  const check = (role: keyof KronosCard['graphs'], ins: [string, TensorSpec['dtype'], (number | null)[]][], outs: [string, TensorSpec['dtype'], (number | null)[]][]): void => {
    const spec = g[role];
    if (spec.inputs.length !== ins.length || spec.outputs.length !== outs.length) {
      bad(`graph ${role} has ${ins.length} inputs and ${outs.length} outputs`, `graphs.${role}`);
    }
    for (const [name, dtype, dims] of ins) expect(spec.inputs.find((t) => t.name === name), `graphs.${role}.inputs.${name}`, dtype, dims);
    for (const [name, dtype, dims] of outs) expect(spec.outputs.find((t) => t.name === name), `graphs.${role}.outputs.${name}`, dtype, dims);
  };
  check('encoder', [['bars', 'float32', [null, null, 6]]], [['s1_ids', 'int64', [null, null]], ['s2_ids', 'int64', [null, null]]]);
  check('decoder', [['s1_ids', 'int64', [null, null]], ['s2_ids', 'int64', [null, null]]], [['bars', 'float32', [null, null, 6]]]);
  check('s1', [['s1_ids', 'int64', [null, null]], ['s2_ids', 'int64', [null, null]], ['stamp', 'float32', [null, null, 5]]], [['s1_logits', 'float32', [null, v1]], ['context', 'float32', [null, null, null]]]);
  check('s2', [['context', 'float32', [null, null, null]], ['s1_id', 'int64', [null, 1]]], [['s2_logits', 'float32', [null, v2]]]);
}

/** Toto: `context` float32 [b, t] -> `weights`, `df`, `loc`, `scale` float32 [b, patchSize, K]; contexts in whole patches. */
function checkTotoContract(card: TotoCard, expect: Expect, bad: (problem: string, key: string) => never): void {
  if (card.inputs.length !== 1 || card.outputs.length !== 4) bad('a toto model has one input and four outputs', 'inputs');
  if (card.contextLength % card.patchSize !== 0) bad(`contextLength must be a multiple of patchSize ${card.patchSize}`, 'contextLength');
  expect(card.inputs.find((t) => t.name === 'context'), 'inputs.context', 'float32', [null, null]);
  for (const name of ['weights', 'df', 'loc', 'scale']) {
    expect(card.outputs.find((t) => t.name === name), `outputs.${name}`, 'float32', [null, card.patchSize, card.mixtureComponents]);
  }
}

function isIncreasing(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i] > xs[i - 1])) return false;
  return true;
}
