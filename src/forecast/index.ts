/**
 * Forecasting: ONNX models of four families (quantile, autoregressive, and the exported
 * foundation models chronos-bolt and chronos), baselines,
 * the fallback wrapper, sample aggregation and walk-forward evaluation.
 */
export { openModel } from './openModel';
export type { OpenModelOptions } from './openModel';
export { KronosForecaster, openKronos, prepareKronosWindow, timeFeatures, DEFAULT_KRONOS_SAMPLES } from './families/kronos';
export { TotoForecaster, totoScale, drawMixture, DEFAULT_TOTO_SAMPLES, type TotoMixture, type TotoScaled } from './families/toto';
export { barsOfWindows } from './request';
export type { SeriesBars } from './request';
export { loadCard, modelCardSchema, graphCard } from './card';
export type { ModelCard, QuantileCard, AutoregressiveCard, ChronosBoltCard, ChronosCard, KronosCard, TotoCard, ExtraGraph, GraphSpec, LoadedCard, TensorSpec } from './card';
export { ChronosBoltForecaster, boltContextWidth } from './families/chronosBolt';
export { ChronosForecaster, chronosBins, chronosTokenize, chronosDecode } from './families/chronos';
export type { ChronosTokens } from './families/chronos';
export { clearSessionCache, checkGraph, CUDA_REQUIREMENTS } from './runtime';
export { QuantileModelForecaster } from './quantileModel';
export { AutoregressiveForecaster, DEFAULT_AR_SAMPLES } from './autoregressive';
export { FallbackForecaster } from './fallback';
export {
  BaselineForecaster,
  createBaseline,
  baselinePaths,
  returnStats,
  BASELINE_NAMES,
} from './baselines';
export type { BaselineSpec, ReturnStats, BarRanges } from './baselines';
export { FORECASTER_NAMES, createNamedForecaster } from './named';
export type { ForecasterName } from './named';
export { VolatilityForecaster, VOLATILITY_NAMES, createVolatilityForecaster, standardizedTQuantile, aggregateNu } from './volatilityForecaster';
export type { VolatilitySpec, VolatilityName, VolatilityWindowFit } from './volatilityForecaster';
export { fitGarch, garchLogLikelihood, garchVariances, garchVarianceForecast, ewmaNextVariance, backcastVariance, GARCH_NU_MAX } from './volatility';
export type { GarchParams, GarchFit, GarchFitOptions } from './volatility';
export { nelderMead } from './nelderMead';
export { compareForecasters, formatLeaderboard, hacMeanSe } from './compare';
export type { Leaderboard, LeaderboardRow, MeanSe, CompareSeries } from './compare';
export { EnsembleForecaster, inverseScoreWeights, validationWeights, pathCounts, parseEnsembleSpec } from './ensemble';
export type { EnsembleMode } from './ensemble';
export { ConformalForecaster, withCalibration, midRankQuantile, CALIBRATIONS } from './conformal';
export type { ConformalOptions, ConformalMeta } from './conformal';
export type { NelderMeadOptions, NelderMeadResult } from './nelderMead';
export { TokenSampler, DEFAULT_SAMPLING, checkSampling } from './sampling';
export { tokenizeCloses, binOf, binCentres, decodePath } from './tokenizer';
export type { TokenizedContext } from './tokenizer';
export {
  parseAggregate,
  aggregateSamples,
  aggregateSorted,
  trimmedMeanSorted,
  winsorizedMeanSorted,
} from './aggregate';
export type { Aggregate } from './aggregate';
export { quantilesFromSamples, samplesFromQuantiles, quantileFunction } from './distribution';
export { quantileLoss, crpsSamples, percentile, maseScale } from './metrics';
export { evaluateWalkForward, EvalAccumulator } from './evaluate';
export type { EvalOptions, EvalMetrics } from './evaluate';
export { DEFAULT_QUANTILE_LEVELS, isSamplingFamily, tensor3 } from './types';
export type {
  Forecast,
  ForecastMeta,
  ForecastRequest,
  Forecaster,
  ForecasterInfo,
  FallbackUse,
  SamplingOptions,
  KvCacheMode,
  Device,
  ResolvedDevice,
  Tensor3,
  ContextBars,
  WindowArrays,
} from './types';
export { forecastAtOrigins, spacedOrigins } from './origins';
export type { OriginForecastOptions, OriginForecasts } from './origins';
export { searchSamplerSettings, expandSamplerGrid, bestPerSymbol, inverseErrorEnsemble, samplerSettingLabel } from './samplerSearch';
export type { SamplerGrid, SamplerSetting, SamplerSearchOptions, SamplerSearchResult, SearchSeries, SettingResult, WindowScores, SamplerEnsemble } from './samplerSearch';
export * from './paths';
export {
  BEST_CONFIG_SCHEMA, bestConfigFromSweep, bestConfigSchema, bestConfigText, isBestConfig, parseBestConfig, readBestConfig, writeBestConfig, writeBestConfigs,
  type BestConfig, type BestSetting, type SweepProvenance,
} from './bestConfig';
