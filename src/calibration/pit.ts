/**
 * Probability integral transform (PIT) of realised values under a forecast
 * distribution given by samples or by quantiles, and the PIT histogram.
 */
import { ConfigError, DataError } from '../core/errors';
import { Rng } from '../core/random';
import { binner, uniformEdges } from './bins';
import { checkFinite, checkInteger, type Numbers } from './validate';

/**
 * How ties and the discreteness of M samples are handled.
 * - `fraction`: `u = #{x_j <= y} / M`, the textbook definition; takes only the
 *   M + 1 values 0, 1/M, ..., 1.
 * - `randomized`: `u = (#{x_j < y} + V (#{x_j = y} + 1)) / (M + 1)`,
 *   V ~ U(0, 1) seeded: exactly uniform under a calibrated forecast even with
 *   few samples or ties (flat bars), at the price of noise.
 */
export type PitMethod = { kind: 'fraction' } | { kind: 'randomized'; seed: number };

/**
 * PIT of each realised value among its forecast's samples.
 *
 * `samples` is row-major [forecasts, nSamples]: forecast i owns
 * `samples[i * nSamples .. (i + 1) * nSamples)`. Under a calibrated forecast the
 * PIT values are uniform on [0, 1]; a U shape means too narrow forecasts, a
 * hump too wide ones, a slope bias. A uniform PIT does not by itself make a
 * derived P(up) calibrated: check both.
 *
 * @param samples - forecast samples, row-major [n, nSamples]; finite.
 * @param nSamples - samples per forecast (M >= 1).
 * @param realized - realised value per forecast (n); finite.
 * @param method - `fraction` (default) or `randomized` with a seed.
 * @throws DataError for non-finite samples or values, or a samples length that is not n * nSamples.
 * @example
 * pitFromSamples([1, 2, 3, 4, 10, 20, 30, 40], 4, [2.5, 5]); // Float64Array [0.5, 0]
 */
export function pitFromSamples(samples: Numbers, nSamples: number, realized: Numbers, method: PitMethod = { kind: 'fraction' }): Float64Array {
  checkInteger(nSamples, 'nSamples', 1);
  const n = realized.length;
  checkForecastRows('samples', samples, nSamples, realized);
  if (method.kind !== 'fraction' && method.kind !== 'randomized') {
    throw new ConfigError("PIT method must be { kind: 'fraction' } or { kind: 'randomized', seed }", { key: 'method', value: method });
  }
  const rng = method.kind === 'randomized' ? new Rng(method.seed) : undefined;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = realized[i];
    let below = 0;
    let equal = 0;
    const base = i * nSamples;
    for (let j = 0; j < nSamples; j++) {
      const x = samples[base + j];
      if (x < y) below++;
      else if (x === y) equal++;
    }
    out[i] = rng === undefined ? (below + equal) / nSamples : (below + rng.uniform() * (equal + 1)) / (nSamples + 1);
  }
  return out;
}

/**
 * Checks that every sample is finite, naming the forecast row of the first bad one.
 * @throws DataError with the forecast's row.
 */
export function checkSampleRows(samples: Numbers, nSamples: number): void {
  for (let k = 0; k < samples.length; k++) {
    const v = samples[k];
    if (!Number.isFinite(v)) {
      throw new DataError(`sample ${k % nSamples} of the forecast is not finite`, { column: 'samples', row: Math.floor(k / nSamples), value: v });
    }
  }
}

/**
 * Checks forecasts of `width` values each (samples, or quantiles at `width` levels),
 * row-major, against their realised values: `n * width` values for n realised values,
 * every realised value finite, every row finite ({@link checkSampleRows}) or finite and
 * non-decreasing ({@link checkQuantileRows}). The shared input check of PIT and coverage.
 * @throws DataError for a wrong length (column `samples` or `quantiles`), or naming the row of the first bad value.
 * @example checkForecastRows('samples', [1, 2, 3], 2, [0, 0]); // throws: samples has 3 values, expected 2 forecasts x 2 samples = 4
 */
export function checkForecastRows(kind: 'samples' | 'quantiles', values: Numbers, width: number, realized: Numbers): void {
  const n = realized.length;
  if (values.length !== n * width) {
    throw new DataError(`${kind} has ${values.length} values, expected ${n} forecasts x ${width} ${kind === 'samples' ? 'samples' : 'levels'} = ${n * width}`, { column: kind });
  }
  checkFinite(realized, 'realized');
  if (kind === 'samples') checkSampleRows(values, width);
  else checkQuantileRows(values, width);
}

/**
 * Checks quantile levels: strictly increasing inside (0, 1).
 * @throws ConfigError naming the first bad level.
 */
export function checkQuantileLevels(levels: Numbers): void {
  if (levels.length === 0) throw new ConfigError('no quantile levels', { key: 'levels' });
  for (let k = 0; k < levels.length; k++) {
    const l = levels[k];
    if (!(l > 0 && l < 1)) throw new ConfigError('quantile level must be in (0, 1)', { key: 'levels', value: l });
    if (k > 0 && !(l > levels[k - 1])) throw new ConfigError('quantile levels must be strictly increasing', { key: 'levels', value: l });
  }
}

/**
 * Checks quantile forecasts, row-major [n, K]: finite and non-decreasing in
 * each row. Crossing quantiles are an error, not silently sorted.
 * @throws DataError naming the forecast row.
 */
export function checkQuantileRows(values: Numbers, nLevels: number): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    const row = Math.floor(k / nLevels);
    if (!Number.isFinite(v)) throw new DataError('quantile forecast is not finite', { column: 'quantiles', row, value: v });
    if (k % nLevels > 0 && v < values[k - 1]) {
      throw new DataError(`quantiles cross: level ${k % nLevels} is below level ${(k % nLevels) - 1}`, { column: 'quantiles', row, value: v });
    }
  }
}

/**
 * PIT of each realised value under a forecast given by quantiles.
 *
 * The forecast CDF is taken piecewise linear through the points
 * `(q_k, tau_k)`. Where the realised value equals one or more tied quantiles
 * the CDF jumps; the PIT is the middle of the jump. Below the lowest quantile
 * the tail is unresolved and the PIT is `tau_1 / 2`; above the highest,
 * `(1 + tau_K) / 2`: the middle of the tail mass, so a PIT histogram whose bin
 * edges include the levels (e.g. 10 bins for levels 0.1..0.9) is exact.
 *
 * @param levels - quantile levels tau_1 < ... < tau_K in (0, 1).
 * @param values - quantile forecasts, row-major [n, K], non-decreasing per row.
 * @param realized - realised value per forecast (n).
 * @throws ConfigError for bad levels.
 * @throws DataError for non-finite or crossing quantiles, non-finite realised values, or a wrong length.
 * @example
 * pitFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2], [1.5]); // Float64Array [0.7]
 */
export function pitFromQuantiles(levels: Numbers, values: Numbers, realized: Numbers): Float64Array {
  checkQuantileLevels(levels);
  const nLevels = levels.length;
  const n = realized.length;
  checkForecastRows('quantiles', values, nLevels, realized);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = realized[i];
    const base = i * nLevels;
    let below = 0; // quantiles < y
    let atOrBelow = 0; // quantiles <= y
    for (let k = 0; k < nLevels; k++) {
      const q = values[base + k];
      if (q < y) below++;
      if (q <= y) atOrBelow++;
    }
    if (atOrBelow > below) {
      // y sits on tied quantiles at levels below..atOrBelow-1.
      out[i] = (levels[below] + levels[atOrBelow - 1]) / 2;
    } else if (below === 0) {
      out[i] = levels[0] / 2;
    } else if (below === nLevels) {
      out[i] = (1 + levels[nLevels - 1]) / 2;
    } else {
      const q0 = values[base + below - 1];
      const q1 = values[base + below];
      const t0 = levels[below - 1];
      out[i] = t0 + ((y - q0) / (q1 - q0)) * (levels[below] - t0);
    }
  }
  return out;
}

/** Histogram of PIT values against the uniform density. */
export interface PitHistogram {
  /** Uniform edges on [0, 1]; bins are right-closed like the reliability bins. */
  edges: Float64Array;
  /** PIT values per bin. */
  counts: Float64Array;
  /** counts / (n * width): 1 everywhere for a calibrated forecast. */
  density: Float64Array;
  /** Number of PIT values. */
  n: number;
}

/**
 * Histogram of PIT values on uniform bins of [0, 1].
 *
 * With `fraction` PIT from M samples the values are multiples of 1/M; unless
 * the bin count divides M the bins hold unequal numbers of possible values
 * (bin 0 also holds u = 0), so use `randomized` PIT for small M.
 *
 * @param pit - PIT values in [0, 1].
 * @param bins - number of bins; default 10.
 * @throws DataError for a value outside [0, 1] or NaN, or no values.
 * @example
 * pitHistogram([0.05, 0.5, 0.55, 0.95], 2).counts; // Float64Array [2, 2]
 */
export function pitHistogram(pit: Numbers, bins = 10): PitHistogram {
  checkInteger(bins, 'bins', 1);
  const n = pit.length;
  if (n === 0) throw new DataError('no PIT values', { column: 'pit' });
  const edges = uniformEdges(bins);
  const counts = new Float64Array(bins);
  const binOf = binner(edges);
  for (let i = 0; i < n; i++) {
    const u = pit[i];
    if (!(u >= 0 && u <= 1)) throw new DataError('PIT value must be in [0, 1]', { column: 'pit', row: i, value: u });
    counts[binOf(u)]++;
  }
  const density = new Float64Array(bins);
  for (let b = 0; b < bins; b++) density[b] = (counts[b] / n) * bins;
  return { edges, counts, density, n };
}
