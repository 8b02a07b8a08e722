/**
 * Backtesting: forecasts -> (mu, sigma) -> Kelly and other sizings under ordered,
 * counted limits -> multi-symbol accounting -> trades, equity -> statistics,
 * walk-forward, Monte Carlo, and the 30-minute-outlook harness.
 */
export {
  backtestConfigSchema,
  resolveConfig,
  classRules,
  symbolClass,
  DEFAULT_CLASSES,
  INSTRUMENT_CLASSES,
  MAX_CAPITAL,
  type BacktestConfig,
  type BacktestConfigInput,
  type BaseSizing,
  type InstrumentClass,
  type InstrumentClassName,
  type KillAction,
  type RegimeMultipliers,
  type Rule,
  type Sizing,
} from './config';
export { alignSeries, marketFromBars, medianBarMs, symbolCloses, type MarketArrays, type SymbolSeries } from './market';
export { checkSignals, muSigmaFromQuantiles, muSigmaFromQuantilePoint, muSigmaFromSamples, Z90, type Signals, type SpreadToSigma } from './signals';
export { runBacktest } from './engine';
export { roundToLot } from './orders';
export { fundingAtTimes } from './funding';
export { LIMIT_NAMES, type BacktestOptions, type BacktestResult, type FundingSeries, type KillEvent, type KillSwitchName, type LimitName } from './result';
export type { Trade, ExitReason } from './ledger';
export { backtestingPyStats, directionTargets, type BacktestingPyStats } from './conventions';
export { backtestStats, computeStats, drawdown, type EquityCurve, type Stats, type StatsOptions } from './stats';
export { periodsPerYear, type Calendar } from './annualize';
export { classifyRegimes, classifyMarketRegimes, REGIME, REGIME_NAMES, type RegimeName, type RegimeOptions } from './regime';
export { runStrategy, type MarketView, type PriceField, type SignalRow, type Strategy, type TimeframeView } from './strategy';
export { targetSignals, runTargets, ruleSignals, probabilitySignals, type Targets, type RuleFn, type RuleOutput, type RuleOptions } from './targets';
export {
  bootstrapTrades,
  stationaryBootstrap,
  stationaryBootstrapIndices,
  optimalBlockLength,
  monteCarloOfRun,
  summarizeDistribution,
  type Distribution,
  type MonteCarloOptions,
  type MonteCarloResult,
} from './montecarlo';
export {
  walkForwardBacktest,
  sliceMarket,
  sliceSignals,
  mergeConfig,
  type Candidate,
  type FoldReport,
  type WalkForwardResult,
  type WalkForwardSpec,
} from './walkforward';
export {
  runOutlook,
  outlookSignals,
  meanReversionZ,
  pUpFromQuantiles,
  type OutlookForecasts,
  type OutlookResult,
  type OutlookRule,
  type OutlookTrade,
} from './outlookStrategy';
export { forecastSignals, type ForecastSignalOptions, type ForecastSignals } from './forecastSignals';
export { forecastBacktest, type ForecastBacktest, type ForecastBacktestOptions } from './pipeline';
export { backtestRecord, exitReasonCounts, killEventCounts, killEventRows, meanGrossByLabel, monteCarloSummary, statsRecord, statsRows, statsTable, formatNumber, STAT_LABELS } from './report';
