/**
 * Bin edges and bin membership for reliability tables, right-closed like
 * scikit-learn's `calibration_curve`: bin 0 is [e0, e1], bin i is (e_i, e_{i+1}].
 */
import { ConfigError } from '../core/errors';
import { checkBins, checkProbabilities, toFloat64, type Numbers } from './validate';
import { quantilesOf } from '../stats/order';

/** How bin edges are placed. */
export type BinStrategy = 'uniform' | 'quantile';

/** The bin strategies, for CLI choices and validation. */
export const BIN_STRATEGIES: readonly BinStrategy[] = ['uniform', 'quantile'];

/**
 * Uniform bin edges on [0, 1]: `e_i = i * (1 / B)`, last edge exactly 1.
 *
 * Computed the way numpy's `linspace(0, 1, B + 1)` computes them (so
 * `e_3 = 0.30000000000000004` for B = 10), so bin membership agrees with
 * scikit-learn even for a prediction that sits on an edge.
 *
 * @throws ConfigError when `nBins` is not an integer >= 1.
 * @example
 * uniformEdges(4); // Float64Array [0, 0.25, 0.5, 0.75, 1]
 */
export function uniformEdges(nBins: number): Float64Array {
  if (!Number.isInteger(nBins) || nBins < 1) throw new ConfigError('number of bins must be an integer >= 1', { key: 'bins', value: nBins });
  const edges = new Float64Array(nBins + 1);
  const step = 1 / nBins;
  for (let i = 0; i < nBins; i++) edges[i] = i * step;
  edges[nBins] = 1;
  return edges;
}

/**
 * Equal-mass bin edges: the predictions' percentiles at `0, 1/B, ..., 1`
 * (linear interpolation between order statistics, numpy's default). Ties in the
 * predictions can give repeated edges, hence empty bins; they are kept.
 *
 * @throws ConfigError when `nBins` is not an integer >= 1.
 * @throws DataError when `p` is empty or has fewer points than bins.
 * @example
 * quantileEdges([0.1, 0.2, 0.3, 0.4, 0.5], 2); // Float64Array [0.1, 0.3, 0.5]
 */
export function quantileEdges(p: Numbers, nBins: number): Float64Array {
  checkBins(nBins, p.length);
  const levels = new Float64Array(nBins + 1);
  const step = 1 / nBins;
  // scikit-learn asks numpy for percentiles `linspace(0, 1, B + 1) * 100`; numpy divides by 100 again.
  for (let i = 0; i < nBins; i++) levels[i] = (i * step * 100) / 100;
  levels[nBins] = 1;
  return quantilesOf(p, levels);
}

/**
 * Bin edges for a strategy.
 * @throws ConfigError for an unknown strategy or a bad bin count.
 * @throws DataError for fewer points than bins, or probabilities outside [0, 1].
 * @example
 * binEdges([0.2, 0.9], 2, 'uniform'); // Float64Array [0, 0.5, 1]
 */
export function binEdges(p: Numbers, nBins: number, strategy: BinStrategy): Float64Array {
  checkBins(nBins, p.length);
  checkProbabilities(p);
  return edgesFor(p, nBins, strategy);
}

/** {@link binEdges} without the input checks, for callers that have validated. */
export function edgesFor(p: Numbers, nBins: number, strategy: BinStrategy): Float64Array {
  if (strategy === 'uniform') return uniformEdges(nBins);
  if (strategy === 'quantile') return quantileEdges(p, nBins);
  throw new ConfigError(`unknown bin strategy (use ${BIN_STRATEGIES.join(' or ')})`, { key: 'strategy', value: strategy });
}

/**
 * Right-closed bin index of every value: the number of inner edges strictly
 * below it (numpy `searchsorted(edges[1:-1], p, side='left')`). Values below
 * the first edge land in bin 0, above the last in bin B - 1.
 * @example
 * assignBins([0, 0.25, 0.26, 1], uniformEdges(4)); // Int32Array [0, 0, 1, 3]
 */
export function assignBins(p: Numbers, edges: Float64Array): Int32Array {
  const x = toFloat64(p);
  const out = new Int32Array(x.length);
  const { lo, scale, guess, last } = binGrid(edges);
  for (let i = 0; i < x.length; i++) out[i] = gridBin(edges, lo, scale, guess, last, x[i]);
  return out;
}

/** Per-bin totals of {@link binTotals}. */
export interface BinTotals {
  /** Values per bin. */
  count: Float64Array;
  /** Sum of y per bin. */
  sumY: Float64Array;
  /** Sum of the binned values per bin. */
  sumX: Float64Array;
}

/**
 * Per right-closed bin (as {@link assignBins} places them): the count, the sum
 * of `y` and the sum of the values, in one pass that keeps no per-value bin
 * index (a reliability table of a million forecasts reads each input once).
 * @example
 * binTotals(Float64Array.of(0.1, 0.6, 0.7), Float64Array.of(0, 1, 0), uniformEdges(2));
 * // { count: [1, 2], sumY: [0, 1], sumX: [0.1, 1.3] }
 */
export function binTotals(x: Float64Array, y: Float64Array, edges: Float64Array): BinTotals {
  const nBins = edges.length - 1;
  const count = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  const sumX = new Float64Array(nBins);
  const { lo, scale, guess, last } = binGrid(edges);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const k = gridBin(edges, lo, scale, guess, last, v);
    count[k]++;
    sumY[k] += y[i];
    sumX[k] += v;
  }
  return { count, sumY, sumX };
}

const GRID_CELLS = 1024;

/**
 * A right-closed bin lookup for given edges (B = edges.length - 1 bins), O(1)
 * per value for any edges: a grid of equal cells over [e0, eB] gives a first
 * guess (the bin of the cell's left end), which is then moved to the exact bin
 * by comparing with the real edges, so values on an edge land exactly as
 * numpy's `searchsorted(edges[1:-1], v, side='left')` puts them.
 * @example
 * binner(Float64Array.of(0, 0.5, 1))(0.5); // 0
 */
export function binner(edges: Float64Array): (v: number) => number {
  const { lo, scale, guess, last } = binGrid(edges);
  return (v) => gridBin(edges, lo, scale, guess, last, v);
}

/** The grid of {@link binner}: its origin, cells per unit, first guess per cell, and the last bin. */
interface BinGrid {
  lo: number;
  scale: number;
  guess: Int32Array;
  last: number;
}

/**
 * The grid over [e0, eB]. When the edges span nothing (tied quantile edges) or there is one bin,
 * its scale is 0 and every guess bin 0: every value then starts at cell 0 and the correction
 * counts the inner edges below it.
 */
function binGrid(edges: Float64Array): BinGrid {
  const nBins = edges.length - 1;
  const last = nBins - 1;
  const lo = edges[0];
  const span = edges[nBins] - lo;
  const guess = new Int32Array(GRID_CELLS);
  if (!(span > 0) || nBins === 1) return { lo, scale: 0, guess, last };
  const scale = GRID_CELLS / span;
  // Per cell, the bin of the cell's left end: a first guess that gridBin corrects against the edges.
  for (let c = 0, k = 0; c < GRID_CELLS; c++) {
    const cellStart = lo + c / scale;
    while (k < last && cellStart > edges[k + 1]) k++;
    guess[c] = k;
  }
  return { lo, scale, guess, last };
}

/**
 * The right-closed bin of v: the grid's guess for v's cell, moved to the exact bin by comparing
 * with the edges. Small enough to be inlined into the callers' loops. A value outside the grid
 * (or NaN, or any value when the scale is 0) starts from an end cell.
 */
function gridBin(edges: Float64Array, lo: number, scale: number, guess: Int32Array, last: number, v: number): number {
  let c = Math.floor((v - lo) * scale);
  c = c > 0 ? (c < GRID_CELLS ? c : GRID_CELLS - 1) : 0;
  let k = guess[c];
  while (k < last && v > edges[k + 1]) k++;
  while (k > 0 && v <= edges[k]) k--;
  return k;
}
