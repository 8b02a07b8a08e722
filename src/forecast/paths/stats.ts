/**
 * Statistics of sampled price paths against the entry (current) close: P(up),
 * expected return, per-step percentile bands, barrier touch probabilities,
 * drawdown and favourable-excursion distributions, and the Monte-Carlo errors.
 * Kernels on typed arrays; no polars, no onnxruntime.
 *
 * Conventions (all returns and excursions are fractions of the entry close, 0.004 = 0.4%):
 * - "up" is strict and float-noise proof: a path is up when it ends above the entry close by
 *   more than {@link FLAT_TOLERANCE} (relative), down when below by more, flat otherwise. The
 *   tolerance (1e-9 of the price) is far below any market's tick (1e-7 of the price for BTC at
 *   100,000 with a 0.01 tick) and far above the float noise of a price rebuilt from returns
 *   (about 1e-15), so a path that comes back to the entry close counts as flat, never as up.
 * - Percentiles are type 7 (linear between order statistics, numpy's default).
 * - A barrier is touched at step h when the step's high (or close, without sampled highs
 *   and lows) reaches it from below, or the low (close) reaches it from above; touching
 *   is inclusive (>= / <=). A level equal to the entry close counts as touched at step 0.
 *   Closes alone miss touches inside a bar, so their barrier probabilities are lower bounds.
 */
import { ConfigError, DataError } from '../../core/errors';
import { quantileSorted } from '../../stats/order';
import { quantilesFromSamples } from '../distribution';
import type { PricePaths } from './pricePaths';

/** A price level whose touch probability is wanted. */
export interface Barrier {
  name: string;
  price: number;
}

/** Relative tolerance of up / down / flat: |price / reference - 1| <= 1e-9 is flat. See the module notes. */
export const FLAT_TOLERANCE = 1e-9;

/**
 * Where `price` is against `reference`: 1 above, -1 below, 0 flat (within {@link FLAT_TOLERANCE},
 * relative to the reference).
 * @example sideOf(100 * (1 + 4e-15), 100) // 0: float noise, not a move
 * @example sideOf(100.01, 100) // 1
 */
export function sideOf(price: number, reference: number): -1 | 0 | 1 {
  const band = Math.abs(reference) * FLAT_TOLERANCE;
  if (price > reference + band) return 1;
  if (price < reference - band) return -1;
  return 0;
}

/** Options of {@link pathStatistics}. */
export interface PathStatsOptions {
  /** Levels of the per-step bands, in (0, 1). Default [0.1, 0.5, 0.9]. */
  percentiles?: readonly number[];
  /** Levels to test for touches (VWAP, middle band, user levels). Default none. */
  barriers?: readonly Barrier[];
  /** Levels of the drawdown and excursion distributions, in [0, 1]. Default [0.5, 0.75, 0.9, 0.95, 0.99]. */
  excursionLevels?: readonly number[];
}

/** Touch statistics of one barrier. */
export interface BarrierStats {
  name: string;
  price: number;
  /** Where the level is from the entry close. */
  side: 'above' | 'below' | 'at';
  /** price / entry - 1. */
  distance: number;
  /** Share of paths touching the level within the horizon. */
  pHit: number;
  /** sqrt(pHit (1 - pHit) / N). */
  pHitStdError: number;
  /** Share of paths whose last close is at or beyond the level (on its side). */
  pEndBeyond: number;
  /** Median first step (1-based) of the paths that touch; 0 for `at`; null when none touches. */
  medianFirstHitStep: number | null;
}

/** A distribution of one number per path: its mean and its type-7 quantiles at `levels`. */
export interface PathDistribution {
  mean: number;
  levels: number[];
  values: number[];
}

/** What {@link pathStatistics} returns. */
export interface PathStats {
  n: number;
  horizon: number;
  entryClose: number;
  /** Whether touches, drawdowns and excursions used sampled highs/lows or closes only. */
  extremesFrom: 'highLow' | 'close';
  /** Share of paths whose last close is above the entry close. */
  pUp: number;
  pDown: number;
  /** Share ending exactly at the entry close (thin markets, tokenized models). */
  pFlat: number;
  /** Monte-Carlo standard error of pUp: sqrt(pUp (1 - pUp) / N). */
  pUpStdError: number;
  /** mean(last / entry - 1). */
  expReturn: number;
  /** std(last / entry - 1, ddof 1) / sqrt(N); 0 when N = 1. */
  expReturnStdError: number;
  /** Per-step percentiles of the close: `values[k][h]` is level `levels[k]` at step h + 1. */
  bands: { levels: number[]; values: Float64Array[] };
  /** Mean close per step. */
  meanPath: Float64Array;
  barriers: BarrierStats[];
  /** Per path max(0, 1 - min(low or close) / entry): the worst drop below the entry within the horizon. */
  drawdown: PathDistribution;
  /** Per path max(0, max(high or close) / entry - 1): the best rise above the entry (MFE of a long). */
  favourableExcursion: PathDistribution;
}

const DEFAULT_PERCENTILES = [0.1, 0.5, 0.9];
const DEFAULT_EXCURSION_LEVELS = [0.5, 0.75, 0.9, 0.95, 0.99];

/**
 * Share of paths whose close at `step` (0-based, default the last) is above `price` by more than
 * {@link FLAT_TOLERANCE} (relative): the same "up" as {@link pathStatistics}' pUp.
 * `offset` addresses one window inside a [B, N, H] array without copying it.
 * @example probAboveAtStep(Float64Array.of(101, 99, 102, 98, 103, 104), 3, 2, 100) // 1/3 (paths end at 99, 98, 104)
 */
export function probAboveAtStep(close: ArrayLike<number>, n: number, horizon: number, price: number, step = horizon - 1, offset = 0): number {
  const above = price + Math.abs(price) * FLAT_TOLERANCE;
  let up = 0;
  for (let j = 0; j < n; j++) if (close[offset + j * horizon + step] > above) up++;
  return up / n;
}

/**
 * Monte-Carlo standard error of a probability estimated from N paths, sqrt(p (1 - p) / N).
 * @example probStdError(0.5, 100) // 0.05
 */
export function probStdError(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}

/**
 * Per-step type-7 percentiles of the closes: `out[k][h]` is level `levels[k]` at step h + 1.
 * @example stepPercentiles(Float64Array.of(1, 10, 3, 30), 2, 2, [0.5])[0] // Float64Array [2, 20]
 */
export function stepPercentiles(close: Float64Array, n: number, horizon: number, levels: readonly number[]): Float64Array[] {
  // The paths are one window of samples [1, N, H]; its quantiles [1, Q, H] are the bands, one row per level.
  const q = quantilesFromSamples({ data: close, dims: [1, n, horizon] }, levels).data;
  return levels.map((_, k) => q.slice(k * horizon, (k + 1) * horizon));
}

/**
 * Touch statistics of one level: share of paths reaching it within the horizon (highs/lows
 * when given, else closes), share ending at or beyond it, median first touch step.
 * @throws DataError for a non-finite or non-positive level.
 * @example barrierStats({ close: Float64Array.of(101, 103, 99, 98), n: 2, horizon: 2 }, 100, { name: 'r', price: 102 }).pHit // 0.5
 */
export function barrierStats(paths: PricePaths, entryClose: number, barrier: Barrier): BarrierStats {
  const { name, price } = barrier;
  if (!(price > 0) || price === Infinity) throw new DataError(`barrier "${name}" needs a positive finite price`, { key: name, value: price });
  const { n, horizon, close } = paths;
  const side: BarrierStats['side'] = price > entryClose ? 'above' : price < entryClose ? 'below' : 'at';
  const above = side === 'above';
  const reach = above ? (paths.high ?? close) : (paths.low ?? close);
  const firstHits: number[] = [];
  let endBeyond = 0;
  for (let j = 0; j < n; j++) {
    const row = j * horizon;
    const last = close[row + horizon - 1];
    if (above ? last >= price : last <= price) endBeyond++;
    if (side === 'at') {
      firstHits.push(0);
      continue;
    }
    for (let h = 0; h < horizon; h++) {
      const x = reach[row + h];
      if (above ? x >= price : x <= price) {
        firstHits.push(h + 1);
        break;
      }
    }
  }
  const pHit = firstHits.length / n;
  firstHits.sort((a, b) => a - b);
  return {
    name,
    price,
    side,
    distance: price / entryClose - 1,
    pHit,
    pHitStdError: probStdError(pHit, n),
    pEndBeyond: endBeyond / n,
    medianFirstHitStep: firstHits.length === 0 ? null : quantileSorted(firstHits, 0.5),
  };
}

function checkLevels(levels: readonly number[], key: string, closed: boolean): number[] {
  for (const q of levels) {
    const ok = closed ? q >= 0 && q <= 1 : q > 0 && q < 1;
    if (!ok) throw new ConfigError(`${key} must be probability levels in ${closed ? '[0, 1]' : '(0, 1)'}`, { key, value: q });
  }
  return [...levels];
}

function distribution(values: Float64Array, levels: number[]): PathDistribution {
  let sum = 0;
  for (const v of values) sum += v;
  const sorted = values.slice().sort();
  return { mean: sum / values.length, levels, values: levels.map((q) => quantileSorted(sorted, q)) };
}

/**
 * Every statistic of N sampled paths against the entry close (see the module comment for
 * conventions). Paths should have passed `validatePricePaths`.
 *
 * @param paths - closes [N, H] (views are fine: nothing is copied) and optional highs/lows.
 * @param entryClose - the current bar's close.
 * @throws ConfigError for bad percentile or excursion levels; DataError for a bad entry
 *   close or barrier price.
 * @example
 * const s = pathStatistics({ close: Float64Array.of(101, 102, 99, 98), n: 2, horizon: 2 }, 100);
 * [s.pUp, s.expReturn, s.drawdown.values[2]] // [0.5, 0, 0.018]  (returns 0.02 and -0.02; 90th percentile of drawdowns [0, 0.02])
 */
export function pathStatistics(paths: PricePaths, entryClose: number, opts: PathStatsOptions = {}): PathStats {
  if (!(entryClose > 0) || entryClose === Infinity) throw new DataError('the entry close must be a positive finite price', { key: 'entryClose', value: entryClose });
  const percentiles = checkLevels(opts.percentiles ?? DEFAULT_PERCENTILES, 'percentiles', false);
  const excursionLevels = checkLevels(opts.excursionLevels ?? DEFAULT_EXCURSION_LEVELS, 'excursionLevels', true);
  const { n, horizon, close } = paths;
  const lows = paths.low ?? close;
  const highs = paths.high ?? close;
  const drawdowns = new Float64Array(n);
  const excursions = new Float64Array(n);
  const meanPath = new Float64Array(horizon);
  let up = 0;
  let down = 0;
  const returns = new Float64Array(n);
  let sumRet = 0;
  for (let j = 0; j < n; j++) {
    const row = j * horizon;
    let lo = Infinity;
    let hi = -Infinity;
    for (let h = 0; h < horizon; h++) {
      const l = lows[row + h];
      const u = highs[row + h];
      if (l < lo) lo = l;
      if (u > hi) hi = u;
      meanPath[h] += close[row + h];
    }
    const side = sideOf(close[row + horizon - 1], entryClose);
    if (side > 0) up++;
    else if (side < 0) down++;
    returns[j] = close[row + horizon - 1] / entryClose - 1;
    sumRet += returns[j];
    drawdowns[j] = Math.max(0, 1 - lo / entryClose);
    excursions[j] = Math.max(0, hi / entryClose - 1);
  }
  for (let h = 0; h < horizon; h++) meanPath[h] /= n;
  const pUp = up / n;
  const expReturn = sumRet / n;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (returns[j] - expReturn) ** 2;
  const variance = n > 1 ? ss / (n - 1) : 0;
  return {
    n,
    horizon,
    entryClose,
    extremesFrom: paths.high && paths.low ? 'highLow' : 'close',
    pUp,
    pDown: down / n,
    pFlat: (n - up - down) / n,
    pUpStdError: probStdError(pUp, n),
    expReturn,
    expReturnStdError: Math.sqrt(variance / n),
    bands: { levels: percentiles, values: stepPercentiles(close, n, horizon, percentiles) },
    meanPath,
    barriers: (opts.barriers ?? []).map((b) => barrierStats(paths, entryClose, b)),
    drawdown: distribution(drawdowns, excursionLevels),
    favourableExcursion: distribution(excursions, excursionLevels),
  };
}
