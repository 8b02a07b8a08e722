/**
 * The thin adapter from any `Forecaster` (ONNX model or baseline) to the engine's
 * per-bar arrays: at every bar t of every symbol, a window of closes ending at t
 * (never after it) is forecast `horizonBars` ahead; the forecast at the last step
 * becomes mu, sigma and pUp. Windows are batched across bars and symbols.
 */
import { ConfigError, ModelError } from '../core/errors';
import { aggregateSorted, parseAggregate, type Aggregate } from '../forecast/aggregate';
import { probAboveAtStep } from '../forecast/paths/stats';
import { barsOfWindows } from '../forecast/request';
import type { ContextBars, Forecast, Forecaster } from '../forecast/types';
import { symbolCloses, type MarketArrays } from './market';
import { pUpFromQuantiles } from './outlookStrategy';
import { muSigmaFromQuantilePoint, muSigmaFromSamples, type Signals, type SpreadToSigma } from './signals';

/** Options of `forecastSignals`. */
export interface ForecastSignalOptions {
  /** Bars ahead (H); mu, sigma and pUp are about close[t + H] vs close[t]. */
  horizonBars: number;
  /** Closes per window (default and maximum: the forecaster's context length). */
  contextBars?: number;
  /** Windows per forecaster call (default 256). */
  batchSize?: number;
  /** Sampled paths per window; 0 (default) uses the quantiles. With paths, mu and sigma are their mean and sd. */
  samples?: number;
  /**
   * With sampled paths: the point aggregate of the paths' closes at the horizon that gives mu
   * (`mean`, `median`, `trimmed_mean_P`, `winsorized_mean_P`, `quantile_Q`; see `parseAggregate`);
   * default the mean. Sigma stays the paths' sd. Ignored without paths (mu is the median quantile).
   */
  aggregate?: string;
  seed?: number;
  /** Floor of sigma, fraction of price (default 0.005). */
  sigmaFloor?: number;
  spread?: SpreadToSigma;
  /** Forecast only bars in [start, end) (windows still reach back before start); default all bars. */
  range?: { start: number; end: number };
  /** Progress callback: windows done, windows in all. */
  progress?: (done: number, total: number) => void;
}

/** Signals plus pUp and what the forecaster did. */
export interface ForecastSignals {
  signals: Signals & { valid: Uint8Array };
  /** P(close[t + H] > close[t]) per bar and symbol; NaN where there is no forecast. */
  pUp: Float64Array;
  meta: {
    forecaster: string;
    device: string;
    windows: number;
    calls: number;
    totalMs: number;
    /** Windows the forecaster's fallback answered (as its meta reported). */
    fallbackWindows: number;
    fallbackReasons: string[];
    /** Bars with a close but no forecast: too little context (or, for the oracle, too little future). */
    noForecast: number;
  };
}

const LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * Forecasts every bar of every symbol and returns the engine's arrays.
 *
 * mu = median (or the paths' mean, or their `aggregate`) / close[t] - 1 and sigma = (q90 - q10) / (2 close[t]) (or
 * the path sd), floored; pUp = share of paths above close[t], or 1 - F(close[t]) with F
 * interpolated between quantiles. The `oracle` baseline reads the realised future; its
 * signals are flagged `lookAhead`.
 *
 * @throws ConfigError for a horizon beyond the forecaster's, ModelError from the forecaster.
 * @example
 * const { signals, pUp } = await forecastSignals(market, createBaseline('historical'), { horizonBars: 30 });
 * runBacktest(market, signals, config);
 */
export async function forecastSignals(market: MarketArrays, forecaster: Forecaster, opts: ForecastSignalOptions): Promise<ForecastSignals> {
  const info = forecaster.info;
  const H = opts.horizonBars;
  if (!Number.isInteger(H) || H < 1 || H > info.maxHorizon) {
    throw new ConfigError(`horizon must be an integer in 1..${info.maxHorizon} for ${info.name}`, { key: 'horizon', value: H });
  }
  const L = Math.min(opts.contextBars ?? info.contextLength, info.contextLength);
  const batchSize = opts.batchSize ?? 256;
  const samples = opts.samples ?? 0;
  const floor = opts.sigmaFloor ?? 0.005;
  const spread = opts.spread ?? 'halfRange';
  const aggregate = opts.aggregate !== undefined && samples > 0 ? parseAggregate(opts.aggregate) : null;
  const oracle = info.name === 'oracle';
  const S = market.symbols.length;
  const T = market.ts.length;
  const mu = new Float64Array(T * S);
  const sigma = new Float64Array(T * S).fill(NaN);
  const pUp = new Float64Array(T * S).fill(NaN);
  const valid = new Uint8Array(T * S);
  const meta: ForecastSignals['meta'] = { forecaster: info.name, device: 'none', windows: 0, calls: 0, totalMs: 0, fallbackWindows: 0, fallbackReasons: [], noForecast: 0 };

  // Symbol-major closes, so that a window is a zero-copy view ending at t.
  const closes = market.symbols.map((_, s) => symbolCloses(market, s));
  // Models that read whole bars (Kronos) get opens, highs, lows and bar times too (the market has no volume).
  const symbolMajor = (a: Float64Array, s: number) => Float64Array.from({ length: T }, (_, t) => a[t * S + s]);
  const bars = info.family === 'kronos' ? market.symbols.map((_, s) => ({ ts: market.ts, open: symbolMajor(market.open, s), high: symbolMajor(market.high, s), low: symbolMajor(market.low, s) })) : null;
  const jobs: Array<{ s: number; t: number }> = [];
  const from = opts.range?.start ?? 0;
  const to = opts.range?.end ?? T;
  for (let s = 0; s < S; s++) {
    const c = closes[s];
    let observed = 0;
    for (let t = 0; t < to; t++) {
      if (c[t] !== c[t]) continue;
      observed++;
      if (t < from) continue;
      const futureOk = !oracle || (t + H < T && !c.subarray(t + 1, t + 1 + H).some((v) => v !== v));
      if (observed >= info.minContext && futureOk) jobs.push({ s, t });
      else meta.noForecast++;
    }
  }
  const t0 = performance.now();
  for (let b = 0; b < jobs.length; b += batchSize) {
    const batch = jobs.slice(b, b + batchSize);
    const context = batch.map(({ s, t }) => closes[s].subarray(Math.max(0, t + 1 - L), t + 1));
    const f = await forecaster.forecast({
      context,
      horizon: H,
      samples,
      seed: (opts.seed ?? 0) + b,
      quantileLevels: LEVELS,
      origins: batch.map(({ s, t }) => ({ stream: market.symbols[s], t })),
      ...(bars ? { contextBars: mergeBars(batch.map(({ s, t }) => barsOfWindows(bars[s], [[Math.max(0, t + 1 - L), t + 1]])!)) } : {}),
      ...(oracle ? { future: batch.map(({ s, t }) => closes[s].subarray(t + 1, t + 1 + H)) } : {}),
    });
    meta.calls++;
    meta.device = f.meta.device;
    meta.fallbackWindows += f.meta.fallback.count;
    for (const r of f.meta.fallback.reasons) if (meta.fallbackReasons.length < 20) meta.fallbackReasons.push(r);
    batch.forEach(({ s, t }, i) => {
      const idx = t * S + s;
      const price = closes[s][t];
      const r = fromForecast(f, i, H, price, samples, spread, floor, aggregate);
      mu[idx] = r.mu;
      sigma[idx] = r.sigma;
      pUp[idx] = r.pUp;
      valid[idx] = 1;
    });
    meta.windows += batch.length;
    opts.progress?.(meta.windows, jobs.length);
  }
  meta.totalMs = performance.now() - t0;
  return { signals: { mu, sigma, valid, horizonBars: H, lookAhead: oracle }, pUp, meta };
}

function fromForecast(f: Forecast, i: number, H: number, price: number, samples: number, spread: SpreadToSigma, sigmaFloor: number,
  aggregate: Aggregate | null): { mu: number; sigma: number; pUp: number } {
  if (samples > 0) {
    if (!f.samples) throw new ModelError(`${f.meta.model} returned no sampled paths`, { key: 'samples' });
    const [, N] = f.samples.dims;
    const offset = i * N * H;
    const ms = muSigmaFromSamples(f.samples.data, N, H, price, { offset, sigmaFloor });
    if (aggregate) {
      const last = Float64Array.from({ length: N }, (_, n) => f.samples!.data[offset + n * H + H - 1]).sort();
      ms.mu = aggregateSorted(last, aggregate) / price - 1;
    }
    return { ...ms, pUp: probAboveAtStep(f.samples.data, N, H, price, H - 1, offset) };
  }
  const q = f.quantiles;
  if (!q) throw new ModelError(`${f.meta.model} returned no quantiles`, { key: 'quantiles' });
  const Q = q.levels.length;
  const atH = Float64Array.from({ length: Q }, (_, j) => q.values.data[(i * Q + j) * H + H - 1]);
  const at = (level: number): number => {
    const j = q.levels.findIndex((l) => Math.abs(l - level) < 1e-9);
    if (j < 0) throw new ModelError(`${f.meta.model} has no ${level} quantile (levels ${q.levels.join(', ')})`, { key: 'quantileLevels' });
    return atH[j];
  };
  return { ...muSigmaFromQuantilePoint(at(0.5), at(0.1), at(0.9), price, { sigmaFloor, spread }, i), pUp: pUpFromQuantiles(q.levels, atH, price) };
}

/** One `contextBars` for a batch from the one-window bars of each job. */
function mergeBars(parts: ContextBars[]): ContextBars {
  const all = (key: 'timeMs' | 'open' | 'high' | 'low') => parts.flatMap((p) => p[key] as readonly Float64Array[]);
  return { timeMs: all('timeMs'), open: all('open'), high: all('high'), low: all('low') };
}
