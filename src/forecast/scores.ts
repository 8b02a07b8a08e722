/**
 * The forecast scores of quantbook, each defined once and used by every scorer:
 * `quantbook eval` and the walk-forward accumulator (`evaluate.ts`), the leaderboard
 * (`compare.ts`) and the sampler search of the sweep notebook (`samplerSearch.ts`).
 *
 * - pct_return_mae: mean over forecasts of |predicted - realised| h-step simple return,
 *   both relative to the last observed close, at step h only ({@link pctReturnError}).
 * - CRPS: the ensemble CRPS of the paths at each step (`crpsSamples`, exact sorted form),
 *   pooled as a mean over every (forecast, step) pair ({@link meanCrps}).
 * - weighted CRPS: the same sum over the sum of |y| over those pairs ({@link weightedCrps}),
 *   on the scale of WQL and comparable across series.
 */
import { crpsSamples } from './metrics';
import type { Tensor3 } from './types';

/**
 * Simple return of `price` from `last`: `price / last - 1` (a fraction).
 * @example simpleReturn(101, 100) // 0.01 (to rounding)
 */
export function simpleReturn(price: number, last: number): number {
  return price / last - 1;
}

/**
 * The per-forecast term of pct_return_mae: |predicted - realised| simple return from the last
 * observed close, `|(point / last - 1) - (realized / last - 1)|`. (Equal to the last bit to
 * `|point / last - realized / last|` whenever both ratios lie in [0.5, 2]: subtracting 1 is then exact.)
 * @param point - the point forecast of the price at the scored step.
 * @param realized - the realised price at that step.
 * @param last - the last observed close of the window.
 * @example pctReturnError(102, 101, 100) // 0.01 (to rounding)
 */
export function pctReturnError(point: number, realized: number, last: number): number {
  return Math.abs(simpleReturn(point, last) - simpleReturn(realized, last));
}

/**
 * CRPS of the first `count` paths of forecast `row` at step `h` against the outcome `y`:
 * gathers them into `column[0..count)` and scores them with `crpsSamples`, which leaves
 * them sorted there (callers read aggregates or ranks of the step from it).
 * @param paths - sampled paths [forecasts, N, H], row-major.
 * @param column - scratch of at least `count` values.
 * @param count - paths used, the first ones (default all N).
 * @param fair - the fair CRPS (pair term over 2 M (M - 1)); default false.
 * @example stepCrps({ data: Float64Array.of(1, 3), dims: [1, 2, 1] }, 0, 0, 2, new Float64Array(2)) // 0.5
 */
export function stepCrps(paths: Tensor3, row: number, h: number, y: number, column: Float64Array, count = paths.dims[1], fair = false): number {
  const [, N, H] = paths.dims;
  const sorted = column.subarray(0, count);
  const base = row * N * H + h;
  for (let j = 0; j < count; j++) sorted[j] = paths.data[base + j * H];
  return crpsSamples(sorted, y, fair);
}

/**
 * Pooled CRPS: the sum of step CRPS over `n` (forecast, step) pairs divided by `n`; NaN for none.
 * @example meanCrps(3, 2) // 1.5
 */
export function meanCrps(crpsSum: number, n: number): number {
  return n > 0 ? crpsSum / n : NaN;
}

/**
 * Weighted CRPS: the sum of step CRPS over the sum of |y| of the scored pairs; NaN when
 * no pair had paths (`n` = 0).
 * @example weightedCrps(3, 2, 300) // 0.01
 */
export function weightedCrps(crpsSum: number, n: number, absY: number): number {
  return n > 0 ? crpsSum / absY : NaN;
}
