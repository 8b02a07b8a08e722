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
 * for unweighted 0/1 outcomes (recalibration) the x of each class are sorted
 * with the native typed-array sort and merged; otherwise a radix argsort on the
 * float bits orders x. A million points fit in a fraction of a second.
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
  // Typed inputs (the usual case) are checked in one pass that also says whether y is 0/1; any
  // other input, or a non-finite value, goes through checkFinite, which names the bad row.
  const scan = x instanceof Float64Array && y instanceof Float64Array ? scanFiniteBinary(x, y) : -1;
  if (scan < 0) {
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
  const nPoints = w === undefined && (scan >= 0 ? scan === 1 : isBinary(yf)) ? poolBinary(xf, yf, stack) : poolTies(xf, yf, w, stack);
  if (stack.pushed === 0) throw new DataError('isotonic fit needs at least one point with positive weight');
  const { kx, ky } = stack.knots(yMin, yMax);
  return { kind: 'isotonic', x: kx, y: ky, increasing, outOfBounds, nPoints, nUnique: stack.pushed };
}

/**
 * Weighted pool-adjacent-violators over distinct x arriving in increasing
 * order: a stack of blocks (mean, weight, first and last x); a new point merges
 * backwards while the block before it has a larger mean. Pooled points stream
 * in, so no per-point arrays are kept.
 */
class PavStack {
  private readonly mean: Float64Array;
  private readonly weight: Float64Array;
  private readonly firstX: Float64Array;
  private readonly lastX: Float64Array;
  private top = -1;
  /** Distinct x pushed so far. */
  pushed = 0;

  /** @param sign - 1 for a non-decreasing fit, -1 for non-increasing (values are negated in and out). */
  constructor(
    capacity: number,
    private readonly sign: number,
  ) {
    this.mean = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    this.firstX = new Float64Array(capacity);
    this.lastX = new Float64Array(capacity);
  }

  /** Adds the distinct value x with weighted mean target `value` and total weight `w`. */
  push(x: number, value: number, w: number): void {
    const { mean, weight } = this;
    let top = ++this.top;
    mean[top] = this.sign * value;
    weight[top] = w;
    this.firstX[top] = x;
    this.lastX[top] = x;
    this.pushed++;
    while (top > 0 && mean[top - 1] > mean[top]) {
      const wSum = weight[top - 1] + weight[top];
      mean[top - 1] = (weight[top - 1] * mean[top - 1] + weight[top] * mean[top]) / wSum;
      weight[top - 1] = wSum;
      this.lastX[top - 1] = this.lastX[top];
      top--;
    }
    this.top = top;
  }

  /**
   * Knots of the fit, block values clipped to [yMin, yMax]: for each run of
   * equal values (clipping can join blocks) its first and last x, exactly the
   * points scikit-learn keeps (first, last, and any point whose value differs
   * from a neighbour's).
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

/**
 * One pass over x and y: -1 when any value is NaN or infinite (`v - v` is 0 only for finite v),
 * else 1 when every y is 0 or 1, else 0. Replaces two finiteness passes and the 0/1 pass (a
 * tenth of a million-point fit).
 */
function scanFiniteBinary(x: Float64Array, y: Float64Array): number {
  let binary = 1;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (a - a !== 0 || b - b !== 0) return -1;
    if (b !== 0 && b !== 1) binary = 0;
  }
  return binary;
}

function isBinary(y: Float64Array): boolean {
  for (let i = 0; i < y.length; i++) if (y[i] !== 0 && y[i] !== 1) return false;
  return true;
}

/** Below this many points the classes are sorted whole and merged. */
const SMALL_POOL = 4096;

/**
 * Pooling for unweighted 0/1 outcomes, the recalibration case. One pass finds
 * the range of x; one counts points per (bucket, class) on an equal-width grid
 * of a few thousand buckets over that range (the bucket index is monotone in
 * x, so equal x share a bucket and bucket order is value order); one scatters x
 * so that each bucket holds its non-events then its events. Each class of each
 * bucket (a few hundred values, in cache) is sorted with the native
 * typed-array sort in place, and the two are merged while counting per x.
 * Clustered data just makes some buckets larger. No comparator callback and
 * no argsort.
 * @returns the number of points used.
 */
function poolBinary(x: Float64Array, y: Float64Array, stack: PavStack): number {
  const n = x.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const nb = Math.min(4096, n >>> 8);
  if (n < SMALL_POOL || !(max > min) || !Number.isFinite(max - min)) {
    splitAndMerge(x, y, stack);
    return n;
  }
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
  for (let b = 0; b < nb; b++) {
    const neg = vals.subarray(start[2 * b], start[2 * b + 1]).sort();
    const pos = vals.subarray(start[2 * b + 1], start[2 * b + 2]).sort();
    mergeClasses(neg, pos, stack);
  }
  return n;
}

/** {@link mergeClasses} of all of x, split by outcome. */
function splitAndMerge(x: Float64Array, y: Float64Array, stack: PavStack): void {
  let nPos = 0;
  for (let i = 0; i < x.length; i++) nPos += y[i];
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(x.length - nPos);
  let a = 0;
  let b = 0;
  for (let i = 0; i < x.length; i++) {
    if (y[i] === 1) pos[a++] = x[i];
    else neg[b++] = x[i];
  }
  mergeClasses(neg.sort(), pos.sort(), stack);
}

/**
 * Merges the sorted x of the non-events and of the events while counting per
 * distinct x, pushing each onto the stack with its event frequency.
 */
function mergeClasses(neg: Float64Array, pos: Float64Array, stack: PavStack): void {
  const nNeg = neg.length;
  const nPos = pos.length;
  let i0 = 0;
  let i1 = 0;
  while (i0 < nNeg || i1 < nPos) {
    const v = i1 >= nPos || (i0 < nNeg && neg[i0] < pos[i1]) ? neg[i0] : pos[i1];
    let k0 = 0;
    let k1 = 0;
    // === pools -0 with +0, which the native sort puts next to each other.
    while (i0 < nNeg && neg[i0] === v) {
      i0++;
      k0++;
    }
    while (i1 < nPos && pos[i1] === v) {
      i1++;
      k1++;
    }
    stack.push(v, k1 / (k0 + k1), k0 + k1);
  }
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
      stack.push(current, swy / sw, sw);
      sw = 0;
      swy = 0;
    }
    if (sw === 0) current = xi;
    sw += wi;
    swy += wi * y[i];
  }
  if (sw > 0) stack.push(current, swy / sw, sw);
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
