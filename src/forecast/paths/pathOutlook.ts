/**
 * The path outlook (the trading rule on top is backtest/outlookStrategy.ts): from
 * prepared bars and a forecaster to N checked price paths over
 * the next H bars, their step times, and every path statistic, saying how the
 * paths were made. What `quantbook forecast` and the paths notebook call.
 */
import { ConfigError, ModelError } from '../../core/errors';
import type { SessionLike, CompiledSession } from '../../data/sessions';
import type { Forecast, ForecastMeta, Forecaster, SamplingOptions } from '../types';
import { Rng } from '../../core/random';
import { pathsFromQuantiles, type QuantilePathOptions } from './copula';
import { bridgeExtremes, calibrateBridge } from './extremes';
import type { PreparedOutlook } from './prepare';
import { pricePathsOf, validatePricePaths, type PricePaths } from './pricePaths';
import { pathStatistics, type Barrier, type PathStats } from './stats';
import { forecastStepTimes, validateStepTimes } from './stepTimes';

/** A stretch of time (CPI, FOMC, ...) in which forecasts are flagged `quiet`. */
export interface QuietWindow {
  label: string;
  /** ms UTC, inclusive. */
  startMs: number;
  /** ms UTC, exclusive. */
  endMs: number;
}

/** Options of {@link forecastOutlook}. */
export interface OutlookOptions {
  /** Steps ahead (bars). */
  horizon: number;
  /** Paths (N). */
  samples: number;
  /** Seed of every random draw. Default 0. */
  seed?: number;
  /** The calendar of the forecast steps (the one the bars were prepared with). */
  session: SessionLike | CompiledSession;
  /** Sampler settings: autoregressive models only (others ignore them, and the notes say so). */
  sampling?: Partial<Pick<SamplingOptions, 'temperature' | 'topK' | 'topP' | 'samplesPerBatch'>>;
  /** How quantile models' paths are drawn. Default: Brownian copula, normal-score interpolation, exponential tails. */
  quantilePaths?: QuantilePathOptions;
  /** Band levels in (0, 1). Default [0.1, 0.5, 0.9]. */
  percentiles?: readonly number[];
  /** Drawdown / excursion levels. Default [0.5, 0.75, 0.9, 0.95, 0.99]. */
  excursionLevels?: readonly number[];
  /** User levels to test for touches (besides VWAP and the middle band). */
  levels?: readonly Barrier[];
  /** Windows in which a forecast is flagged quiet (still computed). */
  quietWindows?: readonly QuietWindow[];
  /**
   * Highs and lows for paths sampled as closes only: `bridge` (default) draws them by a
   * Brownian bridge per step calibrated on the context bars (`extremes.ts`); `none` leaves the
   * statistics on closes only (touches are then lower bounds).
   */
  intrabar?: 'bridge' | 'none';
}

/** What {@link forecastOutlook} returns. */
export interface PathOutlook {
  paths: PricePaths;
  /** Open times of the H forecast bars, ms UTC (session breaks skipped). */
  stepTimes: Float64Array;
  stats: PathStats;
  /** P(touch today's session VWAP), null when VWAP is undefined (no volume yet). */
  pHitVwap: number | null;
  /** P(touch the SMA / Bollinger middle band), null when the band is undefined. */
  pRetraceMidband: number | null;
  /** How the paths were made, in words. */
  pathMethod: string;
  /** `model` (autoregressive), `bootstrap` (historical), `quantileCopula`, `normal` (naive / trend). */
  pathSource: 'model' | 'bootstrap' | 'quantileCopula' | 'normal';
  meta: ForecastMeta;
  /** True when the forecast interval [as-of, last step's close) overlaps a quiet window. */
  quiet: boolean;
  quietWindows: QuietWindow[];
  /** Everything the reader should know: ignored settings, fallbacks, rearranged quantiles, undefined levels. */
  notes: string[];
  timings: { sampleMs: number; summariseMs: number };
}

/**
 * Quiet windows overlapping [fromMs, toMs).
 * @example quietWindowsHit([{ label: 'CPI', startMs: 10, endMs: 20 }], 15, 30).length // 1
 */
export function quietWindowsHit(windows: readonly QuietWindow[], fromMs: number, toMs: number): QuietWindow[] {
  return windows.filter((w) => w.startMs < toMs && w.endMs > fromMs);
}

async function samplePaths(forecaster: Forecaster, prepared: PreparedOutlook, opts: OutlookOptions, notes: string[]): Promise<{ forecast: Forecast; paths: PricePaths; method: string; source: PathOutlook['pathSource'] }> {
  const { family, name } = forecaster.info;
  const seed = opts.seed ?? 0;
  const base = { context: prepared.context.close, horizon: opts.horizon, seed };
  const { temperature, topK, topP } = opts.sampling ?? {};
  const sampler = family === 'autoregressive' || family === 'kronos';
  if (!sampler && [temperature, topK, topP].some((v) => v !== undefined)) {
    notes.push(`temperature, top-k and top-p apply to autoregressive models; ${name} (${family}) ignores them`);
  }
  if (name === 'oracle') throw new ConfigError('the oracle baseline reads the realised future: it can only be evaluated, not asked for an outlook', { key: 'model', value: name });
  if (family === 'quantile') {
    const forecast = await forecaster.forecast({ ...base, samples: 0 });
    const q = pathsFromQuantiles(forecast.quantiles!, opts.samples, seed, opts.quantilePaths);
    if (q.rearrangedSteps > 0) notes.push(`${q.rearrangedSteps} of ${opts.horizon} steps had crossing quantiles, sorted before use`);
    return { forecast, paths: { close: q.samples.data, n: opts.samples, horizon: opts.horizon }, method: q.method, source: 'quantileCopula' };
  }
  const forecast = await forecaster.forecast({
    ...base,
    samples: opts.samples,
    ...(sampler ? { sampling: opts.sampling ?? {} } : { contextHighLow: { high: prepared.context.high, low: prepared.context.low } }),
    ...(family === 'kronos' ? { contextBars: { timeMs: prepared.context.ts, open: prepared.context.open, high: prepared.context.high, low: prepared.context.low, volume: prepared.context.volume } } : {}),
  });
  const paths = pricePathsOf(forecast);
  const from = forecast.meta.samplesFrom;
  if (from === 'model' && !forecast.meta.sampling && forecast.meta.samplesMethod) {
    // A model that simulates its own paths without a token sampler (the volatility models).
    return { forecast, paths, method: `${forecast.meta.samplesMethod}; closes only`, source: 'model' };
  }
  if (from === 'model') {
    const s = forecast.meta.sampling;
    const how = s ? `temperature ${s.temperature}, top-k ${s.topK || 'off'}, top-p ${s.topP}` : 'its own sampler settings';
    if (forecast.samplesHighLow) return { forecast, paths, method: `sampled by the model bar by bar (${how}); ${forecast.meta.samplesMethod ?? 'whole bars'}`, source: 'model' };
    return { forecast, paths, method: `sampled by the model token by token (${how}); closes only`, source: 'model' };
  }
  if (from === 'bootstrap') {
    const what = forecast.samplesHighLow ? "whole past bars (close-to-close return with the bar's high and low relative to its close)" : 'past one-bar close returns';
    // The forecaster says how it drew (through any wrapper); the outlook does not guess from its class.
    const how = forecast.meta.samplesMethod ? `, ${forecast.meta.samplesMethod}` : '';
    return { forecast, paths, method: `bootstrap of ${what} from the context${how}`, source: 'bootstrap' };
  }
  return { forecast, paths, method: "normal one-bar log returns with the context's RMS volatility (zero-drift random walk); closes only", source: 'normal' };
}

/**
 * Samples N paths of the next H bars with any forecaster (autoregressive: by the model;
 * quantile: from each step's quantile function through a copula; historical: by
 * bootstrapping whole past bars), checks them (shape, finite positive prices, low <= close
 * <= high, increasing step times after the last bar) and takes every statistic against the
 * current close, including P(touch VWAP) and P(touch the middle band).
 *
 * @throws ModelError from the forecaster or the checks; ConfigError for the oracle or bad levels.
 * @example
 * const prepared = prepareOutlook(arrays, { barMs: 60_000, session: '24x7', lookback: 480, contextLength: model.info.contextLength });
 * const o = await forecastOutlook(model, prepared, { horizon: 30, samples: 100, seed: 1, session: '24x7' });
 * [o.stats.pUp, o.pHitVwap] // e.g. [0.53, 0.31]
 */
export async function forecastOutlook(forecaster: Forecaster, prepared: PreparedOutlook, opts: OutlookOptions): Promise<PathOutlook> {
  const notes: string[] = [];
  const t0 = performance.now();
  const sampled = await samplePaths(forecaster, prepared, opts, notes);
  const { forecast, source } = sampled;
  let { paths, method } = sampled;
  if (!paths.high && (opts.intrabar ?? 'bridge') === 'bridge') {
    const ctx = prepared.context;
    const cal = calibrateBridge(ctx.close, ctx.high, ctx.low, opts.seed ?? 0);
    const ext = bridgeExtremes(paths, prepared.current.close, cal.kappa, new Rng(opts.seed ?? 0).fork('intrabar'));
    paths = { ...paths, high: ext.high, low: ext.low };
    method = `${method.replace(/; closes only$/, '')}; highs and lows by a Brownian bridge per step (kappa ${cal.kappa.toFixed(3)}, calibrated on ${cal.bars} context bars)`;
  }
  const t1 = performance.now();
  if (forecast.meta.fallback.count > 0) notes.push(`fallback ${forecast.meta.fallback.forecaster} used: ${forecast.meta.fallback.reasons.join('; ')}`);
  if (paths.n !== opts.samples || paths.horizon !== opts.horizon) {
    throw new ModelError(`${forecaster.info.name} returned paths of shape (${paths.n}, ${paths.horizon}), asked for (${opts.samples}, ${opts.horizon})`, { key: 'samples' });
  }
  validatePricePaths(paths);
  const stepTimes = forecastStepTimes(prepared.lastOpenMs, opts.horizon, prepared.barMs, opts.session);
  validateStepTimes(stepTimes, prepared.lastOpenMs, opts.horizon);
  const barriers: Barrier[] = [];
  if (Number.isFinite(prepared.vwap)) barriers.push({ name: 'vwap', price: prepared.vwap });
  else notes.push('session VWAP undefined (no volume traded yet this session): pHitVwap is null');
  if (Number.isFinite(prepared.midband)) barriers.push({ name: 'midband', price: prepared.midband });
  else notes.push(`middle band undefined (fewer than ${prepared.bollingerWindow} bars in the feature window): pRetraceMidband is null`);
  const taken = new Set(barriers.map((b) => b.name));
  for (const level of opts.levels ?? []) {
    if (taken.has(level.name)) throw new ConfigError(`level name "${level.name}" is used twice (vwap and midband are built in)`, { key: 'levels', value: level.name });
    taken.add(level.name);
    barriers.push(level);
  }
  const stats = pathStatistics(paths, prepared.current.close, { percentiles: opts.percentiles, excursionLevels: opts.excursionLevels, barriers });
  if (stats.extremesFrom === 'close') notes.push('barrier touches, drawdowns and excursions use sampled closes only (no sampled highs/lows): touches inside a bar are missed, so they are lower bounds');
  const hit = (name: string) => stats.barriers.find((b) => b.name === name)?.pHit ?? null;
  const quietWindows = quietWindowsHit(opts.quietWindows ?? [], prepared.asOfMs, stepTimes[opts.horizon - 1] + prepared.barMs);
  return {
    paths,
    stepTimes,
    stats,
    pHitVwap: hit('vwap'),
    pRetraceMidband: hit('midband'),
    pathMethod: method,
    pathSource: source,
    meta: forecast.meta,
    quiet: quietWindows.length > 0,
    quietWindows,
    notes,
    timings: { sampleMs: t1 - t0, summariseMs: performance.now() - t1 },
  };
}
