/**
 * Features of the signal model, one row per bar of one symbol, each computed from data up to
 * and including that bar only (no look-ahead): returns over several lags, realised volatility,
 * volume and range relative to their recent means, distance to the session VWAP in units of
 * its band, time of day, the funding rate of a perpetual, the regime of a coarser timeframe
 * (from its completed bars only), and the forecaster's outputs as given.
 */
import { ConfigError, DataError } from '../core/errors';
import type { BarArrays } from '../data/bars';
import { sessionVwapArrays } from '../data/features';
import type { SessionLike } from '../data/sessions';
import { classifyRegimes, type RegimeOptions } from '../backtest/regime';

/** Forecaster outputs at each bar (made at the bar's close from data up to it); any may be omitted. */
export interface ForecastFeatures {
  /** P(close[t + H] > close[t]). */
  pUp?: Float64Array;
  /** Expected return over the horizon, fraction. */
  expectedReturn?: Float64Array;
  /** Quantiles of close[t + H] (prices): band width (q90 - q10) / close and skew ((q90 - q50) - (q50 - q10)) / (q90 - q10) derive from them. */
  q10?: Float64Array;
  q50?: Float64Array;
  q90?: Float64Array;
}

/** Options of {@link buildSignalFeatures}. */
export interface SignalFeatureOptions {
  /** Return lags in bars (default [1, 4, 16, 64]). */
  lags?: number[];
  /** Bars in realised volatility and in the volume and range means (default 32). */
  window?: number;
  /** Session of the VWAP (default '24x7': resets at 00:00 UTC). */
  session?: SessionLike;
  /** Funding rate in force at each bar (perpetuals), already aligned to the bars; NaN where unknown. */
  funding?: Float64Array;
  /** Coarser timeframe of the regime feature, in bars of this series (e.g. 4 for 1h over 15m); default none. */
  regimeEvery?: number;
  /** Options of the coarse regime classifier (its windows count coarse bars). */
  regime?: RegimeOptions;
  /** Forecaster outputs per bar. */
  forecast?: ForecastFeatures;
}

/** A row-major feature matrix with its column names. */
export interface FeatureMatrix {
  names: string[];
  numRow: number;
  /** `x[t * names.length + j]`; NaN where a feature is not yet defined (warm-up) or unknown. */
  x: Float64Array;
}

const DAY_MS = 86_400_000;

/**
 * Builds the feature matrix of one symbol's time-sorted bars.
 *
 * Columns, in order: `ret_<k>` = log(close_t / close_{t-k}); `rvol` = sqrt(mean r_1^2 over
 * the last `window` bars); `volume_rel` = log(volume_t / mean volume of the last `window`);
 * `range` = (high - low) / close; `range_rel` = range / its mean over `window`; `vwap_dist`
 * = close / VWAP_session - 1; `vwap_z` = (close - VWAP) / sd of (close - VWAP) over `window`
 * (the position in the VWAP bands); `tod_sin`, `tod_cos` of the UTC time of day; then
 * `funding`, `regime` (code of the last completed coarse bar: 0 trend, 1 chop, 2 high vol,
 * 3 shock), `f_pup`, `f_mu`, `f_band`, `f_skew` when their inputs are given.
 *
 * @throws ConfigError for bad lags, window or regimeEvery; DataError when an aligned input has another length.
 * @example buildSignalFeatures(bars, { lags: [1, 4], funding }).names // ['ret_1', 'ret_4', 'rvol', ..., 'funding']
 */
export function buildSignalFeatures(bars: BarArrays, opts: SignalFeatureOptions = {}): FeatureMatrix {
  const n = bars.close.length;
  const lags = opts.lags ?? [1, 4, 16, 64];
  const w = opts.window ?? 32;
  if (lags.length === 0 || lags.some((k) => !Number.isInteger(k) || k < 1)) throw new ConfigError('lags must be positive integers', { key: 'lags', value: lags });
  if (!Number.isInteger(w) || w < 2) throw new ConfigError('window must be an integer >= 2', { key: 'window', value: w });
  const aligned = (name: string, a: Float64Array | undefined): void => {
    if (a !== undefined && a.length !== n) throw new DataError(`${name} has ${a.length} values for ${n} bars`, { column: name });
  };
  aligned('funding', opts.funding);
  const fc = opts.forecast;
  for (const k of ['pUp', 'expectedReturn', 'q10', 'q50', 'q90'] as const) aligned(k, fc?.[k]);

  const cols: { name: string; v: Float64Array }[] = [];
  const { close, high, low, volume, ts } = bars;
  for (const k of lags) {
    const v = new Float64Array(n).fill(NaN);
    for (let t = k; t < n; t++) v[t] = Math.log(close[t]! / close[t - k]!);
    cols.push({ name: `ret_${k}`, v });
  }
  // Rolling sums over the last w bars (inclusive of t).
  const rvol = new Float64Array(n).fill(NaN);
  const volRel = new Float64Array(n).fill(NaN);
  const range = new Float64Array(n);
  const rangeRel = new Float64Array(n).fill(NaN);
  let sq = 0;
  let sv = 0;
  let sr = 0;
  for (let t = 0; t < n; t++) {
    range[t] = (high[t]! - low[t]!) / close[t]!;
    const r = t > 0 ? Math.log(close[t]! / close[t - 1]!) : 0;
    sq += r * r;
    sv += volume[t]!;
    sr += range[t]!;
    if (t >= w) {
      const o = t - w;
      const ro = o > 0 ? Math.log(close[o]! / close[o - 1]!) : 0;
      sq -= ro * ro;
      sv -= volume[o]!;
      sr -= range[o]!;
    }
    if (t >= w) rvol[t] = Math.sqrt(Math.max(0, sq) / w);
    if (t >= w - 1) {
      const mv = sv / w;
      volRel[t] = mv > 0 && volume[t]! > 0 ? Math.log(volume[t]! / mv) : NaN;
      const mr = sr / w;
      rangeRel[t] = mr > 0 ? range[t]! / mr : NaN;
    }
  }
  cols.push({ name: 'rvol', v: rvol }, { name: 'volume_rel', v: volRel }, { name: 'range', v: range }, { name: 'range_rel', v: rangeRel });

  const vwap = sessionVwapArrays(bars, opts.session ?? '24x7');
  const vwapDist = new Float64Array(n);
  const vwapZ = new Float64Array(n).fill(NaN);
  let sd = 0;
  let sd2 = 0;
  let cnt = 0;
  const dev = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const d = close[t]! - vwap[t]!;
    vwapDist[t] = close[t]! / vwap[t]! - 1;
    dev[t] = d;
    if (Number.isFinite(d)) {
      sd += d;
      sd2 += d * d;
      cnt++;
    }
    if (t >= w && Number.isFinite(dev[t - w]!)) {
      sd -= dev[t - w]!;
      sd2 -= dev[t - w]! * dev[t - w]!;
      cnt--;
    }
    if (cnt >= w / 2 && Number.isFinite(d)) {
      const mean = sd / cnt;
      const s = Math.sqrt(Math.max(0, sd2 / cnt - mean * mean));
      vwapZ[t] = s > 0 ? d / s : NaN;
    }
  }
  cols.push({ name: 'vwap_dist', v: vwapDist }, { name: 'vwap_z', v: vwapZ });

  const todSin = new Float64Array(n);
  const todCos = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const a = (2 * Math.PI * (((ts[t]! % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
    todSin[t] = Math.sin(a);
    todCos[t] = Math.cos(a);
  }
  cols.push({ name: 'tod_sin', v: todSin }, { name: 'tod_cos', v: todCos });

  if (opts.funding) cols.push({ name: 'funding', v: Float64Array.from(opts.funding) });
  if (opts.regimeEvery !== undefined) cols.push({ name: 'regime', v: coarseRegime(close, opts.regimeEvery, opts.regime) });

  if (fc?.pUp) cols.push({ name: 'f_pup', v: Float64Array.from(fc.pUp) });
  if (fc?.expectedReturn) cols.push({ name: 'f_mu', v: Float64Array.from(fc.expectedReturn) });
  if (fc?.q10 && fc.q90) {
    const band = new Float64Array(n);
    for (let t = 0; t < n; t++) band[t] = (fc.q90[t]! - fc.q10[t]!) / close[t]!;
    cols.push({ name: 'f_band', v: band });
    if (fc.q50) {
      const skew = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        const width = fc.q90[t]! - fc.q10[t]!;
        skew[t] = width > 0 ? (fc.q90[t]! - 2 * fc.q50[t]! + fc.q10[t]!) / width : NaN;
      }
      cols.push({ name: 'f_skew', v: skew });
    }
  }

  const F = cols.length;
  const x = new Float64Array(n * F);
  cols.forEach((c, j) => {
    for (let t = 0; t < n; t++) x[t * F + j] = c.v[t]!;
  });
  return { names: cols.map((c) => c.name), numRow: n, x };
}

/**
 * Regime code at each bar from a coarser timeframe of `every` bars: coarse bar k closes at bar
 * (k + 1) * every - 1, and bar t sees the label of the last coarse bar closed at or before t
 * (NaN before the first). The coarse classifier itself only looks back.
 */
function coarseRegime(close: Float64Array, every: number, options: RegimeOptions | undefined): Float64Array {
  if (!Number.isInteger(every) || every < 2) throw new ConfigError('regimeEvery must be an integer >= 2', { key: 'regimeEvery', value: every });
  const n = close.length;
  const m = Math.floor(n / every);
  const coarse = new Float64Array(m);
  for (let k = 0; k < m; k++) coarse[k] = close[(k + 1) * every - 1]!;
  const labels = m > 0 ? classifyRegimes(coarse, options).labels : new Uint8Array(0);
  const out = new Float64Array(n).fill(NaN);
  for (let t = 0; t < n; t++) {
    const k = Math.floor((t + 1) / every) - 1;
    if (k >= 0 && k < m) out[t] = labels[k]!;
  }
  return out;
}
