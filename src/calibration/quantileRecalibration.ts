/**
 * Quantile recalibration (Kuleshov, Fenner and Ermon 2018): an isotonic map
 * from nominal levels to observed coverage, learnt from PIT values, that makes
 * a miscalibrated forecast distribution calibrated.
 */
import { DataError } from '../core/errors';
import { fitIsotonic, predictIsotonic, type IsotonicModel } from './isotonic';
import { lowerBound } from '../stats/order';
import { type Numbers } from './validate';

/** A fitted quantile recalibration: R(tau) = observed share of PIT <= tau. */
export interface QuantileRecalibration {
  kind: 'quantileRecalibration';
  /** Isotonic map from nominal level to observed frequency, through (0, 0) and (1, 1). */
  map: IsotonicModel;
  /** PIT values it was fitted on. */
  n: number;
}

/**
 * Fits the recalibration map R from PIT values of past forecasts.
 *
 * `R(tau) = #{u_i <= tau} / n`, fitted by isotonic regression of the empirical
 * CDF at each PIT value on the value (with the anchors (0, 0) and (1, 1)), so
 * that R is monotone and piecewise linear. If the forecasts were calibrated R
 * is the identity; `R(0.9) = 0.97` says the nominal 0.9 quantile is exceeded
 * only 3% of the time. Fit on past forecasts, apply to later ones.
 *
 * @param pit - PIT values in [0, 1] (from {@link pitFromSamples} or {@link pitFromQuantiles}).
 * @throws DataError for values outside [0, 1], NaN, or no values.
 * @example
 * const r = fitQuantileRecalibration([0.1, 0.2, 0.3, 0.4]); // PIT piled low: forecasts too high
 * recalibratePit(r, [0.4]); // Float64Array [1]: the nominal 0.4 quantile already covers everything
 */
export function fitQuantileRecalibration(pit: Numbers): QuantileRecalibration {
  const n = pit.length;
  if (n === 0) throw new DataError('no PIT values', { column: 'pit' });
  for (let i = 0; i < n; i++) {
    const u = pit[i];
    if (!(u >= 0 && u <= 1)) throw new DataError('PIT value must be in [0, 1]', { column: 'pit', row: i, value: u });
  }
  const sorted = Float64Array.from(pit).sort();
  // Points (u_(i), ecdf(u_(i))) with ties given the ecdf at their last copy, plus anchors.
  const x = new Float64Array(n + 2);
  const y = new Float64Array(n + 2);
  x[0] = 0;
  y[0] = 0;
  for (let i = 0; i < n; i++) {
    let last = i;
    while (last + 1 < n && sorted[last + 1] === sorted[i]) last++;
    x[i + 1] = sorted[i];
    y[i + 1] = (last + 1) / n;
  }
  x[n + 1] = 1;
  y[n + 1] = 1;
  return { kind: 'quantileRecalibration', map: fitIsotonic(x, y, { yMin: 0, yMax: 1 }), n };
}

/**
 * Recalibrated PIT values `R(u)`: uniform on later data if the
 * miscalibration persists.
 * @example
 * recalibratePit(fitQuantileRecalibration([0.25, 0.75]), [0.5]); // Float64Array [0.75]
 */
export function recalibratePit(recalibration: QuantileRecalibration, pit: Numbers): Float64Array {
  return predictIsotonic(recalibration.map, pit);
}

/**
 * The nominal level to ask the original forecast for so that the observed
 * coverage is `tau`: `R^{-1}(tau)`, the smallest level whose mapped value
 * reaches tau (linear between knots). A recalibrated tau-quantile is the
 * original forecast's quantile at this level. With M samples per forecast,
 * levels below about 1/M or above 1 - 1/M are not resolved: a forecast far too
 * narrow needs more samples before its tails can be recalibrated.
 * @throws DataError for tau outside [0, 1].
 * @example
 * recalibratedLevel(fitQuantileRecalibration([0.1, 0.2, 0.3, 0.4]), 0.5); // 0.2
 */
export function recalibratedLevel(recalibration: QuantileRecalibration, tau: number): number {
  if (!(tau >= 0 && tau <= 1)) throw new DataError('level must be in [0, 1]', { key: 'tau', value: tau });
  const { x, y } = recalibration.map;
  const j = lowerBound(y, tau);
  if (j === 0) return x[0];
  if (j >= y.length) return x[x.length - 1];
  if (y[j] === tau) return x[j];
  return x[j - 1] + ((tau - y[j - 1]) / (y[j] - y[j - 1])) * (x[j] - x[j - 1]);
}
