/**
 * Per-bar, per-symbol inputs of the engine, precomputed and independent of who
 * produced them (a forecaster, a baseline, a strategy), and the thin kernels that
 * turn a forecast into them.
 */
import { DataError } from '../core/errors';
import type { MarketArrays } from './market';

/**
 * What the engine reads at each decision, bar-major (index `t * S + s`) like
 * `MarketArrays`. `mu` and `sigma` are per forecast horizon, as fractions of the
 * price at bar t: `mu` the expected return, `sigma` the return's volatility.
 */
export interface Signals {
  mu: Float64Array;
  sigma: Float64Array;
  /** The horizon of mu and sigma, in bars (used to annualise sigma for volatility targeting). */
  horizonBars: number;
  /** Decisions start at this bar (bars before it have no forecast: warm-up). Default 0. */
  firstBar?: number;
  /**
   * 0 where there is no forecast for a bar and symbol (e.g. too little context, or an oracle
   * at the end of the data): the engine makes no decision there and holds the position,
   * counting it in `fallbacks.noForecast`. Omitted: every bar from `firstBar` on has one.
   */
  valid?: Uint8Array;
  /** Regime codes (`REGIME`) for the regime sizing. */
  regime?: Uint8Array;
  /** Entry flags for the `entryExit` rule: 1 enter long, -1 enter short, 0 none. */
  entry?: Int8Array;
  /** A value reported with each trade it opened (e.g. pUp), for calibration. */
  score?: Float64Array;
  /** True when the signals used data after bar t (the oracle): results are an upper bound, not a backtest. */
  lookAhead?: boolean;
  /**
   * Target positions decided at each bar, replacing the sizing (see `targetSignals`): weights
   * of equity or units (`targetUnit`); NaN holds what is there. With targets, `mu` and `sigma`
   * may be empty.
   */
  target?: Float64Array;
  /** `weight` (default): fraction of equity, signed; `units`: quantity, signed. */
  targetUnit?: 'weight' | 'units';
  /**
   * Stop-loss and take-profit price levels for the position held after each bar's decision
   * (NaN keeps the level in force; levels are dropped when the position is flat). See `runBacktest`.
   */
  stopLoss?: Float64Array;
  takeProfit?: Float64Array;
  /** Probability of a win per bar and symbol, for the `probability` sizing (mu and sigma may then be empty). */
  pWin?: Float64Array;
  /** Payoff ratio (win size / loss size) per bar and symbol for the `probability` sizing; default the config's. */
  payoff?: Float64Array;
}

/**
 * Checks that signals line up with the bars: every array has length T * S (mu and sigma
 * may be empty when `target` or `pWin` replaces them),
 * `horizonBars` is a positive integer, `firstBar` is inside the grid, regime codes
 * are known. NaN forecasts are found by the engine at the bar that uses them.
 *
 * @throws DataError naming the array and its length.
 * @example
 * checkSignals(market, { mu, sigma, horizonBars: 30 }); // throws when mu.length !== T * S
 */
export function checkSignals(market: MarketArrays, signals: Signals): void {
  const n = market.ts.length * market.symbols.length;
  // Targets and probabilities replace mu and sigma, which may then be left empty.
  const noForecast = (signals.target !== undefined || signals.pWin !== undefined) && signals.mu.length === 0 && signals.sigma.length === 0;
  const arrays: Array<[string, ArrayLike<number> | undefined]> = [
    ['mu', noForecast ? undefined : signals.mu],
    ['sigma', noForecast ? undefined : signals.sigma],
    ['valid', signals.valid],
    ['regime', signals.regime],
    ['entry', signals.entry],
    ['score', signals.score],
    ['target', signals.target],
    ['stopLoss', signals.stopLoss],
    ['takeProfit', signals.takeProfit],
    ['pWin', signals.pWin],
    ['payoff', signals.payoff],
  ];
  for (const [name, a] of arrays) {
    if (a !== undefined && a.length !== n) {
      throw new DataError(
        `forecast array ${name} has ${a.length} values but the bars need ${n} (${market.ts.length} bars x ${market.symbols.length} symbols): they do not line up`,
        { column: name, value: a.length },
      );
    }
  }
  if (!Number.isInteger(signals.horizonBars) || signals.horizonBars < 1) {
    throw new DataError('signals horizonBars must be a positive integer', { column: 'horizonBars', value: signals.horizonBars });
  }
  const first = signals.firstBar ?? 0;
  if (!Number.isInteger(first) || first < 0 || first > market.ts.length) {
    throw new DataError('signals firstBar must be an integer bar index inside the data', { column: 'firstBar', value: first });
  }
  if (signals.regime) {
    for (let i = 0; i < n; i++) {
      if (signals.regime[i] > 3) throw new DataError('unknown regime code (0..3 expected)', { column: 'regime', row: Math.floor(i / market.symbols.length), value: signals.regime[i], symbol: market.symbols[i % market.symbols.length] });
    }
  }
}

/** How the quantile spread becomes sigma. */
export type SpreadToSigma = 'halfRange' | 'normal';

/** z of the 90% quantile of a standard normal: (q90 - q10) / 2 = 1.2816 sigma for normal returns. */
export const Z90 = 1.2815515655446004;

/**
 * Forecast quantiles to (mu, sigma), element by element.
 *
 * `mu = median / price - 1`; `sigma = max((q90 - q10) / (2 * price), sigmaFloor)`
 * (`spread: 'halfRange'`, the default), or that half-range divided by 1.2816
 * (`spread: 'normal'`: the standard deviation a normal with those quantiles has;
 * the half-range overstates it by 28%, so Kelly from it is 0.61x the normal-based one).
 *
 * @param out - receives mu and sigma (may be the same length as the inputs, any offset 0).
 * @param sigmaFloor - fraction of price (default 0.005).
 * @throws DataError for a non-positive price or a NaN / crossed quantile (q10 > q90), naming the row.
 * @example
 * const mu = new Float64Array(1), sigma = new Float64Array(1);
 * muSigmaFromQuantiles([101], [98], [106], [100], { mu, sigma });
 * // mu [0.01], sigma [0.04]
 */
export function muSigmaFromQuantiles(
  median: ArrayLike<number>,
  q10: ArrayLike<number>,
  q90: ArrayLike<number>,
  price: ArrayLike<number>,
  out: { mu: Float64Array; sigma: Float64Array },
  opts: { sigmaFloor?: number; spread?: SpreadToSigma } = {},
): void {
  for (let i = 0; i < price.length; i++) {
    const r = muSigmaFromQuantilePoint(median[i], q10[i], q90[i], price[i], opts, i);
    out.mu[i] = r.mu;
    out.sigma[i] = r.sigma;
  }
}

/**
 * One forecast's quantiles to (mu, sigma); see `muSigmaFromQuantiles`.
 * @param row - reported in errors.
 * @throws DataError for a non-positive price or NaN / crossed quantiles.
 * @example muSigmaFromQuantilePoint(101, 98, 106, 100); // { mu: 0.01, sigma: 0.04 }
 */
export function muSigmaFromQuantilePoint(
  median: number,
  q10: number,
  q90: number,
  price: number,
  opts: { sigmaFloor?: number; spread?: SpreadToSigma } = {},
  row?: number,
): { mu: number; sigma: number } {
  if (!(price > 0)) throw new DataError('price must be positive to turn a forecast into a return', { row, column: 'close', value: price });
  if (!(q90 >= q10) || Number.isNaN(median)) throw new DataError('forecast quantiles are NaN or crossed (q10 > q90)', { row, column: 'forecast', value: [q10, median, q90] });
  const scale = opts.spread === 'normal' ? 1 / (2 * Z90) : 0.5;
  return { mu: median / price - 1, sigma: Math.max(((q90 - q10) * scale) / price, opts.sigmaFloor ?? 0.005) };
}

/**
 * Sampled paths to (mu, sigma) for one forecast: mean and sample standard deviation
 * (ddof = 1) of the simple return `x / price - 1` at one step of every path.
 *
 * @param samples - N paths of H steps, row-major (`samples[n * H + h]`), prices.
 * @param step - which step (default the last, H - 1).
 * @param offset - where the forecast's N x H block starts in `samples` (default 0).
 * @returns `{ mu, sigma }` with sigma floored at `sigmaFloor` (default 0.005).
 * @throws DataError for a non-positive price, fewer than 2 paths or a NaN sample.
 * @example
 * muSigmaFromSamples(new Float64Array([101, 103, 99, 97]), 2, 2, 100); // { mu: 0, sigma: 0.04242... }
 */
export function muSigmaFromSamples(
  samples: ArrayLike<number>,
  nPaths: number,
  horizon: number,
  price: number,
  opts: { step?: number; sigmaFloor?: number; offset?: number } = {},
): { mu: number; sigma: number } {
  if (!(price > 0)) throw new DataError('price must be positive to turn a forecast into a return', { column: 'close', value: price });
  if (nPaths < 2) throw new DataError('need at least 2 sampled paths for a standard deviation', { value: nPaths });
  const step = opts.step ?? horizon - 1;
  const offset = opts.offset ?? 0;
  let sum = 0;
  let sumSq = 0;
  for (let n = 0; n < nPaths; n++) {
    const r = samples[offset + n * horizon + step] / price - 1;
    if (Number.isNaN(r)) throw new DataError('NaN in sampled paths', { row: n, column: `step ${step}` });
    sum += r;
    sumSq += r * r;
  }
  const mu = sum / nPaths;
  const variance = Math.max((sumSq - nPaths * mu * mu) / (nPaths - 1), 0);
  return { mu, sigma: Math.max(Math.sqrt(variance), opts.sigmaFloor ?? 0.005) };
}
