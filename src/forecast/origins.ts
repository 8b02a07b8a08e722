/**
 * Forecasts at chosen origins of one series, batched, with the realised futures
 * beside them: the raw material of calibration (PIT, coverage, P(up) against
 * outcomes) and of sampler searches, where `evaluateWalkForward`'s running
 * scores are not enough.
 */
import { ModelError } from '../core/errors';
import { barsOfWindows, lastObservedIndex, observedCount, type SeriesBars } from './request';
import type { Forecast, ForecastMeta, Forecaster, SamplingOptions, Tensor3 } from './types';

/** Options of {@link forecastAtOrigins}. */
export interface OriginForecastOptions {
  /** Bars ahead (H). */
  horizon: number;
  /** Forecast origins: bar indices t; each window ends at t (inclusive) and the future is t+1..t+H. */
  origins: ArrayLike<number>;
  /** Closes per window (default: the forecaster's context length). */
  lookback?: number;
  /** Opens, highs, lows, times (and volumes) aligned with the closes, for models that read bars (Kronos). */
  bars?: SeriesBars;
  /** Sampled paths per window (default 0: quantiles only, where the forecaster allows). */
  samples?: number;
  /** Seed of the call holding origin k is `seed + k` for its first origin k (default 0). */
  seed?: number;
  sampling?: Partial<SamplingOptions>;
  /** Quantile levels for forecasters not bound to a card's levels (default 0.1..0.9). */
  quantileLevels?: readonly number[];
  /** Windows per forecaster call (default 32). */
  batchSize?: number;
}

/** Forecasts of the kept origins, in origin order, with what was skipped and how long it took. */
export interface OriginForecasts {
  horizon: number;
  /** Origins forecast (bar indices). */
  origins: Int32Array;
  /** Last observed close of each window (the price "up" is measured from). */
  lastPrice: Float64Array;
  /** Realised closes t+1..t+H, row-major [origins, H]. */
  realized: Float64Array;
  /** [origins, Q, H], when the forecaster gave quantiles. */
  quantiles?: { levels: number[]; values: Tensor3 };
  /** [origins, N, H], when paths were sampled. */
  samples?: Tensor3;
  /** Origins left out: the future runs past the data or holds a missing close; too few observed closes. */
  skipped: { missingFuture: number[]; shortContext: number[] };
  /** Wall time of each forecaster call, ms, and its window count. */
  calls: Array<{ windows: number; totalMs: number }>;
  /** Meta of the last call (model, device, sampling, fallbacks of that call). */
  meta: ForecastMeta | null;
  /** Windows answered by a configured fallback, over all calls. */
  fallbackWindows: number;
}

/**
 * Forecasts `horizon` bars ahead at each origin of `closes` (windows of `lookback` closes
 * ending at the origin, never later), batching windows into calls, and keeps the realised
 * futures. Origins whose future is incomplete (past the end, or a NaN close) or whose window
 * has fewer observed closes than the forecaster's `minContext` are skipped and listed.
 * The `oracle` baseline gets the future it needs.
 *
 * @param closes - one series on a regular bar grid, NaN for missing bars.
 * @throws ModelError for a bad lookback, batch size or origin, no origin left, or a failing forecast.
 * @example
 * const f = await forecastAtOrigins(model, closes, { horizon: 30, origins: [600, 660, 720], samples: 100 });
 * f.samples!.dims; // [3, 100, 30]; f.realized.length === 90
 */
export async function forecastAtOrigins(forecaster: Forecaster, closes: Float64Array, opts: OriginForecastOptions): Promise<OriginForecasts> {
  const H = opts.horizon;
  const lookback = opts.lookback ?? forecaster.info.contextLength;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(lookback) || lookback < 1) throw new ModelError('lookback must be a positive integer', { key: 'lookback', value: lookback });
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ModelError('batchSize must be a positive integer', { key: 'batchSize', value: batchSize });
  if (!Number.isInteger(H) || H < 1) throw new ModelError('horizon must be a positive integer', { key: 'horizon', value: H });
  const kept: number[] = [];
  const skipped: OriginForecasts['skipped'] = { missingFuture: [], shortContext: [] };
  for (let k = 0; k < opts.origins.length; k++) {
    const t = opts.origins[k];
    if (!Number.isInteger(t) || t < 0 || t >= closes.length) {
      throw new ModelError(`origin ${t} is not a bar of the ${closes.length}-bar series`, { key: 'origins', row: k, value: t });
    }
    const future = closes.subarray(t + 1, t + 1 + H);
    if (future.length < H || future.some((v) => !Number.isFinite(v))) skipped.missingFuture.push(t);
    else if (observedCount(window(closes, t, lookback)) < forecaster.info.minContext) skipped.shortContext.push(t);
    else kept.push(t);
  }
  if (kept.length === 0) {
    throw new ModelError(`no origin left to forecast (${skipped.missingFuture.length} lack a complete future, ${skipped.shortContext.length} too little context)`, { key: 'origins' });
  }
  const n = kept.length;
  const realized = new Float64Array(n * H);
  const lastPrice = new Float64Array(n);
  kept.forEach((t, i) => {
    realized.set(closes.subarray(t + 1, t + 1 + H), i * H);
    const w = window(closes, t, lookback);
    lastPrice[i] = w[lastObservedIndex(w)]; // kept windows have at least minContext >= 1 observed closes
  });
  const parts: Forecast[] = [];
  const calls: OriginForecasts['calls'] = [];
  let fallbackWindows = 0;
  for (let b = 0; b < n; b += batchSize) {
    const batch = kept.slice(b, b + batchSize);
    const t0 = performance.now();
    const f = await forecaster.forecast({
      context: batch.map((t) => window(closes, t, lookback)),
      horizon: H,
      samples: opts.samples ?? 0,
      seed: (opts.seed ?? 0) + b,
      ...(opts.sampling ? { sampling: opts.sampling } : {}),
      ...(opts.quantileLevels ? { quantileLevels: opts.quantileLevels } : {}),
      future: batch.map((t) => closes.subarray(t + 1, t + 1 + H)),
      contextBars: barsOfWindows(opts.bars, batch.map((t) => [Math.max(0, t + 1 - lookback), t + 1] as const)),
    });
    calls.push({ windows: batch.length, totalMs: performance.now() - t0 });
    fallbackWindows += f.meta.fallback.count;
    parts.push(f);
  }
  const quantiles = parts.every((p) => p.quantiles)
    ? { levels: parts[0].quantiles!.levels, values: concat3(parts.map((p) => p.quantiles!.values)) }
    : undefined;
  const samples = parts.every((p) => p.samples) ? concat3(parts.map((p) => p.samples!)) : undefined;
  return {
    horizon: H,
    origins: Int32Array.from(kept),
    lastPrice,
    realized,
    ...(quantiles ? { quantiles } : {}),
    ...(samples ? { samples } : {}),
    skipped,
    calls,
    meta: parts[parts.length - 1].meta,
    fallbackWindows,
  };
}

function window(closes: Float64Array, t: number, lookback: number): Float64Array {
  return closes.subarray(Math.max(0, t + 1 - lookback), t + 1);
}

/** Concatenates Tensor3s along the first axis (the other two must agree). */
function concat3(parts: Tensor3[]): Tensor3 {
  const [, d1, d2] = parts[0].dims;
  const total = parts.reduce((s, p) => s + p.dims[0], 0);
  const data = new Float64Array(total * d1 * d2);
  let offset = 0;
  for (const p of parts) {
    if (p.dims[1] !== d1 || p.dims[2] !== d2) throw new ModelError(`forecast calls disagree on shape: [${p.dims.join(', ')}] vs [*, ${d1}, ${d2}]`, { key: 'dims' });
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, dims: [total, d1, d2] };
}

/**
 * Origins `start, start + every, ...` below `end` (exclusive).
 * @throws ModelError for a non-positive `every` or an empty range.
 * @example spacedOrigins(100, 200, 30) // Int32Array [100, 130, 160, 190]
 */
export function spacedOrigins(start: number, end: number, every: number): Int32Array {
  if (!Number.isInteger(every) || every < 1) throw new ModelError('every must be a positive integer', { key: 'every', value: every });
  if (!(end > start)) throw new ModelError(`empty origin range [${start}, ${end})`, { key: 'origins' });
  const out: number[] = [];
  for (let t = start; t < end; t += every) out.push(t);
  return Int32Array.from(out);
}
