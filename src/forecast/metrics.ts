/**
 * Forecast scores (definitions in docs REFERENCES.md): quantile loss, CRPS from
 * samples in the exact sorted form, percentiles of latencies. Kernels on typed arrays.
 */
import { quantileSorted } from '../stats/order';

/**
 * Quantile loss at level q: QL_q = 2 |(y - yhat) (1{yhat >= y} - q)| (GluonTS / Chronos convention).
 * @example quantileLoss(10, 12, 0.9) // 2 * |(10 - 12) * (1 - 0.9)| = 0.4
 */
export function quantileLoss(y: number, yhat: number, q: number): number {
  return 2 * Math.abs((y - yhat) * ((yhat >= y ? 1 : 0) - q));
}

/**
 * CRPS of an ensemble: mean|x_i - y| - (1 / (2 M^2)) sum_i sum_j |x_i - x_j|, the pair sum
 * taken in O(M log M) as 2 sum_i (2i - M - 1) x_(i) over sorted samples (i = 1..M).
 * `fair: true` divides the pair term by 2 M (M - 1) instead (unbiased for finite M).
 * Sorts `samples` in place.
 * @example crpsSamples(new Float64Array([1, 3]), 2) // 1 - (1 / 8) * 4 = 0.5
 */
export function crpsSamples(samples: Float64Array, y: number, fair = false): number {
  const m = samples.length;
  samples.sort();
  let abs = 0;
  let pair = 0;
  for (let i = 0; i < m; i++) {
    abs += Math.abs(samples[i] - y);
    pair += (2 * (i + 1) - m - 1) * samples[i];
  }
  pair *= 2;
  return abs / m - pair / (fair ? 2 * m * (m - 1) : 2 * m * m);
}

/**
 * Percentile of values (type 7 interpolation), p in [0, 100].
 * @example percentile([1, 2, 3, 4], 50) // 2.5
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return quantileSorted(sorted, p / 100);
}

/**
 * In-sample scale of MASE: mean |y_t - y_{t-m}| over observed pairs of the window (m = 1 for bars).
 * @example maseScale(new Float64Array([1, 2, 4])) // 1.5
 */
export function maseScale(window: Float64Array, m = 1): number {
  let sum = 0;
  let n = 0;
  for (let i = m; i < window.length; i++) {
    const d = window[i] - window[i - m];
    if (Number.isFinite(d)) {
      sum += Math.abs(d);
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}
