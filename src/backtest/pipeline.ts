/**
 * The forecast-then-trade pipeline that `quantbook backtest` and notebook 03 both run:
 * market arrays -> a forecast at every bar (`forecastSignals`) -> the backtest of those
 * signals (`runBacktest`, or a strategy given) -> statistics -> Monte Carlo of the run.
 */
import type { BacktestConfigInput } from './config';
import { runBacktest } from './engine';
import { forecastSignals, type ForecastSignalOptions, type ForecastSignals } from './forecastSignals';
import type { MarketArrays } from './market';
import { monteCarloOfRun, type MonteCarloResult } from './montecarlo';
import type { BacktestOptions, BacktestResult } from './result';
import { backtestStats } from './stats';
import type { Signals } from './signals';
import type { Stats } from './stats';
import { sliceMarket, sliceSignals } from './walkforward';
import type { Forecaster } from '../forecast/types';

/** Options of {@link forecastBacktest}: `forecastSignals`' options plus what the run needs. */
export interface ForecastBacktestOptions extends ForecastSignalOptions {
  /** Backtest config as written (defaults fill the rest); default `{}`. */
  config?: BacktestConfigInput;
  /** Funding series and other run options of `runBacktest`. */
  options?: BacktestOptions;
  /** Regime label per bar (`classifyMarketRegimes(market).labels`), for the regime sizing. */
  regime?: Uint8Array;
  /** Monte Carlo of the run (`monteCarloOfRun`): paths (0 skips it) and seed; default none. */
  monteCarlo?: { simulations: number; seed: number };
  /**
   * How the run trades the forecasts: default `runBacktest(market, signals, config, options)`.
   * Gets the market and signals of the range and P(up) of each of its bars and symbols.
   */
  trade?: (market: MarketArrays, signals: Signals, pUp: Float64Array) => BacktestResult;
}

/** What {@link forecastBacktest} did: the forecast, the run and its statistics. */
export interface ForecastBacktest {
  /** The forecast of every bar of the range (arrays over the whole market; see `forecastSignals`). */
  forecast: ForecastSignals;
  /** The market of the range (the market itself without a range). */
  market: MarketArrays;
  /** The signals of the range, with the regime labels when given. */
  signals: Signals;
  /** P(up) of each bar and symbol of the range. */
  pUp: Float64Array;
  result: BacktestResult;
  stats: Stats;
  /** Trade and stationary-bootstrap Monte Carlo of the run; null without `monteCarlo` (or 0 paths). */
  monteCarlo: { trades: MonteCarloResult | null; bars: MonteCarloResult } | null;
}

/**
 * Forecasts every bar of the market with `forecaster` (windows end at the bar, never later), trades
 * the forecasts of `range` (all bars by default; earlier bars still feed the windows), and takes
 * the run's statistics and, when asked, its Monte Carlo. The caller opens and closes the forecaster.
 *
 * @throws ConfigError / ModelError from `forecastSignals` (horizon, forecaster), ConfigError /
 *   DataError from `runBacktest` (config, signals), as those functions document.
 * @example
 * const run = await forecastBacktest(market, createBaseline('historical'), {
 *   horizonBars: 30, seed: 1, config: { defaultClass: 'crypto', sizing: { kind: 'kelly', fraction: 0.5 } },
 *   monteCarlo: { simulations: 1000, seed: 1 },
 * });
 * run.stats.sharpe; run.monteCarlo?.bars.maxDrawdownPct.p95;
 */
export async function forecastBacktest(market: MarketArrays, forecaster: Forecaster, opts: ForecastBacktestOptions): Promise<ForecastBacktest> {
  const { config = {}, options, regime, monteCarlo, trade, ...forecastOptions } = opts;
  const forecast = await forecastSignals(market, forecaster, forecastOptions);
  const S = market.symbols.length;
  const range = opts.range;
  const withRegime: Signals = regime ? { ...forecast.signals, regime } : forecast.signals;
  const m = range ? sliceMarket(market, range) : market;
  const signals = range ? sliceSignals(withRegime, S, range) : withRegime;
  const pUp = range ? forecast.pUp.subarray(range.start * S, range.end * S) : forecast.pUp;
  const result = trade ? trade(m, signals, pUp) : runBacktest(m, signals, config, options);
  const stats = backtestStats(result);
  const mc = monteCarlo && monteCarlo.simulations > 0 ? monteCarloOfRun(result, { simulations: monteCarlo.simulations, seed: monteCarlo.seed }) : null;
  return { forecast, market: m, signals, pUp, result, stats, monteCarlo: mc };
}
