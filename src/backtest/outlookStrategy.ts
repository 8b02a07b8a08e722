/**
 * The outlook trading rule (`quantbook backtest --strategy outlook`; the price paths are
 * forecast/paths/pathOutlook.ts). The 30-minute-outlook harness: at each bar a
 * forecaster gives P(up) over the next
 * `horizonBars` bars; enter long when `pUp >= pUpMin` and the price is stretched
 * below its recent mean (mean-reversion z-score `<= zMax`); leave after the horizon or
 * at the stop; P&L net of fees and slippage through the full engine (limits, costs,
 * kill switches). It reports every trade's `pUp` and outcome, and every bar's
 * prediction and outcome, so that calibration can use them.
 */
import { DataError } from '../core/errors';
import { probAboveFromQuantiles } from '../forecast/paths';
import type { BacktestConfigInput } from './config';
import { runBacktest } from './engine';
import type { MarketArrays } from './market';
import type { BacktestOptions, BacktestResult } from './result';
import type { Signals } from './signals';
import type { ExitReason } from './ledger';

/** The harness's rule. */
export interface OutlookRule {
  /** Bars ahead the forecast looks and the trade is held at most (default 30). */
  horizonBars?: number;
  /** Enter only when pUp is at least this (default 0.6). */
  pUpMin?: number;
  /** Closes in the z-score's rolling mean and standard deviation (default 20). */
  zWindow?: number;
  /** Enter only when the z-score is at most this (default -1: at least one sd below the mean). */
  zMax?: number;
  /** Stop distance below the entry fill, a fraction (default 0.01); null for none. */
  stopLoss?: number | null;
}

/** Per-bar forecasts the harness consumes (bar-major, T * S). */
export interface OutlookForecasts {
  mu: Float64Array;
  sigma: Float64Array;
  /** P(close[t + H] > close[t]) per bar and symbol; NaN where there is no forecast. */
  pUp: Float64Array;
  valid?: Uint8Array;
  firstBar?: number;
  lookAhead?: boolean;
}

/** One harness trade with what calibration needs. */
export interface OutlookTrade {
  symbol: string;
  decisionBar: number;
  entryTime: number;
  pUp: number;
  z: number;
  /** Whether close[t + H] > close[t] (the event pUp forecast); null when t + H is past the data or missing. */
  up: boolean | null;
  /** Net P&L > 0. */
  win: boolean;
  pnl: number;
  returnOnNotional: number;
  exitReason: ExitReason;
}

/** Output of `runOutlook`. */
export interface OutlookResult {
  backtest: BacktestResult;
  trades: OutlookTrade[];
  /** Every bar and symbol with a pUp and a known outcome: the calibration sample. */
  predictions: { bar: Int32Array; symbol: Int32Array; pUp: Float64Array; up: Uint8Array };
  rule: Required<OutlookRule>;
}

const DEFAULT_RULE: Required<OutlookRule> = { horizonBars: 30, pUpMin: 0.6, zWindow: 20, zMax: -1, stopLoss: 0.01 };

/**
 * Mean-reversion z-score per bar and symbol: `(c_t - mean) / sd` over the symbol's last
 * `window` closes up to and including t (sd with ddof = 1); NaN during warm-up, at
 * missing bars and when sd is 0.
 * @example meanReversionZ(market, 20)[t * S + s]; // -1.7: 1.7 sd below the 20-bar mean
 */
export function meanReversionZ(market: MarketArrays, window: number): Float64Array {
  if (!Number.isInteger(window) || window < 2) throw new DataError('z-score window must be an integer >= 2', { column: 'zWindow', value: window });
  const S = market.symbols.length;
  const T = market.ts.length;
  const z = new Float64Array(T * S).fill(NaN);
  for (let s = 0; s < S; s++) {
    const ring = new Float64Array(window);
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let t = 0; t < T; t++) {
      const c = market.close[t * S + s];
      if (c !== c) continue;
      const k = n % window;
      if (n >= window) {
        sum -= ring[k];
        sumSq -= ring[k] * ring[k];
      }
      ring[k] = c;
      sum += c;
      sumSq += c * c;
      n++;
      if (n < window) continue;
      const mean = sum / window;
      const variance = (sumSq - window * mean * mean) / (window - 1);
      if (variance > 1e-12 * mean * mean) z[t * S + s] = (c - mean) / Math.sqrt(variance);
    }
  }
  return z;
}

/**
 * The harness's signals: entry where `pUp >= pUpMin` and `z <= zMax`, score = pUp.
 * @example outlookSignals(market, forecasts, { pUpMin: 0.6 }).entry; // Int8Array of 0 / 1
 */
export function outlookSignals(market: MarketArrays, forecasts: OutlookForecasts, rule: OutlookRule = {}): Signals & { z: Float64Array } {
  const r = { ...DEFAULT_RULE, ...rule };
  const n = market.ts.length * market.symbols.length;
  if (forecasts.pUp.length !== n) throw new DataError(`pUp has ${forecasts.pUp.length} values but the bars need ${n}: they do not line up`, { column: 'pUp', value: forecasts.pUp.length });
  const z = meanReversionZ(market, r.zWindow);
  const entry = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const p = forecasts.pUp[i];
    if (p > 1 || p < 0) throw new DataError('pUp must be a probability in [0, 1]', { row: Math.floor(i / market.symbols.length), column: 'pUp', value: p, symbol: market.symbols[i % market.symbols.length] });
    if (p >= r.pUpMin && z[i] <= r.zMax && (forecasts.valid === undefined || forecasts.valid[i] === 1)) entry[i] = 1;
  }
  return {
    mu: forecasts.mu,
    sigma: forecasts.sigma,
    horizonBars: r.horizonBars,
    firstBar: forecasts.firstBar,
    valid: forecasts.valid,
    entry,
    score: forecasts.pUp,
    lookAhead: forecasts.lookAhead,
    z,
  };
}

/**
 * Runs the harness through the engine with rule `entryExit` (horizon, stop) and the
 * config's sizing and limits.
 *
 * @param config - backtest config; its `rule` is replaced by the harness's.
 * @throws DataError / ConfigError as `runBacktest`, and for pUp outside [0, 1].
 * @example
 * const o = runOutlook(market, forecasts, { defaultClass: 'crypto' }, { pUpMin: 0.6 });
 * o.trades.map((t) => [t.pUp, t.up]); // for a reliability diagram
 */
export function runOutlook(market: MarketArrays, forecasts: OutlookForecasts, config: BacktestConfigInput = {}, rule: OutlookRule = {},
  options: BacktestOptions = {}): OutlookResult {
  const r = { ...DEFAULT_RULE, ...rule };
  const signals = outlookSignals(market, forecasts, r);
  const backtest = runBacktest(market, signals, { ...config, rule: { kind: 'entryExit', horizonBars: r.horizonBars, stopLoss: r.stopLoss } }, options);
  const S = market.symbols.length;
  const T = market.ts.length;
  const H = r.horizonBars;
  const outcome = (t: number, s: number): boolean | null => {
    if (t + H >= T) return null;
    const a = market.close[t * S + s];
    const b = market.close[(t + H) * S + s];
    return a === a && b === b ? b > a : null;
  };
  const trades: OutlookTrade[] = backtest.trades
    .filter((t) => t.exitReason !== 'end')
    .map((t) => {
      const s = market.symbols.indexOf(t.symbol);
      return {
        symbol: t.symbol,
        decisionBar: t.decisionBar,
        entryTime: t.entryTime,
        pUp: t.score,
        z: signals.z[t.decisionBar * S + s],
        up: outcome(t.decisionBar, s),
        win: t.pnl > 0,
        pnl: t.pnl,
        returnOnNotional: t.returnOnNotional,
        exitReason: t.exitReason,
      };
    });
  const bars: number[] = [];
  const syms: number[] = [];
  const ps: number[] = [];
  const ups: number[] = [];
  for (let t = forecasts.firstBar ?? 0; t < T - H; t++) {
    for (let s = 0; s < S; s++) {
      const p = forecasts.pUp[t * S + s];
      const up = outcome(t, s);
      if (p === p && up !== null && (forecasts.valid === undefined || forecasts.valid[t * S + s] === 1)) {
        bars.push(t);
        syms.push(s);
        ps.push(p);
        ups.push(up ? 1 : 0);
      }
    }
  }
  return {
    backtest,
    trades,
    predictions: { bar: Int32Array.from(bars), symbol: Int32Array.from(syms), pUp: Float64Array.from(ps), up: Uint8Array.from(ups) },
    rule: r,
  };
}

/**
 * P(up) from forecast quantiles at one step: `1 - F(price)`, F interpolated linearly
 * between the (value, level) points; outside the quantile range F is the nearest level,
 * so with levels 0.1..0.9 pUp stays within [0.1, 0.9] (the path statistics'
 * `probAboveFromQuantiles` with `level` interpolation and `clamp` tails).
 * @throws ModelError for crossing quantiles or levels outside (0, 1).
 * @example pUpFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 100); // 1 - (0.1 + 0.4 * 2 / 2.5) = 0.58
 */
export function pUpFromQuantiles(levels: ArrayLike<number>, values: ArrayLike<number>, price: number): number {
  return probAboveFromQuantiles(levels, values, price, { interpolation: 'level', tails: 'clamp' });
}
