/**
 * Walk-forward evaluation: at every k-th bar t, forecast h bars ahead from closes
 * up to and including t only, then score against the realised closes t+1..t+h.
 *
 * Scores (REFERENCES.md; pct_return_mae and CRPS as defined once in `scores.ts`):
 * `pctReturnMae` is mean |predicted h-step return - realised h-step return|, returns
 * relative to the last close, at step h only; MAE, MASE, WQL, CRPS and coverage pool
 * every step 1..h of every forecast. The point forecast is
 * the `aggregate` of the samples (default median) or the 0.5 quantile when a
 * forecaster gives no samples.
 */
import { ModelError } from '../core/errors';
import { aggregateSamples, parseAggregate, type Aggregate } from './aggregate';
import { maseScale, percentile, quantileLoss } from './metrics';
import { barsOfWindows, lastObservedIndex, type SeriesBars } from './request';
import { meanCrps, pctReturnError, stepCrps, weightedCrps } from './scores';
import type { Forecast, Forecaster, ResolvedDevice, SamplingOptions } from './types';

/** Options of `evaluateWalkForward`. */
export interface EvalOptions {
  /** Bars ahead (h). */
  horizon: number;
  /** Opens, highs, lows, times (and volumes) aligned with the closes, for models that read bars (Kronos). */
  bars?: SeriesBars;
  /** Closes in each window (default: the forecaster's contextLength). */
  lookback?: number;
  /** Forecast at every k-th bar (default 1). */
  every?: number;
  /** Paths per forecast, for CRPS and sample aggregates (default 100). */
  samples?: number;
  /** Seed; forecast at bar t uses seed + t. Default 0. */
  seed?: number;
  /** Point forecast from samples by name (`median`, `trimmed_mean_5`, ...). Default `median`. */
  aggregate?: string;
  /** Sampler overrides for autoregressive models. */
  sampling?: Partial<SamplingOptions>;
  /** Use the fair CRPS (pair term over 2 M (M - 1)). Default false. */
  crpsFair?: boolean;
  /**
   * Stream name sent with each window as `origins` (with the bar index t), so stateful
   * wrappers (the conformal layer) learn from outcomes once known. Default `series`.
   */
  stream?: string;
}

/** Scores of a walk-forward run (one series, or several pooled). */
export interface EvalMetrics {
  /** Forecasts scored. */
  n: number;
  /** Scored (forecast, step) pairs: n * h. */
  points: number;
  pctReturnMae: number;
  /** Mean |y - point| in price units. */
  mae: number;
  /** Mean over forecasts of (mean_h |y - point|) / (mean |c_t - c_{t-1}| over the window). */
  mase: number;
  /** Weighted quantile loss, mean over the forecast's levels of sum QL_q / sum |y|. */
  wql: number;
  /** Mean CRPS from samples, price units. */
  crps: number;
  /** Sum CRPS / sum |y|: CRPS on the scale of WQL, comparable across series. */
  wcrps: number;
  /** Share of outcomes inside [q0.1, q0.9]. */
  coverage80: number;
  latencyMsP50: number;
  latencyMsP95: number;
  latencyMsMean: number;
  device: ResolvedDevice | 'mixed';
  /** Windows forecast by a configured fallback. */
  fallbacks: number;
  /** Origins skipped because a realised future close is missing (a gap in the data). */
  skippedMissingFuture: number;
  /** Forecasts left out of MASE because their window had no change at all (scale 0). */
  maseUndefined: number;
}

/** What {@link EvalAccumulator.add} scored for one forecast, for callers that also keep per-forecast scores. */
export interface ForecastScores {
  /** |predicted - realised| h-step return (`pctReturnError`). */
  pctReturnError: number;
  /** CRPS at each step 1..h; null when the forecast has no paths. */
  crpsByStep: Float64Array | null;
  /** Steps whose outcome lies inside [q0.1, q0.9]; null when the forecast lacks those quantiles. */
  inside80: number | null;
}

/** Running sums of the scores; add forecasts one by one, merge series, read `result()`. */
export class EvalAccumulator {
  private n = 0;
  private points = 0;
  private pctAbs = 0;
  private absErr = 0;
  private maseSum = 0;
  private maseN = 0;
  private maseUndefined = 0;
  private absY = 0;
  private qlByLevel = new Map<number, number>();
  private crpsSum = 0;
  private crpsN = 0;
  private covered = 0;
  private coverageN = 0;
  private latencies: number[] = [];
  private devices = new Set<ResolvedDevice>();
  private fallbacks = 0;
  skippedMissingFuture = 0;

  constructor(
    private readonly aggregate: Aggregate = { kind: 'median' },
    private readonly crpsFair = false,
  ) {}

  /**
   * Scores one forecast (batch of one) of `future` made from `window`.
   * @returns the forecast's own scores (also pooled into the sums).
   * @throws ModelError when the forecast has neither samples nor a 0.5 quantile.
   */
  add(window: Float64Array, future: Float64Array, forecast: Forecast, latencyMs: number): ForecastScores {
    const H = future.length;
    const last = window[lastObservedIndex(window)];
    const point = pointForecast(forecast, this.aggregate);
    const q = forecast.quantiles;
    const lo = q ? q.levels.indexOf(0.1) : -1;
    const hi = q ? q.levels.indexOf(0.9) : -1;
    const scale = maseScale(window);
    let errSum = 0;
    let inside80: number | null = null;
    const samples = forecast.samples;
    const column = samples ? new Float64Array(samples.dims[1]) : null;
    const crpsByStep = samples ? new Float64Array(H) : null;
    for (let h = 0; h < H; h++) {
      const y = future[h];
      const err = Math.abs(y - point[h]);
      errSum += err;
      this.absY += Math.abs(y);
      if (q) {
        const [, nq, hq] = q.values.dims;
        for (let j = 0; j < nq; j++) {
          const level = q.levels[j];
          this.qlByLevel.set(level, (this.qlByLevel.get(level) ?? 0) + quantileLoss(y, q.values.data[j * hq + h], level));
        }
        if (lo >= 0 && hi >= 0) {
          const inside = y >= q.values.data[lo * hq + h] && y <= q.values.data[hi * hq + h];
          this.covered += inside ? 1 : 0;
          this.coverageN++;
          inside80 = (inside80 ?? 0) + (inside ? 1 : 0);
        }
      }
      if (samples && column && crpsByStep) {
        const score = stepCrps(samples, 0, h, y, column, samples.dims[1], this.crpsFair);
        crpsByStep[h] = score;
        this.crpsSum += score;
        this.crpsN++;
      }
    }
    this.absErr += errSum;
    if (scale > 0) {
      this.maseSum += errSum / H / scale;
      this.maseN++;
    } else this.maseUndefined++;
    const pct = pctReturnError(point[H - 1], future[H - 1], last);
    this.pctAbs += pct;
    this.points += H;
    this.n++;
    this.latencies.push(latencyMs);
    this.devices.add(forecast.meta.device);
    this.fallbacks += forecast.meta.fallback.count;
    return { pctReturnError: pct, crpsByStep, inside80 };
  }

  /** Adds another accumulator's sums (pooling series). */
  merge(other: EvalAccumulator): void {
    this.n += other.n;
    this.points += other.points;
    this.pctAbs += other.pctAbs;
    this.absErr += other.absErr;
    this.maseSum += other.maseSum;
    this.maseN += other.maseN;
    this.maseUndefined += other.maseUndefined;
    this.absY += other.absY;
    for (const [k, v] of other.qlByLevel) this.qlByLevel.set(k, (this.qlByLevel.get(k) ?? 0) + v);
    this.crpsSum += other.crpsSum;
    this.crpsN += other.crpsN;
    this.covered += other.covered;
    this.coverageN += other.coverageN;
    this.latencies.push(...other.latencies);
    for (const d of other.devices) this.devices.add(d);
    this.fallbacks += other.fallbacks;
    this.skippedMissingFuture += other.skippedMissingFuture;
  }

  result(): EvalMetrics {
    const levels = [...this.qlByLevel.values()];
    const devices = [...this.devices];
    return {
      n: this.n,
      points: this.points,
      pctReturnMae: this.pctAbs / this.n,
      mae: this.absErr / this.points,
      mase: this.maseSum / this.maseN,
      wql: levels.length > 0 ? levels.reduce((a, b) => a + b, 0) / levels.length / this.absY : NaN,
      crps: meanCrps(this.crpsSum, this.crpsN),
      wcrps: weightedCrps(this.crpsSum, this.crpsN, this.absY),
      coverage80: this.coverageN > 0 ? this.covered / this.coverageN : NaN,
      latencyMsP50: percentile(this.latencies, 50),
      latencyMsP95: percentile(this.latencies, 95),
      latencyMsMean: this.latencies.reduce((a, b) => a + b, 0) / this.latencies.length,
      device: devices.length === 1 ? devices[0] : 'mixed',
      fallbacks: this.fallbacks,
      skippedMissingFuture: this.skippedMissingFuture,
      maseUndefined: this.maseUndefined,
    };
  }
}

function pointForecast(f: Forecast, aggregate: Aggregate): Float64Array {
  if (f.samples) return aggregateSamples(f.samples, aggregate);
  const q = f.quantiles;
  const mid = q ? q.levels.indexOf(0.5) : -1;
  if (!q || mid < 0) throw new ModelError(`${f.meta.model} gave neither samples nor a 0.5 quantile to score`, { key: 'aggregate' });
  const H = q.values.dims[2];
  return q.values.data.slice(mid * H, (mid + 1) * H);
}

/**
 * Runs a forecaster over a series walk-forward and scores it.
 * @param closes - the series on a regular bar grid, NaN for missing bars.
 * @throws ModelError when the series is shorter than lookback + horizon, or a forecast fails.
 * @example (await evaluateWalkForward(createBaseline('naive'), closes, { horizon: 5, every: 10 })).result().n
 */
export async function evaluateWalkForward(forecaster: Forecaster, closes: Float64Array, opts: EvalOptions): Promise<EvalAccumulator> {
  const H = opts.horizon;
  const lookback = opts.lookback ?? forecaster.info.contextLength;
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new ModelError('every must be a positive integer', { key: 'every', value: every });
  if (!Number.isInteger(lookback) || lookback < 1) throw new ModelError('lookback must be a positive integer', { key: 'lookback', value: lookback });
  if (closes.length < lookback + H) {
    throw new ModelError(`series has ${closes.length} bars, fewer than lookback ${lookback} + horizon ${H}`, { key: 'lookback' });
  }
  const acc = new EvalAccumulator(parseAggregate(opts.aggregate ?? 'median'), opts.crpsFair);
  for (let t = lookback - 1; t + H < closes.length; t += every) {
    const window = closes.subarray(t + 1 - lookback, t + 1);
    const future = closes.subarray(t + 1, t + 1 + H);
    if (future.some((v) => !Number.isFinite(v))) {
      acc.skippedMissingFuture++;
      continue;
    }
    const t0 = performance.now();
    const forecast = await forecaster.forecast({
      context: [window],
      horizon: H,
      samples: opts.samples ?? 100,
      seed: (opts.seed ?? 0) + t,
      sampling: opts.sampling,
      future: [future],
      origins: [{ stream: opts.stream ?? 'series', t }],
      contextBars: barsOfWindows(opts.bars, [[t + 1 - lookback, t + 1]]),
    });
    acc.add(window, future, forecast, performance.now() - t0);
    // Let timers and I/O run now and then: a long CPU-bound run must not starve the event loop.
    if ((t - lookback + 1) % (64 * every) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return acc;
}
