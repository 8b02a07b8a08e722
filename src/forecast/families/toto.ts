/**
 * Forecaster of the `toto` family (DataDog/toto, checkpoint Datadog/Toto-Open-Base-1.0):
 * closes in, sampled close paths out, patch by patch.
 *
 * Per window, as TotoForecaster does for one variate: the last `contextLength` closes are
 * left-padded with unobserved zeros to a multiple of `patchSize` (missing closes are unobserved
 * too); with the card's `priceLevel` the window is first divided by its last close and multiplied
 * by the level (quantbook's step, so the scaler's variance floor does not swamp small prices, undone
 * on the paths); Toto's CausalPatchStdMeanScaler scales the series (`totoScale`); the graph gives the
 * Student-T mixture (weights, df, loc, scale) of each step of the next patch; each step is drawn
 * from its mixture and mapped back with the last patch's loc and scale; the patch is appended
 * and the series scaled again (global statistics from the original context only), until the
 * horizon is covered. Every path has its own random stream (seed, window, path).
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../core/errors';
import { Rng } from '../../core/random';
import type { LoadedCard, TotoCard } from '../card';
import { quantilesFromSamples } from '../distribution';
import { checkSamplingRequest, tail } from '../request';
import type { ModelSession } from '../runtime';
import { pathRng } from '../sampling';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo } from '../types';

/** Default number of paths when a request does not say. */
export const DEFAULT_TOTO_SAMPLES = 100;

/** Paths run together through the graph (rows of one ONNX run). */
const ROWS_PER_RUN = 32;

/** The mixture of one graph run: each [rows, patchSize, K], row-major. */
export interface TotoMixture {
  weights: Float32Array;
  df: Float32Array;
  loc: Float32Array;
  scale: Float32Array;
}

/** A scaled series: the graph's input and the statistics of its last patch. */
export interface TotoScaled {
  scaled: Float32Array;
  /** Mean and scale at the last step of the last patch (a draw z maps back to loc + scale × z). */
  loc: number;
  scale: number;
}

/**
 * Toto's CausalPatchStdMeanScaler on one series (float64 inside, as Toto): running mean and
 * Welford second moment over the observed steps, variance with Bessel's correction (divided by
 * max(count - 1, 1)), scale = sqrt(variance + minimumScale); with `stabilizeWithGlobal` the scale is
 * clamped to [max(minimumScale, g × 10^-e), g × 10^e], g the global scale of the first `prefix`
 * steps; every step of a patch uses the statistics of the patch's last step.
 * @param values - series, length a multiple of `patch` (unobserved steps hold 0).
 * @param observed - 1 where a value is observed, 0 for padding or missing.
 * @param prefix - steps of the original context (global statistics use only these).
 * @example totoScale(Float64Array.of(1, 2, 3, 4), Uint8Array.of(1, 1, 1, 1), 2, 4, card.scaling).loc // 2.5
 */
export function totoScale(
  values: Float64Array,
  observed: Uint8Array,
  patch: number,
  prefix: number,
  scaling: Pick<TotoCard['scaling'], 'minimumScale' | 'besselCorrection' | 'stabilizeWithGlobal' | 'scaleFactorExponent'>,
): TotoScaled {
  const T = values.length;
  const mean = new Float64Array(T);
  const scale = new Float64Array(T);
  let cw = 0;
  let cv = 0;
  let m2 = 0;
  let prev = 0;
  for (let t = 0; t < T; t++) {
    const w = observed[t];
    const x = values[t];
    cw += w;
    cv += w * x;
    const den = Math.max(cw, 1);
    const m = cv / den;
    m2 += (x - prev) * (x - m) * w;
    const variance = scaling.besselCorrection ? m2 / Math.max(den - 1, 1) : m2 / den;
    mean[t] = m;
    scale[t] = Math.sqrt(variance + scaling.minimumScale);
    prev = m;
  }
  if (scaling.stabilizeWithGlobal) {
    let gw = 0;
    let gs = 0;
    for (let t = 0; t < Math.min(prefix, T); t++) {
      gw += observed[t];
      gs += observed[t] * values[t];
    }
    const gden = Math.max(gw, 1);
    const gmean = gs / gden;
    let gq = 0;
    for (let t = 0; t < Math.min(prefix, T); t++) gq += ((values[t] - gmean) * observed[t]) ** 2;
    const g = Math.sqrt(gq / gden + scaling.minimumScale);
    const f = 10 ** scaling.scaleFactorExponent;
    const lo = Math.max(scaling.minimumScale, g / f);
    const hi = g * f;
    for (let t = 0; t < T; t++) scale[t] = Math.min(hi, Math.max(lo, scale[t]));
  }
  const scaled = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const last = t - (t % patch) + patch - 1;
    scaled[t] = (values[t] - mean[last]) / scale[last];
  }
  return { scaled, loc: mean[T - 1], scale: scale[T - 1] };
}

/**
 * One draw from a Student-T mixture: a component by its weight (one uniform), then
 * loc_k + scale_k × t(df_k) (`Rng.studentT`). With `mean` the mixture mean Σ w_k loc_k
 * (every df > 2, so each component's mean is its loc) and no random number is used.
 * @example drawMixture(m, 0, 3, rng, false)
 */
export function drawMixture(m: TotoMixture, at: number, K: number, rng: Rng, mean: boolean): number {
  if (mean) {
    let s = 0;
    for (let k = 0; k < K; k++) s += m.weights[at + k] * m.loc[at + k];
    return s;
  }
  const u = rng.uniform();
  let acc = 0;
  let k = 0;
  for (; k < K - 1; k++) {
    acc += m.weights[at + k];
    if (u < acc) break;
  }
  return m.loc[at + k] + m.scale[at + k] * rng.studentT(m.df[at + k]);
}

export class TotoForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: TotoCard;
  private modelMs = 0;
  private runs = 0;

  constructor(
    private readonly loaded: LoadedCard & { card: TotoCard },
    private readonly session: ModelSession,
  ) {
    this.card = loaded.card;
    this.info = {
      name: this.card.name,
      family: 'toto',
      contextLength: this.card.contextLength,
      minContext: this.card.minContext,
      maxHorizon: this.card.horizon,
      quantileLevels: null,
    };
  }

  get device(): 'cpu' | 'cuda' {
    return this.session.device;
  }

  /** One run on one patch of zeros. */
  async warmUp(): Promise<void> {
    await this.mixture(new Float32Array(this.card.patchSize), 1, this.card.patchSize);
  }

  /** The graph: scaled series [rows, T] -> the mixture of the next patch. */
  async mixture(scaled: Float32Array, rows: number, T: number): Promise<TotoMixture> {
    const t0 = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.session.run({ context: new ort.Tensor('float32', scaled, [rows, T]) });
    } catch (err) {
      throw new ModelError(`${this.card.name}: the graph failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { file: this.loaded.cardPath }, { cause: err });
    } finally {
      this.modelMs += performance.now() - t0;
      this.runs++;
    }
    const get = (name: string): Float32Array => {
      const data = out[name].data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) throw new ModelError(`${this.card.name} returned a non-finite ${name} value at ${i}`, { file: this.loaded.cardPath, key: name });
      }
      return data;
    };
    return { weights: get('weights'), df: get('df'), loc: get('loc'), scale: get('scale') };
  }

  /**
   * N sampled close paths per window ([B, N, H] in `samples`) and their quantiles.
   * `sampling.temperature: 0` sets every step to its mixture mean (one deterministic path, repeated).
   * @throws ModelError on bad windows, a horizon beyond the card's, samples < 1, or non-finite model output.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    this.modelMs = 0;
    this.runs = 0;
    const { windows, n } = checkSamplingRequest(request, this.info, DEFAULT_TOTO_SAMPLES, 'Toto');
    const meanPath = request.sampling?.temperature === 0;
    const seed = request.seed ?? 0;
    const H = request.horizon;
    const B = windows.length;
    const close = tensor3(B, n, H);
    let missing = 0;
    for (let w = 0; w < B; w++) missing += await this.sampleWindow(tail(windows[w], this.card.contextLength), w, n, H, seed, meanPath, close.data);
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    const P = this.card.patchSize;
    return {
      quantiles: { levels, values: quantilesFromSamples(close, levels) },
      samples: close,
      meta: {
        model: this.card.name,
        family: 'toto',
        device: this.device,
        batch: B,
        horizon: H,
        samples: n,
        samplesFrom: 'model',
        samplesMethod: `Toto Student-T mixture (${this.card.mixtureComponents} components) per step, ${meanPath ? 'mixture mean (temperature 0)' : 'sampled'}, ${Math.ceil(H / P)} patch(es) of ${P}; ${missing} missing context closes fed as unobserved`,
        timings: { totalMs: performance.now() - t0, modelMs: this.modelMs, runs: this.runs },
        fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
  }

  async close(): Promise<void> {
    // The session stays in the shared cache.
  }

  /** The divisor of a window's prices: last observed close / priceLevel.level (1 without `priceLevel`). */
  private priceUnit(window: Float64Array): number {
    const level = this.card.priceLevel?.level;
    if (level === undefined) return 1;
    for (let i = window.length - 1; i >= 0; i--) {
      if (Number.isFinite(window[i])) {
        if (!(window[i] > 0)) throw new ModelError(`${this.card.name}: the last observed close ${window[i]} is not a positive price (priceLevel divides by it)`, { key: 'context', value: window[i] });
        return window[i] / level;
      }
    }
    return 1;
  }

  /** Samples n paths of one window, writing closes at (w, path, step); returns the missing context closes. */
  private async sampleWindow(window: Float64Array, w: number, n: number, H: number, seed: number, meanPath: boolean, out: Float64Array): Promise<number> {
    const P = this.card.patchSize;
    const K = this.card.mixtureComponents;
    const unit = this.priceUnit(window);
    const pad = (P - (window.length % P)) % P;
    const T0 = pad + window.length;
    const steps = Math.ceil(H / P);
    const Tmax = T0 + steps * P;
    let missing = 0;
    const baseVals = new Float64Array(Tmax);
    const baseObs = new Uint8Array(Tmax);
    window.forEach((x, i) => {
      if (Number.isFinite(x)) {
        baseVals[pad + i] = x / unit;
        baseObs[pad + i] = 1;
      } else missing++;
    });
    baseObs.fill(1, T0);
    const base = new Rng(seed);
    // The first patch is the same for every path: one row is run once and shared by all batches.
    const first0 = totoScale(baseVals.subarray(0, T0), baseObs.subarray(0, T0), P, T0, this.card.scaling);
    const firstMixture = await this.mixture(first0.scaled, 1, T0);
    for (let start = 0; start < n; start += ROWS_PER_RUN) {
      const rows = Math.min(ROWS_PER_RUN, n - start);
      const rngs = Array.from({ length: rows }, (_, r) => pathRng(base, w, start + r));
      const vals = Array.from({ length: rows }, () => baseVals.slice());
      for (let s = 0; s < steps; s++) {
        const T = T0 + s * P;
        const k = s === 0 ? 1 : rows;
        const stats: TotoScaled[] = s === 0 ? [first0] : [];
        let m = firstMixture;
        if (s > 0) {
          const input = new Float32Array(k * T);
          for (let r = 0; r < k; r++) {
            const sc = totoScale(vals[r].subarray(0, T), baseObs.subarray(0, T), P, T0, this.card.scaling);
            input.set(sc.scaled, r * T);
            stats.push(sc);
          }
          m = await this.mixture(input, k, T);
        }
        for (let r = 0; r < rows; r++) {
          const row = k === 1 ? 0 : r;
          const { loc, scale } = stats[row];
          for (let j = 0; j < P; j++) {
            const x = loc + scale * drawMixture(m, (row * P + j) * K, K, rngs[r], meanPath);
            vals[r][T + j] = x;
            const h = s * P + j;
            if (h < H) out[(w * n + start + r) * H + h] = x * unit;
          }
        }
      }
    }
    return missing;
  }
}
