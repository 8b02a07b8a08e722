/**
 * Search over sampler settings of a path-sampling forecaster (samples, point aggregate,
 * lookback, temperature, top-p), per symbol, scored on validation and test origins, with
 * the best setting per symbol chosen on validation only and an ensemble of the best
 * settings weighted by inverse validation error.
 *
 * Cost: one forecast per origin and (lookback, temperature, topP) at the largest sample
 * count; smaller counts are scored on the first N of those paths (the paths are independent
 * draws, so the first N are a sample of N paths) and every aggregate on the same paths.
 * Latency is measured separately with single-window calls (a live forecast is one window),
 * once per symbol, lookback, top-p and sample count: temperature only rescales the logits.
 */
import { dict, ownValue } from '../core/dict';
import { ConfigError } from '../core/errors';
import { aggregateSorted, parseAggregate, type Aggregate } from './aggregate';
import { percentile } from './metrics';
import { forecastAtOrigins } from './origins';
import { meanCrps, pctReturnError, simpleReturn, stepCrps, weightedCrps } from './scores';
import type { Forecaster } from './types';

/** The values searched, every combination. */
export interface SamplerGrid {
  /** Sampled paths per forecast, e.g. [64, 128, 256, 512, 1024]. */
  samples: number[];
  /** Point aggregates by name (`mean`, `median`, `trimmed_mean_5`, `winsorized_mean_10`, ...). */
  aggregations: string[];
  /** Closes per context window. */
  lookbacks: number[];
  temperatures: number[];
  topPs: number[];
}

/** One combination of the grid. */
export interface SamplerSetting {
  samples: number;
  aggregation: string;
  lookback: number;
  temperature: number;
  topP: number;
}

/**
 * A setting in one line, for tables, hover text and printed readings.
 * @example samplerSettingLabel({ samples: 64, aggregation: 'median', lookback: 128, temperature: 1, topP: 0.9 }) // 'N=64 median L=128 T=1 p=0.9'
 */
export function samplerSettingLabel(s: SamplerSetting): string {
  return `N=${s.samples} ${s.aggregation} L=${s.lookback} T=${s.temperature} p=${s.topP}`;
}

/** Scores of one setting on one set of origins. */
export interface WindowScores {
  /** Origins scored. */
  n: number;
  /** Mean |predicted - realised| H-bar return (the `pct_return_mae` of `evaluateWalkForward`), a fraction. */
  pctReturnMae: number;
  /** Standard error of that mean: sd(|error|) / sqrt(n). */
  pctReturnMaeSe: number;
  /** Mean CRPS from the paths over every step 1..H, price units. */
  crps: number;
  /** Sum of CRPS / sum |y|: comparable across symbols. */
  wcrps: number;
}

/** A setting's result on one symbol. */
export interface SettingResult {
  symbol: string;
  setting: SamplerSetting;
  validation: WindowScores;
  test: WindowScores;
  /** Median wall time of a single-window forecast at this setting, ms. */
  latencyMs: number;
  /** Predicted H-bar returns at the validation and test origins (for ensembles). */
  predicted: { validation: Float64Array; test: Float64Array };
}

/** One symbol's series and its validation and test origins (bar indices). */
export interface SearchSeries {
  symbol: string;
  closes: Float64Array;
  validation: ArrayLike<number>;
  test: ArrayLike<number>;
}

/** Options of {@link searchSamplerSettings}. */
export interface SamplerSearchOptions {
  grid: SamplerGrid;
  /** Bars ahead. */
  horizon: number;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Single-window calls timed per setting; the median is kept (default 1). */
  latencyRepeats?: number;
  /** Called after each (symbol, lookback, temperature, topP) block with blocks done and in all. */
  progress?: (done: number, total: number) => void;
}

/** Output of {@link searchSamplerSettings}. */
export interface SamplerSearchResult {
  results: SettingResult[];
  /** Realised H-bar returns at the scored origins, per symbol. */
  realized: Record<string, { validation: Float64Array; test: Float64Array }>;
  /** Origins skipped (no complete future, too little context), per symbol. */
  skipped: Record<string, number>;
  horizon: number;
}

/**
 * Every combination of a grid, in a fixed order (samples vary fastest).
 * @throws ConfigError for an empty list, a bad aggregate name or a non-positive count.
 * @example expandSamplerGrid({ samples: [64, 128], aggregations: ['median'], lookbacks: [128], temperatures: [1], topPs: [1] }).length // 2
 */
export function expandSamplerGrid(grid: SamplerGrid): SamplerSetting[] {
  for (const [key, values] of Object.entries(grid) as Array<[keyof SamplerGrid, unknown[]]>) {
    if (!Array.isArray(values) || values.length === 0) throw new ConfigError(`sampler grid ${key} needs at least one value`, { key });
  }
  for (const n of [...grid.samples, ...grid.lookbacks]) {
    if (!Number.isInteger(n) || n < 1) throw new ConfigError('sample counts and lookbacks must be positive integers', { key: 'grid', value: n });
  }
  grid.aggregations.forEach((a) => parseAggregate(a));
  const out: SamplerSetting[] = [];
  for (const lookback of grid.lookbacks)
    for (const temperature of grid.temperatures)
      for (const topP of grid.topPs)
        for (const aggregation of grid.aggregations)
          for (const samples of grid.samples) out.push({ samples, aggregation, lookback, temperature, topP });
  return out;
}

/**
 * Scores every setting of the grid on every symbol's validation and test origins (see the
 * module comment for what is shared between settings).
 * @throws ConfigError for a bad grid; ModelError from the forecaster.
 * @example
 * const r = await searchSamplerSettings(arModel, [{ symbol: 'BTC', closes, validation: [900, 960], test: [1500, 1560] }],
 *   { grid: { samples: [64, 256], aggregations: ['median', 'mean'], lookbacks: [256], temperatures: [1], topPs: [0.9, 1] }, horizon: 30 });
 * r.results.length; // 2 samples x 2 aggregates x 2 topP = 8
 */
export async function searchSamplerSettings(forecaster: Forecaster, series: SearchSeries[], opts: SamplerSearchOptions): Promise<SamplerSearchResult> {
  const { grid, horizon: H } = opts;
  const settings = expandSamplerGrid(grid);
  const maxN = Math.max(...grid.samples);
  const aggregates = new Map(grid.aggregations.map((a) => [a, parseAggregate(a)]));
  const repeats = opts.latencyRepeats ?? 1;
  const results: SettingResult[] = [];
  // Keyed by symbol (user text): no prototype.
  const realized: SamplerSearchResult['realized'] = dict();
  const skipped: Record<string, number> = dict();
  const keptOrigins = new Map<string, { validation: Int32Array; test: Int32Array }>();
  const latency = new Map<string, number>();
  const blocks = series.length * grid.lookbacks.length * grid.temperatures.length * grid.topPs.length;
  let done = 0;
  for (const s of series) {
    skipped[s.symbol] = 0;
    for (const lookback of grid.lookbacks) {
      for (const temperature of grid.temperatures) {
        for (const topP of grid.topPs) {
          const sampling = { temperature, topP };
          const scored = { validation: await scoreOrigins(forecaster, s.closes, s.validation, H, lookback, maxN, sampling, opts.seed ?? 0, grid.samples,
            aggregates),
            test: await scoreOrigins(forecaster, s.closes, s.test, H, lookback, maxN, sampling, opts.seed ?? 0, grid.samples, aggregates) };
          const origins = { validation: scored.validation.origins, test: scored.test.origins };
          if (!keptOrigins.has(s.symbol)) {
            keptOrigins.set(s.symbol, origins);
            realized[s.symbol] = { validation: scored.validation.realized, test: scored.test.realized };
          } else if (!sameOrigins(keptOrigins.get(s.symbol)!, origins)) {
            // Predictions of different settings are compared origin by origin: the sets must agree.
            throw new ConfigError(`${s.symbol}: lookback ${lookback} keeps other origins than lookback ${grid.lookbacks[0]} (windows with missing closes); choose origins with full context`, { key: 'lookbacks', symbol: s.symbol });
          }
          if (temperature === grid.temperatures[0] && topP === grid.topPs[0] && lookback === grid.lookbacks[0]) {
            skipped[s.symbol] = scored.validation.skipped + scored.test.skipped;
          }
          // Temperature only rescales logits: the cost is that of the first temperature's timing.
          for (const n of grid.samples) {
            const key = `${s.symbol}|${lookback}|${topP}|${n}`;
            if (!latency.has(key)) latency.set(key, await timeOne(forecaster, s, H, lookback, n, sampling, repeats));
          }
          for (const setting of settings) {
            if (setting.lookback !== lookback || setting.temperature !== temperature || setting.topP !== topP) continue;
            const key = `${setting.samples}|${setting.aggregation}`;
            results.push({
              symbol: s.symbol,
              setting,
              validation: scored.validation.scores.get(key)!,
              test: scored.test.scores.get(key)!,
              latencyMs: latency.get(`${s.symbol}|${lookback}|${topP}|${setting.samples}`)!,
              predicted: { validation: scored.validation.predicted.get(key)!, test: scored.test.predicted.get(key)! },
            });
          }
          opts.progress?.(++done, blocks);
        }
      }
    }
  }
  return { results, realized, skipped, horizon: H };
}

function sameOrigins(a: { validation: Int32Array; test: Int32Array }, b: { validation: Int32Array; test: Int32Array }): boolean {
  const eq = (x: Int32Array, y: Int32Array) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.validation, b.validation) && eq(a.test, b.test);
}

async function timeOne(forecaster: Forecaster, s: SearchSeries, H: number, lookback: number, samples: number, sampling: { temperature: number; topP: number },
  repeats: number): Promise<number> {
  const t = s.test[s.test.length - 1] ?? s.validation[s.validation.length - 1];
  const context = s.closes.subarray(Math.max(0, t + 1 - lookback), t + 1);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await forecaster.forecast({ context, horizon: H, samples, seed: r, sampling });
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

/** Scores of every (samples prefix, aggregate) on one set of origins from one batched forecast. */
async function scoreOrigins(
  forecaster: Forecaster,
  closes: Float64Array,
  origins: ArrayLike<number>,
  H: number,
  lookback: number,
  maxN: number,
  sampling: { temperature: number; topP: number },
  seed: number,
  sampleCounts: number[],
  aggregates: Map<string, Aggregate>,
): Promise<{ scores: Map<string, WindowScores>; predicted: Map<string, Float64Array>; realized: Float64Array; origins: Int32Array; skipped: number }> {
  const f = await forecastAtOrigins(forecaster, closes, { horizon: H, origins, lookback, samples: maxN, seed, sampling });
  if (!f.samples) throw new ConfigError(`${forecaster.info.name} gives no sampled paths: a sampler search needs a path-sampling forecaster`, { key: 'forecaster' });
  const n = f.origins.length;
  const N = f.samples.dims[1];
  const realized = new Float64Array(n);
  for (let i = 0; i < n; i++) realized[i] = simpleReturn(f.realized[i * H + H - 1], f.lastPrice[i]);
  const scores = new Map<string, WindowScores>();
  const predicted = new Map<string, Float64Array>();
  const column = new Float64Array(N);
  for (const count of sampleCounts) {
    // CRPS depends on the paths only: once per sample count, pooled over steps as evaluateWalkForward
    // pools it; the scores themselves are scores.ts's, as there.
    let crpsSum = 0;
    let absY = 0;
    const lastStep = new Map<string, Float64Array>([...aggregates.keys()].map((a) => [a, new Float64Array(n)]));
    const errors = new Map<string, Float64Array>([...aggregates.keys()].map((a) => [a, new Float64Array(n)]));
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < H; h++) {
        const y = f.realized[i * H + h];
        crpsSum += stepCrps(f.samples, i, h, y, column, count); // leaves the step's paths sorted in column
        absY += Math.abs(y);
        if (h !== H - 1) continue;
        const sorted = column.subarray(0, count);
        for (const [name, agg] of aggregates) {
          const point = aggregateSorted(sorted, agg);
          lastStep.get(name)![i] = simpleReturn(point, f.lastPrice[i]);
          errors.get(name)![i] = pctReturnError(point, y, f.lastPrice[i]);
        }
      }
    }
    for (const name of aggregates.keys()) {
      const key = `${count}|${name}`;
      predicted.set(key, lastStep.get(name)!);
      scores.set(key, { n, ...maeWithSe(errors.get(name)!), crps: meanCrps(crpsSum, n * H), wcrps: weightedCrps(crpsSum, n * H, absY) });
    }
  }
  return { scores, predicted, realized, origins: f.origins, skipped: f.skipped.missingFuture.length + f.skipped.shortContext.length };
}

function maeWithSe(errors: Float64Array): { pctReturnMae: number; pctReturnMaeSe: number } {
  const n = errors.length;
  let sum = 0;
  for (const e of errors) sum += e;
  const mean = sum / n;
  let ss = 0;
  for (const e of errors) ss += (e - mean) ** 2;
  return { pctReturnMae: mean, pctReturnMaeSe: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}

/**
 * The best setting per symbol: lowest validation `pctReturnMae`; ties (within 1e-12) go to
 * the lower latency, then fewer samples. Test scores are never looked at.
 * @example bestPerSymbol(search.results).get('BTC')?.setting.samples // e.g. 256
 */
export function bestPerSymbol(results: readonly SettingResult[]): Map<string, SettingResult> {
  const best = new Map<string, SettingResult>();
  for (const r of results) {
    const b = best.get(r.symbol);
    if (!b || better(r, b)) best.set(r.symbol, r);
  }
  return best;
}

function better(a: SettingResult, b: SettingResult): boolean {
  const d = a.validation.pctReturnMae - b.validation.pctReturnMae;
  if (Math.abs(d) > 1e-12) return d < 0;
  if (a.latencyMs !== b.latencyMs) return a.latencyMs < b.latencyMs;
  return a.setting.samples < b.setting.samples;
}

/** An ensemble of settings and how it scored. */
export interface SamplerEnsemble {
  symbol: string;
  /** Members, best first; weights sum to 1. */
  members: Array<{ setting: SamplerSetting; weight: number; validationPctReturnMae: number }>;
  /** MAE of the weighted predicted return on validation (where the weights were set: optimistic) and test. */
  validation: { pctReturnMae: number; pctReturnMaeSe: number };
  test: { pctReturnMae: number; pctReturnMaeSe: number };
}

/**
 * Ensemble of one symbol's `size` best settings (by validation error), weighted by inverse
 * validation error, `w_k = (1 / mae_k) / sum_j (1 / mae_j)`; its point forecast is the weighted
 * mean of the members' predicted returns.
 * @throws ConfigError for a symbol without results or a size below 1.
 * @example inverseErrorEnsemble(search, 'BTC', 5).members.map((m) => m.weight) // e.g. [0.21, 0.2, ...]
 */
export function inverseErrorEnsemble(search: SamplerSearchResult, symbol: string, size = 5): SamplerEnsemble {
  if (!Number.isInteger(size) || size < 1) throw new ConfigError('ensemble size must be a positive integer', { key: 'size', value: size });
  const mine = search.results.filter((r) => r.symbol === symbol).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  if (mine.length === 0) throw new ConfigError(`no search results for symbol ${symbol}`, { key: 'symbol', symbol });
  const top = mine.slice(0, size);
  const inv = top.map((r) => 1 / Math.max(r.validation.pctReturnMae, 1e-12));
  const total = inv.reduce((a, b) => a + b, 0);
  const weights = inv.map((v) => v / total);
  const score = (part: 'validation' | 'test') => {
    const y = ownValue(search.realized, symbol)![part];
    const errors = Float64Array.from(y, (yi, i) => Math.abs(top.reduce((s, r, k) => s + weights[k] * r.predicted[part][i], 0) - yi));
    return maeWithSe(errors);
  };
  return {
    symbol,
    members: top.map((r, k) => ({ setting: r.setting, weight: weights[k], validationPctReturnMae: r.validation.pctReturnMae })),
    validation: score('validation'),
    test: score('test'),
  };
}
