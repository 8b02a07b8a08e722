/**
 * Boundary checks shared by the calibration kernels: probabilities in [0, 1],
 * outcomes in {0, 1}, equal lengths, enough points for the bins. Each failure
 * is a typed error that names the column, the 0-based row and the value.
 */
import { ConfigError, DataError, type ErrorLocation } from '../core/errors';

/** Numbers as the kernels accept them: typed arrays or plain arrays. */
export type Numbers = Float64Array | Float32Array | ArrayLike<number>;

/** Names used in error messages; the CLI passes the file and real column names. */
export interface InputNames {
  /** File the values came from (errors name it). */
  file?: string;
  /** Name of the probability column (default `"p"`). */
  prob?: string;
  /** Name of the outcome column (default `"outcome"`). */
  outcome?: string;
}

function where(names: InputNames | undefined, column: string, row: number, value: unknown): ErrorLocation {
  const loc: ErrorLocation = { column, row, value };
  if (names?.file !== undefined) loc.file = names.file;
  return loc;
}

/** A Float64Array view of `a`: `a` itself when it already is one, else a copy. */
export function toFloat64(a: Numbers): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a as ArrayLike<number>);
}

/**
 * Checks that every value is a finite probability in [0, 1].
 * @throws DataError naming the row and value of the first bad entry.
 */
export function checkProbabilities(p: Numbers, names?: InputNames): void {
  const column = names?.prob ?? 'p';
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    // `!(v >= 0 && v <= 1)` is also true for NaN.
    if (!(v >= 0 && v <= 1)) {
      const problem = Number.isNaN(v) ? 'probability is NaN' : 'probability must be in [0, 1]';
      throw new DataError(problem, where(names, column, i, v));
    }
  }
}

/**
 * Checks that every outcome is exactly 0 or 1.
 * @throws DataError naming the row and value of the first bad entry.
 */
export function checkOutcomes(y: Numbers, names?: InputNames): void {
  const column = names?.outcome ?? 'outcome';
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new DataError('outcome must be 0 or 1', where(names, column, i, v));
  }
}

/**
 * Checks that two arrays have the same length.
 * @throws DataError `lengths differ: p has 10 values, outcome has 9`.
 */
export function checkSameLength(a: { length: number }, b: { length: number }, nameA: string, nameB: string, file?: string): void {
  if (a.length !== b.length) {
    throw new DataError(`lengths differ: ${nameA} has ${a.length} values, ${nameB} has ${b.length}`, file === undefined ? {} : { file });
  }
}

/**
 * Checks a bin count: an integer >= 1, and no more bins than points.
 * @throws ConfigError when `nBins` is not an integer >= 1.
 * @throws DataError when there are fewer points than bins.
 */
export function checkBins(nBins: number, nPoints: number, file?: string): void {
  if (!Number.isInteger(nBins) || nBins < 1) throw new ConfigError('number of bins must be an integer >= 1', { key: 'bins', value: nBins });
  if (nPoints < nBins) {
    throw new DataError(`fewer points (${nPoints}) than bins (${nBins})`, file === undefined ? { key: 'bins' } : { file, key: 'bins' });
  }
}

/**
 * Full check of binary-forecast input: equal lengths, probabilities in [0, 1],
 * outcomes in {0, 1}, at least one point.
 * @throws DataError on the first problem found.
 */
export function checkBinaryForecasts(p: Numbers, y: Numbers, names?: InputNames): void {
  checkSameLength(p, y, names?.prob ?? 'p', names?.outcome ?? 'outcome', names?.file);
  if (p.length === 0) throw new DataError('no forecasts: empty input', names?.file === undefined ? {} : { file: names.file });
  // Typed inputs: one pass with no branch on random outcomes; the checks below name the bad row.
  if (p instanceof Float64Array && y instanceof Float64Array && validForecasts(p, y)) return;
  checkProbabilities(p, names);
  checkOutcomes(y, names);
}

/**
 * True when every p is in [0, 1] and every y is 0 or 1: `|y (y - 1)|` is 0
 * only for those (NaN for NaN), and no term is negative, so the sum is 0 only
 * when every outcome is.
 */
function validForecasts(p: Float64Array, y: Float64Array): boolean {
  let outside = 0;
  let nonBinary = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    const b = y[i];
    if (!(v >= 0 && v <= 1)) outside++;
    nonBinary += Math.abs(b * (b - 1));
  }
  return outside === 0 && nonBinary === 0;
}

/**
 * Checks that every value is finite (no NaN, no infinity).
 * @throws DataError naming the row and value of the first bad entry.
 */
export function checkFinite(a: Numbers, column: string, file?: string): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) {
      throw new DataError(Number.isNaN(v) ? `${column} is NaN` : `${column} must be finite`, where({ file }, column, i, v));
    }
  }
}

/**
 * Checks a probability-like option in the open interval (0, 1).
 * @throws ConfigError naming the option.
 */
export function checkOpenUnit(v: number, key: string): void {
  if (!(v > 0 && v < 1)) throw new ConfigError(`${key} must be in (0, 1)`, { key, value: v });
}

/**
 * Checks a count option: an integer >= `min`.
 * @throws ConfigError naming the option.
 */
export function checkInteger(v: number, key: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${key} must be an integer >= ${min}`, { key, value: v });
}
