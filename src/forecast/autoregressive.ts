/**
 * Forecaster of the `autoregressive` family (Chronos / Kronos style): the card's
 * tokenizer maps closes to return tokens, the graph returns next-token logits, and
 * N paths per window are sampled here (temperature, top-k, top-p), seeded, in
 * batches of `samplesPerBatch` rows, then mapped back to prices.
 *
 * Two ways to run the steps: `cache` feeds one new token per row and the previous
 * `present.{i}.key/value` outputs back as `past_key_values.{i}.key/value`; `recompute`
 * re-runs the whole sequence (context and tokens so far) every step. Both give the
 * same logits up to float rounding. Every path has its own random stream
 * (seed, window, path), so the numbers do not depend on batching or mode.
 *
 * With `kvCache.sharedContext` (qb-ar-s), the context's cache from the prefill is fed once per
 * window as `context.{i}.key/value` and shared by that window's rows inside the graph, and the
 * past/present hold only the tokens sampled so far: a step moves a few KB per row instead of
 * copying the whole context cache of every row in and out (N=100, L=512: ~10x less CPU per step).
 * Batches are window-major (whole windows of N rows, or up to samplesPerBatch rows of one window).
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../core/errors';
import { Rng } from '../core/random';
import type { AutoregressiveCard, LoadedCard } from './card';
import { quantilesFromSamples } from './distribution';
import { checkSamplingRequest, tail } from './request';
import type { ModelSession } from './runtime';
import { checkSampling, DEFAULT_SAMPLING, pathRng, TokenSampler } from './sampling';
import { binCentres, decodePath, tokenizeCloses, type TokenizedContext } from './tokenizer';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo, type SamplingOptions } from './types';

type Feeds = Record<string, ort.Tensor>;

/**
 * Rows of one run over a full sequence of `len` tokens (a prefill, or a recompute step):
 * about 2^23 / len^2, so the [rows, heads, len, len] attention scores stay near 128 MB
 * with 4 heads (256 rows of 513 tokens in one run took over 20 GB and were killed).
 */
function rowsPerFullRun(len: number): number {
  return Math.max(1, Math.floor(2 ** 23 / (len * len)));
}

/** Default number of paths when a request does not say. */
export const DEFAULT_AR_SAMPLES = 100;

export class AutoregressiveForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: AutoregressiveCard;
  private readonly centres: Float64Array;
  private readonly pastNames: string[] = [];
  private readonly contextNames: string[] = [];
  private readonly presentNames: string[] = [];
  private modelMs = 0;
  private runs = 0;

  constructor(
    private readonly loaded: LoadedCard & { card: AutoregressiveCard },
    private readonly model: ModelSession,
    private readonly defaults: Partial<SamplingOptions> = {},
  ) {
    this.card = loaded.card;
    this.centres = binCentres(this.card.tokenizer.binEdges);
    for (let i = 0; i < (this.card.kvCache?.layers ?? 0); i++) {
      for (const part of ['key', 'value']) {
        this.pastNames.push(`past_key_values.${i}.${part}`);
        this.contextNames.push(`context.${i}.${part}`);
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

  /** A short prefill and, with a cache, one cached step. */
  async warmUp(): Promise<void> {
    const ids = new Int32Array(8).fill(this.zeroToken());
    const first = await this.step(ids, 1, 8, null, null);
    if (this.card.kvCache) {
      const cache = this.startCache(first.presents!, 0, 1, 1);
      await this.step(new Int32Array([this.zeroToken()]), 1, 1, cache.past, cache.context);
    }
  }

  /** The cache mode `auto` resolves to on this model's device. */
  resolveKvCache(mode: SamplingOptions['kvCache']): 'cache' | 'recompute' {
    if (mode === 'cache' && !this.card.kvCache) {
      throw new ModelError(`${this.card.name} has no key/value cache graph (no kvCache in its card): use kvCache 'recompute'`, {
        file: this.loaded.cardPath,
        key: 'kvCache',
      });
    }
    if (mode !== 'auto') return mode;
    // With CUDA, onnxruntime-node copies every present/past tensor to the host each step
    // (it binds outputs to the GPU only for WebGPU), while re-running a short window is cheap there.
    return this.card.kvCache && this.model.device === 'cpu' ? 'cache' : 'recompute';
  }

  /**
   * Samples N paths of closes per window: samples [B, N, H], plus their empirical
   * quantiles at `request.quantileLevels` (default 0.1..0.9).
   * @throws ModelError on bad windows, a horizon beyond the card's, samples < 1, a cache
   *   mode the graph lacks, or non-finite logits. ConfigError on bad sampler settings.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    this.modelMs = 0;
    this.runs = 0;
    const { windows, n } = checkSamplingRequest(request, this.info, DEFAULT_AR_SAMPLES, 'an autoregressive model');
    const sampling = checkSampling({ ...DEFAULT_SAMPLING, ...this.card.sampling, ...this.defaults, ...request.sampling });
    const mode = this.resolveKvCache(sampling.kvCache);
    const seed = request.seed ?? 0;
    const H = request.horizon;
    const contexts = windows.map((w) => tokenizeCloses(tail(w, this.card.contextLength), this.card.tokenizer));
    const samples = tensor3(windows.length, n, H);
    // Windows with equal token counts share one prefill and one batch of steps.
    const groups = new Map<number, number[]>();
    contexts.forEach((c, i) => groups.set(c.ids.length, [...(groups.get(c.ids.length) ?? []), i]));
    for (const [tokens, members] of groups) {
      const perPrefill = rowsPerFullRun(tokens);
      for (let i = 0; i < members.length; i += perPrefill) {
        await this.sampleGroup(members.slice(i, i + perPrefill), contexts, n, H, sampling, mode, seed, samples.data);
      }
    }
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    return {
      quantiles: { levels, values: quantilesFromSamples(samples, levels) },
      samples,
      meta: {
        model: this.card.name,
        family: 'autoregressive',
        device: this.model.device,
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
    // The session stays in the shared cache.
  }

  private async sampleGroup(
    members: number[],
    contexts: TokenizedContext[],
    n: number,
    H: number,
    sampling: SamplingOptions,
    mode: 'cache' | 'recompute',
    seed: number,
    out: Float64Array,
  ): Promise<void> {
    const T = contexts[members[0]].ids.length;
    const V = this.card.tokenizer.vocabSize;
    const prefillIds = new Int32Array(members.length * T);
    members.forEach((w, g) => prefillIds.set(contexts[w].ids, g * T));
    const prefill = await this.step(prefillIds, members.length, T, null, null);
    const sampler = new TokenSampler(V, sampling, [this.card.tokenizer.missingToken]);
    const base = new Rng(seed);
    // Batches are window-major: W whole windows of R paths each (R = n), or R paths of one window,
    // so a shared-context graph can take each window's context cache once for its R rows.
    const pathsPerBatch = Math.min(n, sampling.samplesPerBatch);
    const windowsPerBatch = Math.max(1, Math.floor(sampling.samplesPerBatch / n));
    for (let w0 = 0; w0 < members.length; w0 += windowsPerBatch) {
      const W = Math.min(windowsPerBatch, members.length - w0);
      for (let p0 = 0; p0 < n; p0 += pathsPerBatch) {
        const R = Math.min(pathsPerBatch, n - p0);
        const rows = W * R;
        const groupOf = new Int32Array(rows); // row -> index in `members`
        const rngs: Rng[] = [];
        for (let r = 0; r < rows; r++) {
          groupOf[r] = w0 + Math.floor(r / R);
          rngs.push(pathRng(base, members[groupOf[r]], p0 + (r % R)));
        }
        const generated = new Int32Array(rows * H);
        for (let r = 0; r < rows; r++) generated[r * H] = sampler.sample(prefill.logits, groupOf[r] * V, rngs[r]);
        const cache = mode === 'cache' ? this.startCache(prefill.presents!, w0, W, R) : null;
        const ids = new Int32Array(rows);
        for (let h = 1; h < H; h++) {
          let logits: Float32Array;
          if (cache) {
            for (let r = 0; r < rows; r++) ids[r] = generated[r * H + h - 1];
            const result = await this.step(ids, rows, 1, cache.past, cache.context);
            cache.past = result.presents!;
            logits = result.logits;
          } else {
            const len = T + h;
            logits = new Float32Array(rows * V);
            const perRun = rowsPerFullRun(len);
            for (let r0 = 0; r0 < rows; r0 += perRun) {
              const k = Math.min(perRun, rows - r0);
              const full = new Int32Array(k * len);
              for (let r = 0; r < k; r++) {
                full.set(contexts[members[groupOf[r0 + r]]].ids, r * len);
                full.set(generated.subarray((r0 + r) * H, (r0 + r) * H + h), r * len + T);
              }
              logits.set((await this.step(full, k, len, null, null)).logits, r0 * V);
            }
          }
          for (let r = 0; r < rows; r++) generated[r * H + h] = sampler.sample(logits, r * V, rngs[r]);
        }
        for (let r = 0; r < rows; r++) {
          const w = members[groupOf[r]];
          decodePath(generated.subarray(r * H, (r + 1) * H), this.centres, contexts[w].scale, contexts[w].lastClose, out, (w * n + p0 + (r % R)) * H);
        }
      }
    }
  }

  /**
   * The cache of `W` windows (from `w0` of the prefill) for `R` rows each, rows window-major. A
   * shared-context graph takes the windows' prefill cache as it is (a view, no copy) and starts each
   * row with an empty past; otherwise each row gets a copy of its window's prefill cache.
   */
  private startCache(presents: ort.Tensor[], w0: number, W: number, R: number): { past: ort.Tensor[]; context: ort.Tensor[] | null } {
    const shared = this.card.kvCache?.sharedContext === true;
    const parts = presents.map((t) => {
      const [windows, heads, len, dim] = t.dims;
      const block = heads * len * dim;
      const src = t.data as Float32Array;
      if (src.length !== windows * block || w0 + W > windows) throw new ModelError(`${this.card.name} returned a cache of unexpected size`, { file: this.loaded.onnxPath });
      if (shared) return new ort.Tensor('float32', src.subarray(w0 * block, (w0 + W) * block), [W, heads, len, dim]);
      const dst = new Float32Array(W * R * block);
      for (let r = 0; r < W * R; r++) dst.set(src.subarray((w0 + Math.floor(r / R)) * block, (w0 + Math.floor(r / R) + 1) * block), r * block);
      return new ort.Tensor('float32', dst, [W * R, heads, len, dim]);
    });
    return shared ? { past: this.emptyCache(W * R), context: parts } : { past: parts, context: null };
  }

  private emptyCache(rows: number): ort.Tensor[] {
    const kv = this.card.kvCache!;
    return this.pastNames.map(() => new ort.Tensor('float32', new Float32Array(0), [rows, kv.kvHeads, 0, kv.headDim]));
  }

  /**
   * One ONNX run: ids [rows, len] with a past cache (or an empty one), and with a shared-context graph
   * the windows' context cache (or an empty one) -> next-token logits and presents.
   */
  private async step(ids: Int32Array, rows: number, len: number, past: ort.Tensor[] | null, context: ort.Tensor[] | null): Promise<StepResult> {
    const big = new BigInt64Array(ids.length);
    for (let i = 0; i < ids.length; i++) big[i] = BigInt(ids[i]);
    const feeds: Feeds = { input_ids: new ort.Tensor('int64', big, [rows, len]) };
    const kv = this.card.kvCache;
    if (kv) {
      const pasts = past ?? this.emptyCache(rows);
      this.pastNames.forEach((name, i) => (feeds[name] = pasts[i]));
      if (kv.sharedContext) {
        const contexts = context ?? this.emptyCache(rows);
        this.contextNames.forEach((name, i) => (feeds[name] = contexts[i]));
      }
    }
    const t = performance.now();
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.model.session.run(feeds);
    } catch (err) {
      throw new ModelError(`${this.card.name} failed to run: ${(err as Error).message.split('\n')[0]}`, { file: this.loaded.onnxPath }, { cause: err });
    }
    this.modelMs += performance.now() - t;
    this.runs++;
    const logits = result.logits.data as Float32Array;
    const V = this.card.tokenizer.vocabSize;
    if (logits.length !== rows * V) {
      throw new ModelError(`${this.card.name} returned logits of shape [${result.logits.dims.join(', ')}], expected [${rows}, ${V}]`, {
        file: this.loaded.onnxPath,
      });
    }
    // A double sum of float32 values cannot overflow (at most 2^128 each), so it is finite exactly when every logit is:
    // one add a logit (four running sums, so the adds do not wait on each other), and the search for the bad one only
    // when there is one.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n4 = logits.length - (logits.length % 4);
    for (let i = 0; i < n4; i += 4) {
      s0 += logits[i];
      s1 += logits[i + 1];
      s2 += logits[i + 2];
      s3 += logits[i + 3];
    }
    for (let i = n4; i < logits.length; i++) s0 += logits[i];
    const sum = s0 + s1 + s2 + s3;
    for (let i = 0; !Number.isFinite(sum) && i < logits.length; i++) {
      if (!Number.isFinite(logits[i])) {
        throw new ModelError(`${this.card.name} produced logit ${logits[i]} (row ${Math.floor(i / V)}, token ${i % V}): the model or its input is broken`, {
          file: this.loaded.onnxPath,
          value: logits[i],
        });
      }
    }
    return { logits, presents: kv ? this.presentNames.map((name) => result[name]) : null };
  }

  private zeroToken(): number {
    return Math.floor((this.card.tokenizer.binEdges.length - 1) / 2);
  }
}

interface StepResult {
  logits: Float32Array;
  presents: ort.Tensor[] | null;
}
