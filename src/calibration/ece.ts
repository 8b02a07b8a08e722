/**
 * Expected and maximum calibration error from a reliability table.
 */
import { reliabilityTable, type ReliabilityTable } from './reliability';
import { type InputNames, type Numbers } from './validate';

/**
 * Expected calibration error: count-weighted mean gap between observed
 * frequency and mean forecast over the bins.
 *
 * `ECE = sum_b (n_b / N) |observed_b - meanPredicted_b|`; empty bins weigh 0.
 * The value depends on the binning: with uniform bins it is the usual ECE, with
 * quantile bins the equal-mass ECE ({@link eceEqualMass}).
 *
 * @example
 * ece(reliabilityTable([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], { bins: 2 })); // 0.25 = 0.5 * |0.5 - 0.15| + 0.5 * |1 - 0.85|
 */
export function ece(table: ReliabilityTable): number {
  let s = 0;
  for (let b = 0; b < table.count.length; b++) {
    if (table.count[b] > 0) s += table.count[b] * Math.abs(table.observed[b] - table.meanPredicted[b]);
  }
  return s / table.n;
}

/**
 * Maximum calibration error: the largest `|observed_b - meanPredicted_b|` over
 * non-empty bins. Sensitive to sparse bins; read it with the bin counts.
 * @example
 * mce(reliabilityTable([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], { bins: 2 })); // 0.35
 */
export function mce(table: ReliabilityTable): number {
  let m = 0;
  for (let b = 0; b < table.count.length; b++) {
    if (table.count[b] > 0) m = Math.max(m, Math.abs(table.observed[b] - table.meanPredicted[b]));
  }
  return m;
}

/**
 * Equal-mass ECE: the ECE over `quantile` bins, so every bin holds about N / B
 * forecasts (Nixon et al. 2019 "adaptive calibration error"; Roelofs et al.
 * 2022 "ECE_em"). Less dominated by crowded bins than the uniform ECE; ties in
 * the forecasts can still make some bins empty.
 *
 * @param bins - number of bins; default 10.
 * @throws DataError for bad input or fewer points than bins.
 * @example
 * eceEqualMass([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], 2); // 0.25
 */
export function eceEqualMass(p: Numbers, y: Numbers, bins = 10, names?: InputNames): number {
  return ece(reliabilityTable(p, y, names === undefined ? { bins, strategy: 'quantile' } : { bins, strategy: 'quantile', names }));
}
