/**
 * Forecaster of the `chronos` family (amazon/chronos-t5-* exported by models/export/chronos.py):
 * the MeanScaleUniformBins tokenizer of Chronos runs here, the T5 encoder runs once per
 * window (its states broadcast over the paths), the decoder graph gives next-token logits one
 * token per path and step with a self-attention cache (`kvCache: 'cache'`, the default on the
 * CPU) or re-run over the sampled prefix (`recompute`, the default on CUDA; at most
 * horizon + 1 tokens), and tokens are drawn here by
 * the shared `TokenSampler` (temperature, then top-k, then top-p, as Hugging Face's
 * generate does for Chronos), with EOS banned as `min_new_tokens` does. Every path has its
 * own random stream (seed, window, path), so numbers do not depend on batching.
 *
 * Tokenizer (amazon-science/chronos-forecasting src/chronos/chronos.py, MeanScaleUniformBins):
 * scale s = mean |x| over observed values (1 when not positive); centres = linspace(low, high,
 * nTokens - nSpecialTokens - 1) in float32; token = #{boundaries <= x / s} + nSpecialTokens
 * (boundaries: -1e20, midpoints of the centres, 1e20), clamped to [0, nTokens - 1]; a missing
 * value is the pad token with attention 0; EOS is appended. A sampled token t decodes to
 * centres[clamp(t - nSpecialTokens - 1)] * s.
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../core/errors';
import { Rng } from '../../core/random';
import type { ChronosCard, LoadedCard } from '../card';
import { quantilesFromSamples } from '../distribution';
import { checkSamplingRequest, tail } from '../request';
import type { ModelSession } from '../runtime';
import { checkSampling, DEFAULT_SAMPLING, pathRng, TokenSampler } from '../sampling';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo, type SamplingOptions } from '../types';

type ChronosTokenizerSpec = ChronosCard['tokenizer'];

/** Default number of paths of a Chronos model when a request does not say (as for autoregressive models). */
const DEFAULT_SAMPLES = 100;

/** A window tokenized as Chronos does. */
export interface ChronosTokens {
  /** Token ids, one per value plus EOS when the card says so. */
  ids: Int32Array;
  /** 1 for observed values and EOS, 0 for missing ones. */
  mask: Int32Array;
  /** Mean absolute observed value (float32), 1 when not positive. */
  scale: number;
}

/**
 * Centres and bin boundaries of the tokenizer, in float32 as torch.linspace computes them
 * (start + i * step for the first half, end - (n - 1 - i) * step for the second).
 * @example chronosBins(spec).centres.length // nTokens - nSpecialTokens - 1
 */
export function chronosBins(spec: ChronosTokenizerSpec): { centres: Float32Array; boundaries: Float32Array } {
  const n = spec.nTokens - spec.nSpecialTokens - 1;
  const f = Math.fround;
  const start = f(spec.lowLimit);
  const end = f(spec.highLimit);
  const step = f(f(end - start) / (n - 1));
  const centres = new Float32Array(n);
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) centres[i] = i < half ? f(start + f(step * i)) : f(end - f(step * (n - 1 - i)));
  const boundaries = new Float32Array(n + 1);
  boundaries[0] = -1e20;
  for (let i = 1; i < n; i++) boundaries[i] = f(f(centres[i - 1] + centres[i]) / 2);
  boundaries[n] = 1e20;
  return { centres, boundaries };
}

/**
 * Tokenizes one window as Chronos does (see the file header).
 * @example chronosTokenize(new Float64Array([1, 2, NaN]), spec, bins).mask // Int32Array [1, 1, 0, 1]
 */
export function chronosTokenize(values: Float64Array, spec: ChronosTokenizerSpec, boundaries: Float32Array): ChronosTokens {
  const n = values.length;
  const f = Math.fround;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) {
      sum += Math.abs(f(v));
      count++;
    }
  }
  let scale = count > 0 ? f(f(sum) / count) : NaN;
  if (!(scale > 0)) scale = 1;
  const len = n + (spec.useEosToken ? 1 : 0);
  const ids = new Int32Array(len);
  const mask = new Int32Array(len);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      ids[i] = spec.padTokenId;
      continue;
    }
    const z = f(f(v) / scale);
    // #{boundaries <= z}: torch.bucketize(right=True).
    let lo = 0;
    let hi = boundaries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (boundaries[mid] <= z) lo = mid + 1;
      else hi = mid;
    }
    ids[i] = Math.min(Math.max(lo + spec.nSpecialTokens, 0), spec.nTokens - 1);
    mask[i] = 1;
  }
  if (spec.useEosToken) {
    ids[n] = spec.eosTokenId;
    mask[n] = 1;
  }
  return { ids, mask, scale };
}

/**
 * Value a sampled token decodes to: centres[clamp(token - nSpecialTokens - 1)] * scale (float32 product).
 * @example chronosDecode(spec.nSpecialTokens + 1, spec, centres, 100) // centres[0] * 100
 */
export function chronosDecode(token: number, spec: ChronosTokenizerSpec, centres: Float32Array, scale: number): number {
  const i = Math.min(Math.max(token - spec.nSpecialTokens - 1, 0), centres.length - 1);
  return Math.fround(centres[i] * scale);
}

/** Windows per encoder run: the [rows, heads, S, S] attention scores stay near 2^23 floats per head. */
function rowsPerEncoderRun(len: number): number {
  return Math.max(1, Math.floor(2 ** 23 / (len * len)));
}

export class ChronosForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: ChronosCard;
  private readonly centres: Float32Array;
  private readonly boundaries: Float32Array;
  private readonly pastNames: string[] = [];
  private readonly presentNames: string[] = [];
  private modelMs = 0;
  private runs = 0;

  constructor(
    private readonly loaded: LoadedCard & { card: ChronosCard },
    private readonly encoder: ModelSession,
    private readonly decoder: ModelSession,
    private readonly defaults: Partial<SamplingOptions> = {},
  ) {
    this.card = loaded.card;
    const bins = chronosBins(this.card.tokenizer);
    this.centres = bins.centres;
    this.boundaries = bins.boundaries;
    for (let i = 0; i < this.card.decoderCache.layers; i++) {
      for (const part of ['key', 'value']) {
        this.pastNames.push(`past_key_values.${i}.${part}`);
        this.presentNames.push(`present.${i}.${part}`);
      }
    }
    this.info = {
      name: this.card.name,
      family: 'autoregressive',
      contextLength: this.card.contextLength,
      minContext: this.card.minContext,
      maxHorizon: this.card.horizon,
      quantileLevels: null,
    };
  }

  /** One encoder run and one decoder step on a short constant window. */
  async warmUp(): Promise<void> {
    const tok = chronosTokenize(new Float64Array(8).fill(1), this.card.tokenizer, this.boundaries);
    const hidden = await this.encode([tok], tok.ids.length);
    const enc: EncoderFeed = {
      states: new ort.Tensor('float32', hidden.data, hidden.dims),
      mask: new ort.Tensor('int64', BigInt64Array.from(tok.mask, (m) => BigInt(m)), [1, tok.mask.length]),
    };
    const first = await this.decode(new Int32Array([this.card.tokenizer.decoderStartTokenId]), 1, 1, enc, null);
    await this.decode(new Int32Array([this.card.tokenizer.decoderStartTokenId]), 1, 1, enc, first.presents);
  }

  /**
   * Samples N paths per window: samples [B, N, H], plus their empirical quantiles at
   * `request.quantileLevels` (default 0.1..0.9).
   * @throws ModelError on bad windows, a horizon beyond the card's, samples < 1, or non-finite
   *   outputs. ConfigError on bad sampler settings.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    this.modelMs = 0;
    this.runs = 0;
    const { windows, n } = checkSamplingRequest(request, this.info, DEFAULT_SAMPLES, 'a Chronos model');
    const sampling = checkSampling({ ...DEFAULT_SAMPLING, ...this.card.sampling, ...this.defaults, ...request.sampling });
    // As for autoregressive cards: the cache on the CPU; on CUDA onnxruntime-node would copy every
    // present tensor to the host each step, while re-running a prefix of at most H + 1 tokens is cheap there.
    const mode = sampling.kvCache === 'auto' ? (this.decoder.device === 'cpu' ? 'cache' : 'recompute') : sampling.kvCache;
    const seed = request.seed ?? 0;
    const H = request.horizon;
    const spec = this.card.tokenizer;
    const tokens = windows.map((w, i) => {
      const t = tail(w, this.card.contextLength);
      for (let j = 0; j < t.length; j++) {
        if (t[j] === Infinity || t[j] === -Infinity) {
          throw new ModelError(`${this.card.name}: value ${t[j]} in window ${i}: pass finite values or NaN for missing`, { key: 'context', row: i, value: t[j] });
        }
      }
      return chronosTokenize(t, spec, this.boundaries);
    });
    const samples = tensor3(windows.length, n, H);
    const sampler = new TokenSampler(spec.vocabSize, sampling, spec.useEosToken ? [spec.eosTokenId] : []);
    const base = new Rng(seed);
    const longest = Math.max(...tokens.map((t) => t.ids.length));
    const perRun = rowsPerEncoderRun(longest);
    const V = spec.vocabSize;
    for (let w0 = 0; w0 < windows.length; w0 += perRun) {
      const group = tokens.slice(w0, w0 + perRun);
      const len = Math.max(...group.map((t) => t.ids.length));
      const hidden = await this.encode(group, len);
      const [, S, D] = hidden.dims;
      for (let g = 0; g < group.length; g++) {
        const w = w0 + g;
        // One encoding per window, batch 1: the decoder broadcasts it over the rows (paths).
        const enc: EncoderFeed = {
          states: new ort.Tensor('float32', hidden.data.slice(g * S * D, (g + 1) * S * D), [1, S, D]),
          mask: new ort.Tensor('int64', BigInt64Array.from(padLeft(group[g].mask, len, 0), (m) => BigInt(m)), [1, S]),
        };
        for (let start = 0; start < n; start += sampling.samplesPerBatch) {
          const rows = Math.min(sampling.samplesPerBatch, n - start);
          const rngs: Rng[] = [];
          for (let r = 0; r < rows; r++) rngs.push(pathRng(base, w, start + r));
          // The start token, then the tokens drawn so far, one row per path.
          const seq = new Int32Array(rows * (H + 1));
          for (let r = 0; r < rows; r++) seq[r * (H + 1)] = spec.decoderStartTokenId;
          let past: ort.Tensor[] | null = null;
          for (let h = 0; h < H; h++) {
            const steps = h + 1;
            let step: DecoderStep;
            if (mode === 'cache') {
              const ids = new Int32Array(rows);
              for (let r = 0; r < rows; r++) ids[r] = seq[r * (H + 1) + h];
              step = await this.decode(ids, rows, 1, enc, past);
            } else {
              const ids = new Int32Array(rows * steps);
              for (let r = 0; r < rows; r++) ids.set(seq.subarray(r * (H + 1), r * (H + 1) + steps), r * steps);
              step = await this.decode(ids, rows, steps, enc, null);
            }
            past = step.presents;
            for (let r = 0; r < rows; r++) {
              const tok = sampler.sample(step.logits, r * V, rngs[r]);
              seq[r * (H + 1) + steps] = tok;
              samples.data[(w * n + start + r) * H + h] = chronosDecode(tok, spec, this.centres, group[g].scale);
            }
          }
        }
      }
    }
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    return {
      quantiles: { levels, values: quantilesFromSamples(samples, levels) },
      samples,
      meta: {
        model: this.card.name,
        family: 'autoregressive',
        device: this.decoder.device,
        batch: windows.length,
        horizon: H,
        samples: n,
        samplesFrom: 'model',
        timings: { totalMs: performance.now() - t0, modelMs: this.modelMs, runs: this.runs },
        sampling: { ...sampling, kvCache: mode, seed },
        fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
  }

  async close(): Promise<void> {
    // Sessions stay in the shared cache.
  }

  /** Encoder hidden states [B, len, d] of windows left-padded to `len` tokens. */
  private async encode(group: ChronosTokens[], len: number): Promise<{ data: Float32Array; dims: number[] }> {
    const b = group.length;
    const ids = new BigInt64Array(b * len).fill(BigInt(this.card.tokenizer.padTokenId));
    const mask = new BigInt64Array(b * len);
    group.forEach((t, i) => {
      const off = i * len + len - t.ids.length;
      for (let j = 0; j < t.ids.length; j++) {
        ids[off + j] = BigInt(t.ids[j]);
        mask[off + j] = BigInt(t.mask[j]);
      }
    });
    const out = await this.run(this.encoder, 'encoder', {
      input_ids: new ort.Tensor('int64', ids, [b, len]),
      attention_mask: new ort.Tensor('int64', mask, [b, len]),
    });
    const h = out.encoder_hidden_states;
    const data = h.data as Float32Array;
    if (h.dims.length !== 3 || h.dims[0] !== b || h.dims[1] !== len) {
      throw new ModelError(`${this.card.name} encoder returned shape [${h.dims.join(', ')}], expected [${b}, ${len}, d]`, { file: this.loaded.onnxPath });
    }
    checkFinite(data, `${this.card.name} encoder`, this.loaded.onnxPath);
    return { data, dims: [...h.dims] };
  }

  /**
   * Next-token logits [rows, vocab] after `steps` new decoder tokens per row, given the cache of the
   * earlier ones (`past`, or none: the tokens are the whole prefix), and the new cache.
   */
  private async decode(ids: Int32Array, rows: number, steps: number, enc: EncoderFeed, past: ort.Tensor[] | null): Promise<DecoderStep> {
    const big = new BigInt64Array(ids.length);
    for (let i = 0; i < ids.length; i++) big[i] = BigInt(ids[i]);
    const feeds: Record<string, ort.Tensor> = {
      decoder_input_ids: new ort.Tensor('int64', big, [rows, steps]),
      encoder_hidden_states: enc.states,
      attention_mask: enc.mask,
    };
    const kv = this.card.decoderCache;
    this.pastNames.forEach((name, i) => {
      feeds[name] = past ? past[i] : new ort.Tensor('float32', new Float32Array(0), [rows, kv.heads, 0, kv.headDim]);
    });
    const out = await this.run(this.decoder, 'decoder', feeds);
    const logits = out.logits.data as Float32Array;
    const V = this.card.tokenizer.vocabSize;
    if (logits.length !== rows * V) {
      throw new ModelError(`${this.card.name} decoder returned logits of shape [${out.logits.dims.join(', ')}], expected [${rows}, ${V}]`, {
        file: this.loaded.onnxPath,
      });
    }
    checkFinite(logits, `${this.card.name} decoder`, this.loaded.onnxPath);
    return { logits, presents: this.presentNames.map((name) => out[name]) };
  }

  private async run(model: ModelSession, part: string, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const t = performance.now();
    try {
      return await model.session.run(feeds);
    } catch (err) {
      throw new ModelError(`${this.card.name} ${part} failed to run: ${(err as Error).message.split('\n')[0]}`, { file: this.loaded.onnxPath }, { cause: err });
    } finally {
      this.modelMs += performance.now() - t;
      this.runs++;
    }
  }
}

/** One window's encoding as the decoder takes it: states [1, S, d] and mask [1, S]. */
interface EncoderFeed {
  states: ort.Tensor;
  mask: ort.Tensor;
}

interface DecoderStep {
  logits: Float32Array;
  presents: ort.Tensor[];
}

function padLeft(xs: Int32Array, len: number, fill: number): Int32Array {
  if (xs.length === len) return xs;
  const out = new Int32Array(len).fill(fill);
  out.set(xs, len - xs.length);
  return out;
}

function checkFinite(data: Float32Array, what: string, file: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new ModelError(`${what} produced ${data[i]} at element ${i}: the model or its input is broken`, { file, value: data[i] });
  }
}
