/**
 * Train / validation / test splits by time and walk-forward windows with
 * purging and embargo (López de Prado, Advances in Financial Machine Learning,
 * ch. 7). Everything is index-based (`[start, end)` ranges into time-sorted
 * bars), so the same windows apply to typed arrays and to frames.
 *
 * Purge: a training row i whose label looks `labelHorizon` bars ahead uses
 * information up to i + labelHorizon; it is dropped when [i, i + labelHorizon]
 * overlaps a test block. Embargo: training rows in the `embargo` bars right after
 * a test block are dropped too (their features may still carry the test period).
 */
import { ConfigError } from '../core/errors';

/** Half-open index range `[start, end)`. */
export interface IndexRange {
  start: number;
  end: number;
}

/** A train / validation / test split by time. */
export interface TimeSplit {
  train: IndexRange;
  validation: IndexRange;
  test: IndexRange;
}

/**
 * Splits `n` time-ordered rows into consecutive train / validation / test blocks by fraction,
 * purging `labelHorizon` rows at the end of train and of validation so no label reaches into the next block.
 * @throws ConfigError for fractions outside (0, 1) or summing above 1.
 * @example timeSplit(100, { train: 0.6, validation: 0.2 }) // train 0-60, validation 60-80, test 80-100
 * @example timeSplit(100, { train: 0.6, validation: 0.2, labelHorizon: 5 }) // train 0-55, validation 60-75, test 80-100
 */
export function timeSplit(n: number, opts: { train: number; validation: number; labelHorizon?: number }): TimeSplit {
  const { train, validation } = opts;
  const h = opts.labelHorizon ?? 0;
  if (!(train > 0) || !(validation >= 0) || train + validation >= 1) {
    throw new ConfigError('train and validation fractions must be positive and leave room for a test block', { value: { train, validation } });
  }
  const a = Math.floor(n * train);
  const b = Math.floor(n * (train + validation));
  return {
    train: { start: 0, end: Math.max(0, a - h) },
    validation: { start: a, end: Math.max(a, b - h) },
    test: { start: b, end: n },
  };
}

/** One walk-forward fold: training ranges (after purge and embargo) and the test block. */
export interface Fold {
  train: IndexRange[];
  test: IndexRange;
}

/**
 * Training ranges of `[0, n)` left after removing the test blocks, purging rows whose
 * `[i, i + labelHorizon]` interval overlaps a test block, and embargoing `embargo` rows after each block.
 * @example purgedTrainRanges(100, [{ start: 40, end: 60 }], 5, 3) // [{0, 35}, {63, 100}]
 */
export function purgedTrainRanges(n: number, tests: IndexRange[], labelHorizon = 0, embargo = 0): IndexRange[] {
  const removed = tests
    .map((t) => ({ start: Math.max(0, t.start - labelHorizon), end: Math.min(n, t.end + embargo) }))
    .sort((x, y) => x.start - y.start);
  const out: IndexRange[] = [];
  let cursor = 0;
  for (const r of removed) {
    if (r.start > cursor) out.push({ start: cursor, end: r.start });
    cursor = Math.max(cursor, r.end);
  }
  if (cursor < n) out.push({ start: cursor, end: n });
  return out;
}

/** Options of {@link walkForward}. */
export interface WalkForwardOptions {
  /** Rows in each test block. */
  testSize: number;
  /** Rows of training before the first test block (the minimum history). */
  trainSize: number;
  /** `'rolling'`: train on the last `trainSize` rows; `'expanding'`: on all rows before the test. Default rolling. */
  window?: 'rolling' | 'expanding';
  /** Rows the test block advances per fold; default `testSize` (non-overlapping tests). */
  step?: number;
  /** Bars a label looks ahead (purge); default 0. */
  labelHorizon?: number;
}

/**
 * Walk-forward folds over `n` time-ordered rows: train strictly before each test block,
 * with the last `labelHorizon` training rows purged (their labels reach into the test).
 * Embargo does not arise here because no training row comes after its test block; use
 * {@link purgedKFold} for that.
 * @throws ConfigError for non-positive sizes or too few rows for one fold.
 * @example walkForward(100, { trainSize: 50, testSize: 10, labelHorizon: 2 })[0] // train [{0, 48}], test {50, 60}
 */
export function walkForward(n: number, opts: WalkForwardOptions): Fold[] {
  const { trainSize, testSize } = opts;
  const step = opts.step ?? testSize;
  const h = opts.labelHorizon ?? 0;
  for (const [k, v] of Object.entries({ trainSize, testSize, step })) {
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError('must be a positive integer', { key: k, value: v });
  }
  if (trainSize + testSize > n) throw new ConfigError(`need at least trainSize + testSize = ${trainSize + testSize} rows, have ${n}`, { key: 'trainSize' });
  const folds: Fold[] = [];
  for (let start = trainSize; start + testSize <= n; start += step) {
    const trainStart = opts.window === 'expanding' ? 0 : start - trainSize;
    const trainEnd = start - h;
    folds.push({ train: trainEnd > trainStart ? [{ start: trainStart, end: trainEnd }] : [], test: { start, end: start + testSize } });
  }
  return folds;
}

/**
 * Purged k-fold cross-validation (López de Prado): `k` contiguous test blocks; each fold trains
 * on everything else minus purged rows before the block and `embargo` rows after it.
 * @throws ConfigError for k < 2 or more folds than rows.
 * @example purgedKFold(100, { k: 5, labelHorizon: 2, embargo: 1 })[1] // test {20, 40}, train [{0, 18}, {41, 100}]
 */
export function purgedKFold(n: number, opts: { k: number; labelHorizon?: number; embargo?: number }): Fold[] {
  const { k } = opts;
  if (!Number.isInteger(k) || k < 2 || k > n) throw new ConfigError('k must be an integer between 2 and the number of rows', { key: 'k', value: k });
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test = { start: Math.floor((f * n) / k), end: Math.floor(((f + 1) * n) / k) };
    folds.push({ train: purgedTrainRanges(n, [test], opts.labelHorizon ?? 0, opts.embargo ?? 0), test });
  }
  return folds;
}

/**
 * Expands ranges into a sorted Int32Array of row indices (for gathering from typed arrays).
 * @example rangesToIndices([{ start: 0, end: 2 }, { start: 5, end: 6 }]) // Int32Array [0, 1, 5]
 */
export function rangesToIndices(ranges: IndexRange[]): Int32Array {
  const out = new Int32Array(ranges.reduce((s, r) => s + Math.max(0, r.end - r.start), 0));
  let k = 0;
  for (const r of ranges) for (let i = r.start; i < r.end; i++) out[k++] = i;
  return out;
}
