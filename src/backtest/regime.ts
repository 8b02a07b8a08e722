/**
 * A simple, causal market-regime classifier on trend strength and realised
 * volatility, whose labels feed the regime sizing multipliers.
 *
 * At bar t, from closes up to and including t only (log returns r_i = ln(c_i / c_{i-1})):
 * - short volatility `volShort_t = sqrt(mean(r_i^2))` over the last `volWindow` returns;
 * - baseline volatility `volBase_{t-1}`: square root of an exponentially weighted mean of
 *   r^2 with half-life `baselineHalfLife` bars, up to t-1 (a shock does not raise its own bar);
 * - trend strength, Kaufman's efficiency ratio over `trendWindow` bars:
 *   `ER_t = |c_t - c_{t-n}| / sum |c_i - c_{i-1}|` in [0, 1] (about 1/sqrt(n) for a random walk).
 *
 * Labels, first match wins:
 * 1. `shock`: `|r_t| > shockSigmas * volBase_{t-1}`; the label holds for `shockHoldBars` more bars;
 * 2. `highVol`: `volShort_t > highVolRatio * volBase_{t-1}`;
 * 3. `trend`: `ER_t >= trendThreshold`;
 * 4. `chop`: otherwise.
 * The first `warmupBars` bars (default: the longest window, at least 100) are labelled
 * `chop` and counted in `warmupBars` of the result: a reduced size, never a full one,
 * while the classifier knows too little.
 */
import { ConfigError } from '../core/errors';
import type { MarketArrays } from './market';

/** Regime label codes stored in a `Uint8Array`. */
export const REGIME = { trend: 0, chop: 1, highVol: 2, shock: 3 } as const;
/** Regime names by code. */
export const REGIME_NAMES = ['trend', 'chop', 'highVol', 'shock'] as const;
export type RegimeName = (typeof REGIME_NAMES)[number];

/** Settings of `classifyRegimes`. */
export interface RegimeOptions {
  /** Bars in the efficiency ratio (default 30). */
  trendWindow?: number;
  /** ER at or above this is a trend (default 0.3). */
  trendThreshold?: number;
  /** Returns in the short volatility (default 30). */
  volWindow?: number;
  /** Half-life of the baseline variance, bars (default 1000). */
  baselineHalfLife?: number;
  /** Short / baseline volatility above this is high volatility (default 1.5). */
  highVolRatio?: number;
  /** A return beyond this many baseline sigmas is a shock (default 6). */
  shockSigmas?: number;
  /** Bars the shock label persists after the shock bar (default 12). */
  shockHoldBars?: number;
  /** Bars labelled chop at the start (default max(trendWindow, volWindow, 100)). */
  warmupBars?: number;
}

const DEFAULTS: Required<Omit<RegimeOptions, 'warmupBars'>> = {
  trendWindow: 30,
  trendThreshold: 0.3,
  volWindow: 30,
  baselineHalfLife: 1000,
  highVolRatio: 1.5,
  shockSigmas: 6,
  shockHoldBars: 12,
};

/**
 * Labels each bar of one close series with a regime code (see the module doc).
 *
 * @param close - closes, positive, no NaN (use `classifyMarketRegimes` for gappy grids).
 * @returns labels (`REGIME` codes) and the number of warm-up bars labelled chop.
 * @throws ConfigError for non-positive windows or thresholds.
 * @example
 * const c = Float64Array.from({ length: 200 }, (_, i) => 100 * Math.exp(0.001 * i + 0.0005 * Math.sin(i)));
 * classifyRegimes(c).labels[199]; // 0 (trend: a steady drift has an efficiency ratio near 1)
 */
export function classifyRegimes(close: Float64Array, options: RegimeOptions = {}): { labels: Uint8Array; warmupBars: number } {
  const o = { ...DEFAULTS, ...options };
  for (const k of ['trendWindow', 'volWindow', 'baselineHalfLife', 'highVolRatio', 'shockSigmas'] as const) {
    if (!(o[k] > 0)) throw new ConfigError(`regime option ${k} must be positive`, { key: k, value: o[k] });
  }
  if (!(o.trendThreshold > 0 && o.trendThreshold <= 1)) throw new ConfigError('regime trendThreshold must be in (0, 1]', { key: 'trendThreshold', value: o.trendThreshold });
  const warmup = options.warmupBars ?? Math.max(o.trendWindow, o.volWindow, 100);
  const n = close.length;
  const labels = new Uint8Array(n).fill(REGIME.chop);
  const alpha = 1 - Math.pow(0.5, 1 / o.baselineHalfLife);
  const sq = new Float64Array(n);
  const absMove = new Float64Array(n);
  let sumSq = 0;
  let sumMove = 0;
  let baseVar = NaN;
  let shockLeft = 0;
  for (let t = 1; t < n; t++) {
    const r = Math.log(close[t] / close[t - 1]);
    sq[t] = r * r;
    absMove[t] = Math.abs(close[t] - close[t - 1]);
    sumSq += sq[t];
    sumMove += absMove[t];
    if (t > o.volWindow) sumSq -= sq[t - o.volWindow];
    if (t > o.trendWindow) sumMove -= absMove[t - o.trendWindow];
    const prevBase = baseVar;
    baseVar = Number.isNaN(baseVar) ? sq[t] : baseVar + alpha * (sq[t] - baseVar);
    if (t < warmup) continue;
    const volBase = Math.sqrt(prevBase);
    const volShort = Math.sqrt(sumSq / Math.min(t, o.volWindow));
    if (Math.abs(r) > o.shockSigmas * volBase) shockLeft = o.shockHoldBars + 1;
    if (shockLeft > 0) {
      labels[t] = REGIME.shock;
      shockLeft--;
    } else if (volShort > o.highVolRatio * volBase) {
      labels[t] = REGIME.highVol;
    } else {
      const back = Math.min(t, o.trendWindow);
      const er = sumMove > 0 ? Math.abs(close[t] - close[t - back]) / sumMove : 0;
      labels[t] = er >= o.trendThreshold ? REGIME.trend : REGIME.chop;
    }
  }
  return { labels, warmupBars: Math.min(warmup, n) };
}

/**
 * Regime labels for every bar and symbol of a market grid (bar-major, like the
 * engine's arrays). Each symbol is classified on its own bars; a grid time where a
 * symbol has no bar repeats its previous label.
 *
 * @returns `labels` (length T * S) and warm-up bars per symbol.
 * @example
 * classifyMarketRegimes(market).labels[t * market.symbols.length + s]; // REGIME code
 */
export function classifyMarketRegimes(market: MarketArrays, options: RegimeOptions = {}): { labels: Uint8Array; warmupBars: number[] } {
  const S = market.symbols.length;
  const T = market.ts.length;
  const labels = new Uint8Array(T * S);
  const warmupBars: number[] = [];
  for (let s = 0; s < S; s++) {
    const rows: number[] = [];
    for (let t = 0; t < T; t++) if (!Number.isNaN(market.close[t * S + s])) rows.push(t);
    const c = Float64Array.from(rows, (t) => market.close[t * S + s]);
    const r = classifyRegimes(c, options);
    warmupBars.push(r.warmupBars);
    let k = 0;
    let last: number = REGIME.chop;
    for (let t = 0; t < T; t++) {
      if (k < rows.length && rows[k] === t) last = r.labels[k++];
      labels[t * S + s] = last;
    }
  }
  return { labels, warmupBars };
}
