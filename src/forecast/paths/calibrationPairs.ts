/**
 * Walk-forward (forecast, outcome) pairs for calibration: at origins every `stride` bars of each
 * series the forecaster sees closes up to the origin only; the pairs of all series are pooled in
 * time order (origin bar, then series), the order walk-forward recalibration reads them in.
 */
import { ModelError } from '../../core/errors';
import { forecastAtOrigins, spacedOrigins, type OriginForecasts } from '../origins';
import { probAboveFromQuantiles } from './quantileCurve';
import type { Forecaster } from '../types';

/** Pooled pairs, one row per (origin, series), in time order. */
export interface CalibrationPairs {
  /** Origin bar of each row. */
  t: Int32Array;
  /** Series (position in the input list) of each row. */
  series: Int32Array;
  /** P(close[t + H] > close[t]) from the forecast quantiles at step H. */
  pUp: Float64Array;
  /** 1 when close[t + H] > close[t], else 0. */
  up: Float64Array;
  /** The forecaster's quantile levels. */
  levels: number[];
  /** Quantiles at step H, row-major [rows, levels] (input of `pitFromQuantiles`, `coverageFromQuantiles`). */
  atH: Float64Array;
  /** close[t + H] of each row. */
  realized: Float64Array;
  /** close[t] of each row. */
  lastPrice: Float64Array;
}

/** Options of {@link calibrationPairs}. */
export interface CalibrationPairOptions {
  /** Bars ahead (H). */
  horizon: number;
  /** Bars between origins; origins run from the forecaster's `minContext` to the end of the series. */
  stride: number;
  /** Windows per forecaster call (default 64). */
  batchSize?: number;
}

/**
 * Forecasts each series at origins `minContext, minContext + stride, ...` (`forecastAtOrigins`:
 * windows end at the origin, never later; origins without a complete future are skipped) and
 * pools the pairs in time order (origin bar, then series).
 *
 * pUp = 1 − F(close[t]) with F interpolated linearly between the quantiles at step H and clamped
 * to the outer levels outside them (the backtest's `pUpFromQuantiles`, so 0.1 ≤ pUp ≤ 0.9 with
 * levels 0.1..0.9); up = 1 when close[t + H] > close[t] (a tie is not up).
 *
 * @param closes - one close series per symbol, on one bar grid (NaN where a symbol has no bar),
 *   e.g. `market.symbols.map((s) => symbolCloses(market, s))`.
 * @throws ModelError when the forecaster gives no quantiles, or from `forecastAtOrigins`
 *   (no origin left in a series, bad options) and the forecaster.
 * @example
 * const pairs = await calibrationPairs(createBaseline('historical'), [closesA, closesB], { horizon: 30, stride: 30 });
 * calibrationSummary(pairs.pUp, pairs.up).brier;
 */
export async function calibrationPairs(forecaster: Forecaster, closes: readonly Float64Array[], opts: CalibrationPairOptions): Promise<CalibrationPairs> {
  const H = opts.horizon;
  const perSeries: OriginForecasts[] = [];
  for (const c of closes) {
    perSeries.push(await forecastAtOrigins(forecaster, c, { horizon: H, origins: spacedOrigins(forecaster.info.minContext, c.length, opts.stride),
      batchSize: opts.batchSize ?? 64 }));
  }
  const quantiles = perSeries.map((f) => f.quantiles);
  const levels = quantiles[0]?.levels;
  if (!levels || quantiles.some((q) => !q)) throw new ModelError(`${forecaster.info.name} gave no quantiles: calibration pairs need them`, { key: 'quantiles' });
  // Pool in time order (origin bar, then series): walk-forward recalibration reads rows in this order.
  const rows = perSeries.flatMap((f, s) => Array.from(f.origins, (t, i) => ({ t, s, i }))).sort((a, b) => a.t - b.t || a.s - b.s);
  const Q = levels.length;
  const n = rows.length;
  const out: CalibrationPairs = {
    t: new Int32Array(n), series: new Int32Array(n), pUp: new Float64Array(n), up: new Float64Array(n),
    levels, atH: new Float64Array(n * Q), realized: new Float64Array(n), lastPrice: new Float64Array(n),
  };
  rows.forEach(({ t, s, i }, k) => {
    const f = perSeries[s];
    const values = quantiles[s]!.values.data;
    for (let q = 0; q < Q; q++) out.atH[k * Q + q] = values[(i * Q + q) * H + H - 1];
    const last = f.lastPrice[i];
    const y = f.realized[i * H + H - 1];
    out.t[k] = t;
    out.series[k] = s;
    out.pUp[k] = probAboveFromQuantiles(levels, out.atH.subarray(k * Q, (k + 1) * Q), last, { interpolation: 'level', tails: 'clamp' });
    out.up[k] = y > last ? 1 : 0;
    out.realized[k] = y;
    out.lastPrice[k] = last;
  });
  return out;
}
