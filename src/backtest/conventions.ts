/**
 * Statistics under the backtesting.py conventions (kernc/backtesting.py, `backtesting/_stats.py`
 * `compute_stats`), for runs with `conventions: 'backtesting.py'`:
 *
 * - day returns `r` are the percent changes of the equity's last value of each UTC day that has one;
 *   `g = exp(sum(log(1 + r)) / n) - 1` over the n day returns (their geometric mean);
 * - annual return `(1 + g)^D - 1`, D = the run's periods per year for daily bars (252 for stocks, 365 for 24x7);
 * - annual volatility `sqrt((var(r, ddof 1) + (1 + g)^2)^D - (1 + g)^(2D))`;
 * - Sharpe = annual return / annual volatility (risk-free rate 0); Sortino = annual return /
 *   (sqrt(mean(min(r, 0)^2)) * sqrt(D)); Calmar = annual return / max drawdown;
 * - trades include those closed at the last close; a trade's return is `side * (exit / entry - 1)`
 *   on fill prices; win rate, best / worst, the geometric mean trade return, profit factor
 *   (sum of positive trade returns / |sum of negative ones|), expectancy (mean trade return),
 *   SQN `sqrt(n) * mean(pnl) / std(pnl, ddof 1)`;
 * - exposure: the share of bars from each trade's entry fill bar to its exit fill bar, inclusive.
 */
import { DataError } from '../core/errors';
import type { MarketArrays } from './market';
import type { BacktestResult } from './result';
import type { Signals } from './signals';

/** backtesting.py's statistics, under its names (percentages as percent numbers, drawdown negative). */
export interface BacktestingPyStats {
  'Exposure Time [%]': number;
  'Equity Final [$]': number;
  'Equity Peak [$]': number;
  'Return [%]': number;
  'Return (Ann.) [%]': number;
  'Volatility (Ann.) [%]': number;
  'Sharpe Ratio': number;
  'Sortino Ratio': number;
  'Calmar Ratio': number;
  'Max. Drawdown [%]': number;
  '# Trades': number;
  'Win Rate [%]': number;
  'Best Trade [%]': number;
  'Worst Trade [%]': number;
  'Avg. Trade [%]': number;
  'Profit Factor': number;
  'Expectancy [%]': number;
  SQN: number;
}

const DAY_MS = 86_400_000;

/**
 * The statistics backtesting.py reports for a run (see the module doc for each definition).
 * @param periodsPerYear - D, default the run's (252 for daily stock bars, 365 for daily 24x7 bars).
 * @throws DataError for a run without bars.
 * @example backtestingPyStats(runBacktest(market, ruleSignals(market, smaCross), { conventions: 'backtesting.py', defaultClass: 'stock' }))['Sharpe Ratio'];
 */
export function backtestingPyStats(result: BacktestResult, periodsPerYear?: number): BacktestingPyStats {
  const { equity, ts } = result;
  const N = equity.length;
  if (N === 0) throw new DataError('no bars: no statistics', { column: 'equity', value: 0 });
  const capital = result.config.capital;
  const D = periodsPerYear ?? (result.periodsPerYear >= 252 && result.periodsPerYear <= 366 ? result.periodsPerYear : result.classes.every((c) => c === 'stock') ? 252 : 365);
  // The last equity of each UTC day.
  const days: number[] = [];
  for (let i = 0; i < N; i++) {
    if (i + 1 < N && Math.floor(ts[i + 1] / DAY_MS) === Math.floor(ts[i] / DAY_MS)) continue;
    days.push(equity[i]);
  }
  const r = days.slice(1).map((e, i) => e / days[i] - 1);
  const n = r.length;
  const g = n > 0 && r.every((x) => x > -1) ? Math.exp(r.reduce((a, x) => a + Math.log1p(x), 0) / n) - 1 : 0;
  const mean = r.reduce((a, x) => a + x, 0) / n;
  const variance = r.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const annual = (1 + g) ** D - 1;
  const vol = Math.sqrt((variance + (1 + g) ** 2) ** D - (1 + g) ** (2 * D));
  const downside = Math.sqrt(r.reduce((a, x) => a + Math.min(x, 0) ** 2, 0) / n) * Math.sqrt(D);
  let peak = capital;
  let maxDd = 0;
  for (let i = 0; i < N; i++) {
    if (equity[i] > peak) peak = equity[i];
    maxDd = Math.max(maxDd, 1 - equity[i] / peak);
  }
  const trades = result.trades.filter((t) => t.exitReason !== 'end');
  const ret = trades.map((t) => (t.side === 'long' ? 1 : -1) * (t.exitPrice / t.entryPrice - 1));
  const pnl = trades.map((t) => t.pnl);
  const k = trades.length;
  const exposed = new Uint8Array(N);
  for (const t of trades) exposed.fill(1, t.entryBar, t.exitBar + 1);
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const pnlMean = sum(pnl) / k;
  const pnlStd = Math.sqrt(sum(pnl.map((x) => (x - pnlMean) ** 2)) / (k - 1));
  const last = equity[N - 1];
  return {
    'Exposure Time [%]': (100 * exposed.reduce((a, x) => a + x, 0)) / N,
    'Equity Final [$]': last,
    'Equity Peak [$]': Math.max(capital, ...equity),
    'Return [%]': 100 * (last / capital - 1),
    'Return (Ann.) [%]': 100 * annual,
    'Volatility (Ann.) [%]': 100 * vol,
    'Sharpe Ratio': annual / vol,
    'Sortino Ratio': annual / downside,
    'Calmar Ratio': annual / maxDd,
    'Max. Drawdown [%]': -100 * maxDd,
    '# Trades': k,
    'Win Rate [%]': (100 * pnl.filter((x) => x > 0).length) / k,
    'Best Trade [%]': 100 * Math.max(...ret),
    'Worst Trade [%]': 100 * Math.min(...ret),
    'Avg. Trade [%]': 100 * (Math.exp(sum(ret.map((x) => Math.log1p(x))) / k) - 1),
    'Profit Factor': sum(ret.filter((x) => x > 0)) / Math.abs(sum(ret.filter((x) => x < 0))),
    'Expectancy [%]': (100 * sum(ret)) / k,
    SQN: (Math.sqrt(k) * pnlMean) / pnlStd,
  };
}

/**
 * Forecast signals as backtesting.py-style targets: all in long where `mu > 0`, all in short
 * where `mu < 0` (flat in a long-only class), flat where `mu = 0`; NaN (no order) where a
 * symbol has no bar or no forecast. Under `conventions: 'backtesting.py'` an order is sent only
 * when this direction changes, as `position.close(); buy()` does in a backtesting.py strategy.
 * @param longOnly - per symbol, true where shorts are not allowed.
 * @throws DataError for a NaN mu at a bar with a forecast.
 * @example runBacktest(m, directionTargets(m, signals, [true]), { conventions: 'backtesting.py', defaultClass: 'crypto' });
 */
export function directionTargets(market: MarketArrays, signals: Signals, longOnly: readonly boolean[]): Signals {
  const S = market.symbols.length;
  const n = market.ts.length * S;
  const target = new Float64Array(n).fill(NaN);
  const first = (signals.firstBar ?? 0) * S;
  for (let i = first; i < n; i++) {
    if (!(market.close[i] > 0) || (signals.valid !== undefined && signals.valid[i] === 0)) continue;
    const m = signals.mu[i];
    if (m !== m) throw new DataError('forecast mu is NaN', { symbol: market.symbols[i % S], row: Math.floor(i / S), column: 'mu' });
    const d = Math.sign(m);
    target[i] = d < 0 && longOnly[i % S] ? 0 : d;
  }
  return { mu: new Float64Array(0), sigma: new Float64Array(0), horizonBars: signals.horizonBars, firstBar: signals.firstBar ?? 0, target, targetUnit: 'weight', ...(signals.score ? { score: signals.score } : {}), ...(signals.lookAhead ? { lookAhead: true } : {}) };
}
