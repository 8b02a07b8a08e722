/**
 * Coverage of central prediction intervals at several nominal levels.
 */
import { ConfigError, DataError } from '../core/errors';
import { checkForecastRows, checkQuantileLevels } from './pit';
import { quantileSorted } from '../stats/order';
import { checkInteger, checkOpenUnit, type Numbers } from './validate';
import { wilsonInterval, Z95 } from './wilson';

/** Default nominal levels of {@link coverageFromSamples}. */
export const DEFAULT_COVERAGE_LEVELS: readonly number[] = [0.5, 0.8, 0.9, 0.95];

/** Coverage of one central interval. */
export interface CoverageRow {
  /** Nominal central probability c of the interval [Q((1 - c) / 2), Q((1 + c) / 2)]. */
  level: number;
  /** Realised values inside the interval (ends included). */
  inside: number;
  /** Forecasts. */
  n: number;
  /** inside / n; equals `level` for a calibrated forecast. */
  observed: number;
  /** Wilson 95% interval of `observed`. */
  ciLow: number;
  ciHigh: number;
}

function row(level: number, inside: number, n: number): CoverageRow {
  const [ciLow, ciHigh] = wilsonInterval(inside, n, Z95);
  return { level, inside, n, observed: inside / n, ciLow, ciHigh };
}

function checkLevels(levels: readonly number[]): void {
  if (levels.length === 0) throw new ConfigError('no coverage levels', { key: 'levels' });
  for (const c of levels) checkOpenUnit(c, 'levels');
}

/**
 * Central-interval coverage from samples: the interval of level c is bounded
 * by the empirical (1 - c)/2 and (1 + c)/2 quantiles of each forecast's samples
 * (linear interpolation, numpy's default), ends included.
 *
 * @param samples - row-major [n, nSamples]; finite.
 * @param nSamples - samples per forecast.
 * @param realized - realised value per forecast (n).
 * @param levels - nominal central probabilities; default 0.5, 0.8, 0.9, 0.95.
 * @throws DataError for non-finite values or a wrong samples length.
 * @throws ConfigError for levels outside (0, 1).
 * @example
 * coverageFromSamples([0, 1, 2, 3, 4], 5, [3.5], [0.5]); // [{ level: 0.5, inside: 0, n: 1, observed: 0, ... }] (interval [1, 3])
 */
export function coverageFromSamples(samples: Numbers, nSamples: number, realized: Numbers, levels: readonly number[] = DEFAULT_COVERAGE_LEVELS): CoverageRow[] {
  checkInteger(nSamples, 'nSamples', 1);
  checkLevels(levels);
  const n = realized.length;
  if (n === 0) throw new DataError('no forecasts', { column: 'realized' });
  checkForecastRows('samples', samples, nSamples, realized);
  const inside = new Float64Array(levels.length);
  const sorted = new Float64Array(nSamples);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nSamples; j++) sorted[j] = samples[i * nSamples + j];
    sorted.sort();
    const y = realized[i];
    for (let k = 0; k < levels.length; k++) {
      const c = levels[k];
      if (y >= quantileSorted(sorted, (1 - c) / 2) && y <= quantileSorted(sorted, (1 + c) / 2)) inside[k]++;
    }
  }
  return levels.map((c, k) => row(c, inside[k], n));
}

/**
 * Central-interval coverage from quantile forecasts. The interval of level c
 * uses the forecast quantiles at (1 - c)/2 and (1 + c)/2, which must both be
 * among the forecast's levels (to 1e-9); by default every central interval the
 * levels allow (for 0.1..0.9: 0.8, 0.6, 0.4, 0.2).
 *
 * @param quantileLevels - forecast levels, strictly increasing in (0, 1).
 * @param values - quantile forecasts, row-major [n, K], non-decreasing per row.
 * @param realized - realised value per forecast (n).
 * @param levels - nominal central probabilities; default all symmetric pairs of the levels.
 * @throws ConfigError for a level whose interval ends are not forecast levels.
 * @throws DataError for crossing or non-finite quantiles, or a wrong length.
 * @example
 * coverageFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2, 0, 1, 2], [1.5, 3]); // [{ level: 0.8, inside: 1, n: 2, observed: 0.5, ... }]
 */
export function coverageFromQuantiles(quantileLevels: Numbers, values: Numbers, realized: Numbers, levels?: readonly number[]): CoverageRow[] {
  checkQuantileLevels(quantileLevels);
  const K = quantileLevels.length;
  const n = realized.length;
  if (n === 0) throw new DataError('no forecasts', { column: 'realized' });
  checkForecastRows('quantiles', values, K, realized);
  const find = (tau: number): number => {
    for (let k = 0; k < K; k++) if (Math.abs(quantileLevels[k] - tau) <= 1e-9) return k;
    return -1;
  };
  const wanted = levels ?? symmetricLevels(quantileLevels);
  checkLevels(wanted);
  return wanted.map((c) => {
    const lo = find((1 - c) / 2);
    const hi = find((1 + c) / 2);
    if (lo < 0 || hi < 0) {
      throw new ConfigError(`central ${c} interval needs quantile levels ${(1 - c) / 2} and ${(1 + c) / 2}`, { key: 'levels', value: c });
    }
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const y = realized[i];
      if (y >= values[i * K + lo] && y <= values[i * K + hi]) inside++;
    }
    return row(c, inside, n);
  });
}

/** Central levels 1 - 2 tau for every level tau < 0.5 whose mirror 1 - tau is also a level, widest first. */
function symmetricLevels(quantileLevels: Numbers): number[] {
  const out: number[] = [];
  for (let k = 0; k < quantileLevels.length; k++) {
    const tau = quantileLevels[k];
    if (tau >= 0.5) break;
    for (let j = quantileLevels.length - 1; j > k; j--) {
      if (Math.abs(quantileLevels[j] - (1 - tau)) <= 1e-9) {
        // Rounded so that 1 - 2 * 0.1 prints as 0.8.
        out.push(Math.round((1 - 2 * tau) * 1e12) / 1e12);
        break;
      }
    }
  }
  if (out.length === 0) throw new ConfigError('the quantile levels contain no symmetric pair (tau, 1 - tau)', { key: 'levels' });
  return out;
}
