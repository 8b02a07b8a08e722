/**
 * Performance statistics of an equity curve and its trades (`computeStats`, one pure
 * function) and of a backtest run under its conventions (`backtestStats`): typed fields with their units in the name (`...Pct` are percent numbers: 12.5
 * means 12.5%). Labels belong to the report layer.
 *
 * Conventions (see docs/REFERENCES.md):
 * - returns are simple (arithmetic) per-period returns between consecutive curve
 *   points, `r_t = E_t / E_{t-1} - 1`; nothing is compounded except total return and CAGR;
 * - standard deviations use ddof = 1 (sample);
 * - `periodsPerYear` annualises per-period figures (see `periodsPerYear()`);
 * - CAGR uses elapsed calendar time between the first and last curve points, years of 365.25 days;
 * - x / 0 follows IEEE rules: 0 / 0 is NaN, a positive number over 0 is Infinity (JSON writes both as null).
 */
import { DataError } from '../core/errors';
import { backtestingPyStats } from './conventions';
import type { Trade } from './ledger';
import { medianBarMs } from './market';
import type { BacktestResult } from './result';

/** An equity curve with what the stats need beside it. */
export interface EquityCurve {
  /** Times of the curve points, ms UTC, increasing. */
  ts: Float64Array;
  /** Account equity at each point (positive). */
  equity: Float64Array;
  /** Sum of |position notional| at each point (account currency); omit when unknown. */
  grossExposure?: Float64Array;
  /** Totals paid over the run (account currency). */
  costs?: { fees: number; slippage: number; interest: number; funding: number; tradedNotional: number };
}

/** Options of `computeStats`. */
export interface StatsOptions {
  /** Periods (curve points) per year, e.g. 98280 for US regular-hours minutes, 525600 for 24x7 minutes. */
  periodsPerYear: number;
  /** Annual risk-free rate for the Sharpe ratio, compounded to a per-period rate (default 0). */
  riskFreeRateAnnual?: number;
  /** Minimum acceptable per-period return for the Sortino ratio (default 0). */
  minAcceptableReturn?: number;
}

/** The statistics of one run. */
export interface Stats {
  startEquity: number;
  endEquity: number;
  /** Number of per-period returns. */
  periods: number;
  years: number;
  periodsPerYear: number;
  /** `100 * (E_end / E_start - 1)`. */
  totalReturnPct: number;
  /** `100 * ((E_end / E_start)^(1 / years) - 1)`, calendar years. */
  cagrPct: number;
  /** `100 * std(r, ddof=1) * sqrt(periodsPerYear)`. */
  annualVolPct: number;
  /** `mean(r - rf) / std(r - rf, ddof=1) * sqrt(periodsPerYear)`, rf the per-period risk-free rate. */
  sharpe: number;
  /** `mean(r - MAR) / sqrt(mean(min(r - MAR, 0)^2)) * sqrt(periodsPerYear)`, downside over all periods. */
  sortino: number;
  /** `100 * max_t (1 - E_t / max_{s<=t} E_s)`. */
  maxDrawdownPct: number;
  /** Longest drawdown (any, not only the deepest): curve points from a peak to the first point back at or above it, or to the end. */
  maxDrawdownDurationBars: number;
  /** The same span in calendar days. */
  maxDrawdownDurationDays: number;
  /** `cagr / maxDrawdown` (both as fractions). */
  calmar: number;
  /** Per closed trade: sum of winning P&L / |sum of losing P&L|. */
  profitFactor: number;
  /** Per period: sum of positive returns / |sum of negative returns|. */
  profitFactorPerPeriod: number;
  /** `100 * (closed trades with pnl > 0) / closed trades`. */
  winRatePct: number;
  /** Mean P&L per closed trade, account currency. */
  expectancy: number;
  /** Mean return on notional per closed trade, percent. */
  expectancyPct: number;
  /** Closed trades (open trades at the end are excluded from every trade statistic). */
  trades: number;
  openTrades: number;
  /** `100 * (points with gross exposure > 0) / points`. */
  exposureTimePct: number;
  /** Mean of gross exposure / equity over all points. */
  avgGrossLeverage: number;
  /** Traded notional / mean equity / years: how many times equity is traded per year. */
  turnoverAnnual: number;
  feesPaid: number;
  slippagePaid: number;
  interestPaid: number;
  fundingPaid: number;
}

const YEAR_MS = 365.25 * 86_400_000;

/**
 * Computes the statistics of an equity curve and its trades (definitions on each `Stats` field).
 *
 * @param curve - at least two points; equity must be positive.
 * @param trades - round trips (`exitReason: 'end'` marks still-open ones).
 * @throws DataError for fewer than two points, unequal lengths, non-positive equity or a bad periodsPerYear.
 * @example
 * computeStats({ ts: new Float64Array([0, 1, 2]), equity: new Float64Array([100, 110, 99]) }, [], { periodsPerYear: 1 }).maxDrawdownPct;
 * // 10 (from 110 down to 99)
 */
export function computeStats(curve: EquityCurve, trades: readonly Trade[], opts: StatsOptions): Stats {
  const { ts, equity } = curve;
  const n = equity.length;
  if (n < 2) throw new DataError('need at least two equity points for statistics', { column: 'equity', value: n });
  if (ts.length !== n) throw new DataError('ts and equity lengths differ', { column: 'ts', value: [ts.length, n] });
  if (!(opts.periodsPerYear > 0)) throw new DataError('periodsPerYear must be positive', { column: 'periodsPerYear', value: opts.periodsPerYear });
  for (let i = 0; i < n; i++) {
    if (!(equity[i] > 0) || !Number.isFinite(equity[i])) throw new DataError('equity must be positive and finite for return statistics', { row: i, column: 'equity', value: equity[i] });
  }
  const ppy = opts.periodsPerYear;
  const rf = Math.pow(1 + (opts.riskFreeRateAnnual ?? 0), 1 / ppy) - 1;
  const mar = opts.minAcceptableReturn ?? 0;
  const m = n - 1;
  let sum = 0;
  let sumEx = 0;
  let pos = 0;
  let neg = 0;
  let down = 0;
  for (let i = 1; i < n; i++) {
    const r = equity[i] / equity[i - 1] - 1;
    sum += r;
    sumEx += r - rf;
    if (r > 0) pos += r;
    else neg -= r;
    const d = Math.min(r - mar, 0);
    down += d * d;
  }
  const mean = sum / m;
  const meanEx = sumEx / m;
  let ss = 0;
  for (let i = 1; i < n; i++) {
    const r = equity[i] / equity[i - 1] - 1;
    ss += (r - mean) * (r - mean);
  }
  // std of (r - rf) equals std of r: rf is a constant per period.
  const std = Math.sqrt(ss / (m - 1));
  const annual = Math.sqrt(ppy);
  const years = (ts[n - 1] - ts[0]) / YEAR_MS;
  const growth = equity[n - 1] / equity[0];
  const cagr = years > 0 ? Math.pow(growth, 1 / years) - 1 : NaN;
  const dd = drawdown(ts, equity);

  const closed = trades.filter((t) => t.exitReason !== 'end');
  let wins = 0;
  let grossWin = 0;
  let grossLoss = 0;
  let pnlSum = 0;
  let retSum = 0;
  for (const t of closed) {
    pnlSum += t.pnl;
    retSum += t.returnOnNotional;
    if (t.pnl > 0) {
      wins++;
      grossWin += t.pnl;
    } else grossLoss -= t.pnl;
  }
  let exposed = 0;
  let leverage = 0;
  let equitySum = 0;
  for (let i = 0; i < n; i++) {
    equitySum += equity[i];
    if (curve.grossExposure) {
      if (curve.grossExposure[i] > 0) exposed++;
      leverage += curve.grossExposure[i] / equity[i];
    }
  }
  const costs = curve.costs;
  return {
    startEquity: equity[0],
    endEquity: equity[n - 1],
    periods: m,
    years,
    periodsPerYear: ppy,
    totalReturnPct: 100 * (growth - 1),
    cagrPct: 100 * cagr,
    annualVolPct: 100 * std * annual,
    sharpe: (meanEx / std) * annual,
    sortino: (mean - mar) / Math.sqrt(down / m) * annual,
    maxDrawdownPct: 100 * dd.max,
    maxDrawdownDurationBars: dd.longestBars,
    maxDrawdownDurationDays: dd.longestMs / 86_400_000,
    calmar: cagr / dd.max,
    profitFactor: grossWin / grossLoss,
    profitFactorPerPeriod: pos / neg,
    winRatePct: (100 * wins) / closed.length,
    expectancy: pnlSum / closed.length,
    expectancyPct: (100 * retSum) / closed.length,
    trades: closed.length,
    openTrades: trades.length - closed.length,
    exposureTimePct: curve.grossExposure ? (100 * exposed) / n : NaN,
    avgGrossLeverage: curve.grossExposure ? leverage / n : NaN,
    turnoverAnnual: costs ? costs.tradedNotional / (equitySum / n) / years : NaN,
    feesPaid: costs?.fees ?? NaN,
    slippagePaid: costs?.slippage ?? NaN,
    interestPaid: costs?.interest ?? NaN,
    fundingPaid: costs?.funding ?? NaN,
  };
}

/**
 * Drawdown series and its extremes.
 * `drawdown_t = 1 - E_t / max_{s<=t} E_s` (a fraction); the longest drawdown runs from a
 * peak to the first later point at or above the peak, or to the end.
 * @example
 * drawdown(new Float64Array([0, 1, 2, 3]), new Float64Array([1, 2, 1, 2])).max; // 0.5
 */
export function drawdown(ts: Float64Array, equity: Float64Array): { series: Float64Array; max: number; longestBars: number; longestMs: number } {
  const series = new Float64Array(equity.length);
  let peak = -Infinity;
  let peakAt = 0;
  let inDrawdown = false;
  let max = 0;
  let longestBars = 0;
  let longestMs = 0;
  const span = (from: number, to: number): void => {
    if (to - from > longestBars) longestBars = to - from;
    if (ts[to] - ts[from] > longestMs) longestMs = ts[to] - ts[from];
  };
  for (let i = 0; i < equity.length; i++) {
    if (equity[i] >= peak) {
      if (inDrawdown) span(peakAt, i);
      inDrawdown = false;
      peak = equity[i];
      peakAt = i;
    } else inDrawdown = true;
    series[i] = 1 - equity[i] / peak;
    if (series[i] > max) max = series[i];
  }
  if (inDrawdown) span(peakAt, equity.length - 1);
  return { series, max, longestBars, longestMs };
}

/**
 * The statistics of a run: `computeStats` on the equity curve with the starting
 * capital prepended one bar before the first bar (so the first bar's return counts),
 * annualised with the run's periods per year unless `opts` says otherwise. Under
 * `conventions: 'backtesting.py'` the annual return (in `cagrPct`), volatility, Sharpe,
 * Sortino, Calmar, exposure, profit factor and expectancy follow `backtestingPyStats`.
 * @example backtestStats(runBacktest(market, signals, cfg)).sharpe
 */
export function backtestStats(result: BacktestResult, opts: Partial<StatsOptions> = {}): Stats {
  const T = result.ts.length;
  const barMs = T > 1 ? medianBarMs(result.ts) : 60_000;
  const ts = new Float64Array(T + 1);
  const equity = new Float64Array(T + 1);
  const gross = new Float64Array(T + 1);
  ts[0] = result.ts[0] - barMs;
  equity[0] = result.config.capital;
  ts.set(result.ts, 1);
  equity.set(result.equity, 1);
  gross.set(result.grossExposure, 1);
  const stats = computeStats({ ts, equity, grossExposure: gross, costs: result.costs }, result.trades, { periodsPerYear: result.periodsPerYear, ...opts });
  if (result.config.conventions !== 'backtesting.py') return stats;
  // The backtesting.py preset reads the run with its definitions where they differ (see conventions.ts).
  const b = backtestingPyStats(result);
  return {
    ...stats,
    cagrPct: b['Return (Ann.) [%]'],
    annualVolPct: b['Volatility (Ann.) [%]'],
    sharpe: b['Sharpe Ratio'],
    sortino: b['Sortino Ratio'],
    calmar: b['Calmar Ratio'],
    exposureTimePct: b['Exposure Time [%]'],
    profitFactor: b['Profit Factor'],
    expectancyPct: b['Expectancy [%]'],
  };
}
