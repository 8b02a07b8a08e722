/**
 * Isotonic regression by pool-adjacent-violators (PAV), with sample weights,
 * pooled ties, optional bounds, and a piecewise-linear predict.
 */
import { ConfigError, DataError } from '../core/errors';
import { radixSortFloat64, upperBound } from '../stats/order';
import { checkFinite, checkSameLength, toFloat64, type Numbers } from './validate';

/** What predict returns outside the fitted x range. */
export type OutOfBounds = 'clip' | 'nan';

/** Options of {@link fitIsotonic}. */
export interface IsotonicOptions {
  /** Non-negative sample weights; default all 1. Zero-weight points are left out of the fit. */
  weights?: Numbers;
  /** Fit a non-decreasing (true, default) or non-increasing (false) function. */
  increasing?: boolean;
  /** Lower bound of the fitted values (fit clipped from below). */
  yMin?: number;
  /** Upper bound of the fitted values (fit clipped from above). */
  yMax?: number;
  /** Predict outside [xMin, xMax]: `clip` to the end values (default) or `nan`. */
  outOfBounds?: OutOfBounds;
}

/**
 * A fitted isotonic regression: the knots of a piecewise-linear monotone
 * function. Only the ends of each constant block are kept (as scikit-learn
 * does), which changes no prediction.
 */
export interface IsotonicModel {
  kind: 'isotonic';
  /** Knot positions, strictly increasing. */
  x: Float64Array;
  /** Fitted values at the knots, monotone in the fitted direction. */
  y: Float64Array;
  /** Direction of the fit. */
  increasing: boolean;
  /** Behaviour outside [x[0], x[last]]. */
  outOfBounds: OutOfBounds;
  /** Points that entered the fit (positive weight). */
  nPoints: number;
  /** Distinct x values among them (ties pooled). */
  nUnique: number;
}

/**
 * Weighted isotonic regression of `y` on `x` by pool-adjacent-violators.
 *
 * Minimises `sum_i w_i (y_i - f(x_i))^2` over monotone `f` (Barlow et al. 1972;
 * Best and Chakravarti 1990). Points with equal x are pooled first (weighted
 * mean of y, summed weight), so tied x get one fitted value; then adjacent
 * blocks that violate monotonicity are merged into their weighted mean, O(n)
 * with a stack. Bounds clip the fitted values, which keeps the clipped fit
 * optimal among bounded monotone fits. No sort takes a comparator callback:
 * for unweighted 0/1 outcomes (recalibration) the x of each class are bucket
 * sorted in two levels and merged into runs of one class; otherwise a radix
 * argsort on the float bits orders x. Block means are sums over weights, so
 * for 0/1 outcomes they are exact ratios of counts. A million 0/1 points fit
 * in about 50 ms on a 2-core Xeon.
 *
 * Ties are exact equality (`===`); scikit-learn 1.2 also merges x values closer
 * than 1e-15, which only matters for values that differ in the last bits.
 *
 * @param x - predictor (for recalibration: raw probabilities or scores); finite.
 * @param y - targets (for recalibration: outcomes 0/1); finite.
 * @param options - weights, increasing (true), yMin, yMax, outOfBounds (`clip`).
 * @throws DataError for non-finite x, y or weights, negative weights, different lengths, or no point with positive weight.
 * @throws ConfigError when yMin > yMax.
 * @example
 * const m = fitIsotonic([1, 2, 3, 4], [1, 3, 2, 4]);
 * m.x; // Float64Array [1, 2, 3, 4]
 * m.y; // Float64Array [1, 2.5, 2.5, 4]
 * predictIsotonic(m, [2.5, 10]); // Float64Array [2.5, 4]
 */
export function fitIsotonic(x: Numbers, y: Numbers, options: IsotonicOptions = {}): IsotonicModel {
  const increasing = options.increasing ?? true;
  const outOfBounds = options.outOfBounds ?? 'clip';
  if (outOfBounds !== 'clip' && outOfBounds !== 'nan') {
    throw new ConfigError("outOfBounds must be 'clip' or 'nan'", { key: 'outOfBounds', value: outOfBounds });
  }
  const yMin = options.yMin ?? -Infinity;
  const yMax = options.yMax ?? Infinity;
  if (!(yMin <= yMax)) throw new ConfigError('yMin must not exceed yMax', { key: 'yMin', value: yMin });
  checkSameLength(x, y, 'x', 'y');
  // Typed inputs (the usual case) are checked in one pass that also says whether y is 0/1 and
  // finds the range of x; any other input, or a non-finite value, goes through checkFinite,
  // which names the bad row.
  const scan = x instanceof Float64Array && y instanceof Float64Array ? scanInputs(x, y) : undefined;
  if (scan === undefined) {
    checkFinite(x, 'x');
    checkFinite(y, 'y');
  }
  const xf = toFloat64(x);
  const yf = toFloat64(y);
  const w = options.weights === undefined ? undefined : toFloat64(options.weights);
  if (w !== undefined) {
    checkSameLength(x, w, 'x', 'weights');
    checkFinite(w, 'weights');
    for (let i = 0; i < w.length; i++) {
      if (w[i] < 0) throw new DataError('weight must be >= 0', { column: 'weights', row: i, value: w[i] });
    }
  }

  // A non-increasing fit in x is a non-decreasing fit of -y.
  const sign = increasing ? 1 : -1;
  const stack = new PavStack(xf.length, sign);
  let nPoints: number;
  // Unweighted 0/1 outcomes take poolBinary. Plain arrays were checked finite above: their copies' scan always answers.
  const info = w === undefined ? (scan ?? (scanInputs(xf, yf) as Scan)) : undefined;
  if (info !== undefined && info.binary) {
    nPoints = poolBinary(xf, yf, info, stack);
  } else {
    nPoints = poolTies(xf, yf, w, stack);
  }
  if (stack.distinct === 0) throw new DataError('isotonic fit needs at least one point with positive weight');
  const { kx, ky } = stack.knots(yMin, yMax);
  return { kind: 'isotonic', x: kx, y: ky, increasing, outOfBounds, nPoints, nUnique: stack.distinct };
}

/**
 * Weighted pool-adjacent-violators over runs of distinct x arriving in
 * increasing order: a stack of blocks (weighted target sum, weight, mean,
 * first and last x); a new run merges backwards while the block before it has
 * a larger mean. Pooled points stream in, so no per-point arrays are kept.
 *
 * Blocks keep sums, and a mean is always the sum divided by the weight: for
 * unweighted 0/1 outcomes both are whole numbers, so every mean is the
 * correctly rounded ratio whatever order the blocks merged in, and equal
 * ratios give equal values (one knot pair, not one per rounding).
 *
 * A run may hold several distinct x with the same target value: adjacent
 * points with equal targets always end in the same block (a block's last
 * point is at most its mean, the next block's first at least its mean, and
 * the means increase), so pushing them as one block changes no fitted value.
 */
class PavStack {
  private sum: Float64Array;
  private weight: Float64Array;
  private mean: Float64Array;
  private firstX: Float64Array;
  private lastX: Float64Array;
  private top = -1;
  /** Distinct x pooled so far (counted by the callers of {@link push}). */
  distinct = 0;

  /**
   * @param capacity - most blocks ever needed (the number of pushes); the arrays start small and
   *   double, since merging keeps the stack short on most data.
   * @param sign - 1 for a non-decreasing fit, -1 for non-increasing (values are negated in and out).
   */
  constructor(
    private readonly capacity: number,
    private readonly sign: number,
  ) {
    const size = Math.min(capacity, 4096);
    this.sum = new Float64Array(size);
    this.weight = new Float64Array(size);
    this.mean = new Float64Array(size);
    this.firstX = new Float64Array(size);
    this.lastX = new Float64Array(size);
  }

  private grow(): void {
    const size = Math.min(this.capacity, 2 * this.sum.length);
    const bigger = (a: Float64Array): Float64Array => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.sum = bigger(this.sum);
    this.weight = bigger(this.weight);
    this.mean = bigger(this.mean);
    this.firstX = bigger(this.firstX);
    this.lastX = bigger(this.lastX);
  }

  /** Adds the run of x in [first, last] with weighted target sum `sumWY` and total weight `w`. */
  push(first: number, last: number, sumWY: number, w: number): void {
    if (this.top + 1 === this.sum.length) this.grow();
    const { sum, weight, mean } = this;
    let top = ++this.top;
    const s = this.sign * sumWY;
    sum[top] = s;
    weight[top] = w;
    mean[top] = s / w;
    this.firstX[top] = first;
    this.lastX[top] = last;
    while (top > 0 && mean[top - 1] > mean[top]) {
      const sSum = sum[top - 1] + sum[top];
      const wSum = weight[top - 1] + weight[top];
      sum[top - 1] = sSum;
      weight[top - 1] = wSum;
      mean[top - 1] = sSum / wSum;
      this.lastX[top - 1] = this.lastX[top];
      top--;
    }
    this.top = top;
  }

  /**
   * Knots of the fit, block values clipped to [yMin, yMax]: for each run of
   * equal values (clipping, or runs pushed apart, can join blocks) its first
   * and last x, exactly the points scikit-learn keeps (first, last, and any
   * point whose value differs from a neighbour's).
   */
  knots(yMin: number, yMax: number): { kx: Float64Array; ky: Float64Array } {
    const count = this.top + 1;
    const value = (b: number): number => Math.min(yMax, Math.max(yMin, this.sign * this.mean[b]));
    const kx = new Float64Array(2 * count);
    const ky = new Float64Array(2 * count);
    let k = 0;
    let b = 0;
    while (b < count) {
      const v = value(b);
      const first = this.firstX[b];
      while (b + 1 < count && value(b + 1) === v) b++;
      const last = this.lastX[b];
      kx[k] = first;
      ky[k++] = v;
      if (last !== first) {
        kx[k] = last;
        ky[k++] = v;
      }
      b++;
    }
    return { kx: kx.slice(0, k), ky: ky.slice(0, k) };
  }
}

/** What {@link scanInputs} found: y all 0/1, and the range of x. */
interface Scan {
  binary: boolean;
  min: number;
  max: number;
}

/**
 * One pass over finite-checked or typed x and y: undefined when any value is
 * NaN or infinite (`v - v` is 0 only for finite v, NaN otherwise, and NaN
 * sticks in the sum), else whether every y is 0 or 1 (`|y (y - 1)|` sums to 0
 * only then; no term is negative, so none cancels) and the range of x. No
 * branch depends on the data, which matters for random 0/1 outcomes.
 */
function scanInputs(x: Float64Array, y: Float64Array): Scan | undefined {
  let nonFinite = 0;
  let nonBinary = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    nonFinite += a - a + (b - b);
    nonBinary += Math.abs(b * (b - 1));
    if (a < min) min = a;
    if (a > max) max = a;
  }
  if (nonFinite !== 0) return undefined;
  return { binary: nonBinary === 0, min, max };
}

/** Below this many points the classes are sorted whole and merged. */
const SMALL_POOL = 4096;
/** Most buckets of the first pass of {@link poolBinary} (both classes' counts: 32 KB, in L1). */
const MAX_BUCKETS = 4096;
/** Ranges up to this size are sorted by insertion. */
const INSERTION_MAX = 16;
/** Ranges above this size (clustered x) go to the native sort. */
const SUB_BUCKET_MAX = 2048;

/**
 * Pooling for unweighted 0/1 outcomes, the recalibration case: a two-level
 * bucket sort by x that keeps the classes apart. One pass counts points per
 * (bucket, class) on an equal-width grid of a few thousand buckets over the
 * range of x (the bucket index is monotone in x, so equal x share a bucket and
 * bucket order is value order; the counts stay in L1); one scatters x so that
 * each bucket holds its non-events then its events. Each class of each bucket
 * (a hundred-odd values, in cache) is sorted by {@link sortRange}, and the two
 * are merged into runs of one class. No comparator callback and no argsort.
 * @returns the number of points used.
 */
function poolBinary(x: Float64Array, y: Float64Array, range: Scan, stack: PavStack): number {
  const n = x.length;
  const { min, max } = range;
  if (n < SMALL_POOL || !(max > min) || !Number.isFinite(max - min)) {
    splitAndMerge(x, y, stack);
    return n;
  }
  const nb = Math.min(MAX_BUCKETS, n >>> 8);
  const scale = nb / (max - min);
  const top = nb - 1;
  const key = new Uint16Array(n);
  const start = new Int32Array(2 * nb + 1);
  for (let i = 0; i < n; i++) {
    // (v - min) * scale is monotone in v, so bucket order is value order; -0 and +0 share a bucket.
    let b = Math.floor((x[i] - min) * scale);
    if (b > top) b = top;
    const k = 2 * b + y[i];
    key[i] = k;
    start[k + 1]++;
  }
  for (let k = 0; k < 2 * nb; k++) start[k + 1] += start[k];
  const vals = new Float64Array(n);
  const fill = start.slice(0, 2 * nb);
  for (let i = 0; i < n; i++) vals[fill[key[i]]++] = x[i];
  const scratch = new SortScratch();
  for (let k = 0; k < 2 * nb; k++) sortRange(vals, start[k], start[k + 1], scratch);
  for (let b = 0; b < nb; b++) mergeRuns(vals, start[2 * b], start[2 * b + 1], start[2 * b + 2], stack);
  return n;
}

/** Reused buffers of {@link sortRange}. */
class SortScratch {
  readonly values = new Float64Array(SUB_BUCKET_MAX);
  readonly counts = new Int32Array(SUB_BUCKET_MAX + 1);
}

/**
 * Sorts vals[lo, hi) ascending in place. Short ranges: insertion sort. Ranges
 * of a bucket's usual size: one more counting pass on about one point per
 * sub-bucket between the range's own min and max (monotone, so only points of
 * one sub-bucket can be out of order), a scatter into scratch, and an
 * insertion sort of that nearly sorted copy, all in L1. Larger ranges
 * (clustered x), ranges too wide for the grid, and ranges where a sub-bucket
 * holds more than INSERTION_MAX points (a tight cluster beside an outlier):
 * the native typed-array sort.
 */
function sortRange(vals: Float64Array, lo: number, hi: number, scratch: SortScratch): void {
  const m = hi - lo;
  if (m <= INSERTION_MAX) {
    insertionSort(vals, lo, hi);
    return;
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = lo; i < hi; i++) {
    const v = vals[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return; // all equal (-0 and +0 pool as equal)
  if (m > SUB_BUCKET_MAX || !Number.isFinite(max - min)) {
    vals.subarray(lo, hi).sort();
    return;
  }
  const nSub = m;
  const scale = nSub / (max - min);
  const top = nSub - 1;
  const { values, counts } = scratch;
  counts.fill(0, 0, nSub + 1);
  for (let i = lo; i < hi; i++) {
    let b = Math.floor((vals[i] - min) * scale);
    if (b > top) b = top;
    counts[b + 1]++;
  }
  let crowded = 0;
  for (let b = 0; b < nSub; b++) {
    const c = counts[b + 1];
    if (c > crowded) crowded = c;
    counts[b + 1] += counts[b];
  }
  if (crowded > INSERTION_MAX) {
    // A tight cluster with an outlier crowds one sub-bucket: insertion sort would be quadratic there.
    vals.subarray(lo, hi).sort();
    return;
  }
  for (let i = lo; i < hi; i++) {
    const v = vals[i];
    let b = Math.floor((v - min) * scale);
    if (b > top) b = top;
    values[counts[b]++] = v;
  }
  insertionSort(values, 0, m);
  vals.set(values.subarray(0, m), lo);
}

/** Insertion sort of vals[lo, hi): O(length + inversions). */
function insertionSort(vals: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = vals[i];
    let j = i - 1;
    while (j >= lo && vals[j] > v) {
      vals[j + 1] = vals[j];
      j--;
    }
    vals[j + 1] = v;
  }
}

/** {@link mergeRuns} of all of x, split by outcome. */
function splitAndMerge(x: Float64Array, y: Float64Array, stack: PavStack): void {
  let nPos = 0;
  for (let i = 0; i < x.length; i++) nPos += y[i];
  const nNeg = x.length - nPos;
  const vals = new Float64Array(x.length);
  let a = nNeg;
  let b = 0;
  for (let i = 0; i < x.length; i++) {
    if (y[i] === 1) vals[a++] = x[i];
    else vals[b++] = x[i];
  }
  vals.subarray(0, nNeg).sort();
  vals.subarray(nNeg).sort();
  mergeRuns(vals, 0, nNeg, x.length, stack);
}

/**
 * Merges the sorted x of the non-events, vals[lo, mid), and of the events,
 * vals[mid, hi), into runs: the non-events below the next event go onto the
 * stack as one block of value 0, the events below the next non-event as one
 * of value 1, and an x held by both classes as one point with its event
 * frequency. Counts the distinct x on the stack.
 */
function mergeRuns(vals: Float64Array, lo: number, mid: number, hi: number, stack: PavStack): void {
  let i0 = lo;
  let i1 = mid;
  let distinct = 0;
  while (i0 < mid && i1 < hi) {
    const a = vals[i0];
    const b = vals[i1];
    if (a < b) {
      let j = i0 + 1;
      while (j < mid && vals[j] < b) {
        // === pools -0 with +0, which every sort here leaves side by side (in either order).
        distinct += vals[j] === vals[j - 1] ? 0 : 1;
        j++;
      }
      stack.push(a, vals[j - 1], 0, j - i0);
      distinct++;
      i0 = j;
    } else if (b < a) {
      let j = i1 + 1;
      while (j < hi && vals[j] < a) {
        distinct += vals[j] === vals[j - 1] ? 0 : 1;
        j++;
      }
      stack.push(b, vals[j - 1], j - i1, j - i1);
      distinct++;
      i1 = j;
    } else {
      let k0 = 0;
      let k1 = 0;
      while (i0 < mid && vals[i0] === a) {
        i0++;
        k0++;
      }
      while (i1 < hi && vals[i1] === a) {
        i1++;
        k1++;
      }
      stack.push(b, b, k1, k0 + k1);
      distinct++;
    }
  }
  distinct += tailRun(vals, i0, mid, 0, stack);
  distinct += tailRun(vals, i1, hi, 1, stack);
  stack.distinct += distinct;
}

/** Pushes what is left of one class, vals[from, to), as one run of `value`; returns its distinct x. */
function tailRun(vals: Float64Array, from: number, to: number, value: number, stack: PavStack): number {
  if (from >= to) return 0;
  let distinct = 1;
  for (let j = from + 1; j < to; j++) distinct += vals[j] === vals[j - 1] ? 0 : 1;
  stack.push(vals[from], vals[to - 1], value * (to - from), to - from);
  return distinct;
}

/**
 * General pooling (any y, weights; zero weights skipped): radix argsort by x,
 * then one pass summing weight and weighted y per distinct x.
 * @returns the number of points used (positive weight).
 */
function poolTies(x: Float64Array, y: Float64Array, w: Float64Array | undefined, stack: PavStack): number {
  const { order, sorted } = radixSortFloat64(x);
  let nPoints = 0;
  let current = NaN;
  let sw = 0;
  let swy = 0;
  for (let k = 0; k < sorted.length; k++) {
    const i = order[k];
    const wi = w === undefined ? 1 : w[i];
    if (wi === 0) continue;
    nPoints++;
    const xi = sorted[k];
    if (sw > 0 && xi !== current) {
      stack.push(current, current, swy, sw);
      stack.distinct++;
      sw = 0;
      swy = 0;
    }
    if (sw === 0) current = xi;
    sw += wi;
    swy += wi * y[i];
  }
  if (sw > 0) {
    stack.push(current, current, swy, sw);
    stack.distinct++;
  }
  return nPoints;
}

/**
 * Evaluates a fitted isotonic function: linear interpolation between knots
 * (numpy `interp`), and outside [x[0], x[last]] the end values (`clip`) or NaN
 * (`nan`), as the model says.
 *
 * @param model - from {@link fitIsotonic}.
 * @param x - points to evaluate; NaN is rejected.
 * @throws DataError for a NaN input.
 * @example
 * predictIsotonic(fitIsotonic([0, 1], [0, 1]), [0.25, -3]); // Float64Array [0.25, 0]
 */
export function predictIsotonic(model: IsotonicModel, x: Numbers): Float64Array {
  const kx = model.x;
  const ky = model.y;
  const k = kx.length;
  const out = new Float64Array(x.length);
  const clip = model.outOfBounds === 'clip';
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) throw new DataError('cannot evaluate isotonic fit at NaN', { column: 'x', row: i, value: v });
    if (v <= kx[0]) out[i] = v === kx[0] || clip ? ky[0] : NaN;
    else if (v >= kx[k - 1]) out[i] = v === kx[k - 1] || clip ? ky[k - 1] : NaN;
    else {
      // kx[j - 1] <= v < kx[j]
      const j = upperBound(kx, v);
      const x0 = kx[j - 1];
      const y0 = ky[j - 1];
      out[i] = y0 + ((v - x0) * (ky[j] - y0)) / (kx[j] - x0);
    }
  }
  return out;
}
