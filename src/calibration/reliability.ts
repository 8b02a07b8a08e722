/**
 * Reliability table of binary forecasts: per bin, how often the event happened
 * against how likely it was said to be.
 */
import { binTotals, edgesFor, type BinStrategy } from './bins';
import { checkBinaryForecasts, checkBins, toFloat64, type InputNames, type Numbers } from './validate';
import { wilsonInterval, Z95 } from './wilson';

/** Options of {@link reliabilityTable}. */
export interface ReliabilityOptions {
  /** Number of bins; default 10. */
  bins?: number;
  /** `uniform` edges on [0, 1] or `quantile` (equal-mass) edges; default `uniform`. */
  strategy?: BinStrategy;
  /** Normal quantile of the Wilson interval; default 1.96 (95%). */
  z?: number;
  /** Names for error messages (file, columns). */
  names?: InputNames;
}

/**
 * Per-bin statistics, one entry per bin in typed arrays (length B; `edges` has
 * B + 1). Empty bins have count 0 and NaN means and intervals: nothing is
 * invented for them.
 */
export interface ReliabilityTable {
  /** How the edges were placed. */
  strategy: BinStrategy;
  /** Bin edges; bin 0 is [e0, e1], bin i is (e_i, e_{i+1}]. */
  edges: Float64Array;
  /** Forecasts per bin. */
  count: Float64Array;
  /** Outcomes equal to 1 per bin. */
  positives: Float64Array;
  /** Mean forecast probability per bin (not the bin centre); NaN when empty. */
  meanPredicted: Float64Array;
  /** Observed frequency of the event per bin; NaN when empty. */
  observed: Float64Array;
  /** Wilson interval of the observed frequency; NaN when empty. */
  ciLow: Float64Array;
  /** Upper end of the Wilson interval; NaN when empty. */
  ciHigh: Float64Array;
  /** Number of forecasts. */
  n: number;
  /** Normal quantile used for the intervals. */
  z: number;
}

/** One bin as a plain record (JSON, notebooks); `null` marks an empty bin's statistics. */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number | null;
  observed: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

/**
 * Reliability table of probabilities `p` against binary outcomes `y`.
 *
 * Per bin b with forecasts I_b: `count = |I_b|`, `meanPredicted = mean p_i`,
 * `observed = mean y_i`, and the Wilson interval of `observed` (95% by
 * default). Bins are right-closed (see `assignBins`), so with the same
 * strategy the non-empty bins match scikit-learn's `calibration_curve`.
 *
 * @param p - forecast probabilities in [0, 1].
 * @param y - outcomes, 0 or 1.
 * @param options - bins (10), strategy (`uniform`), z (1.96).
 * @throws DataError for probabilities outside [0, 1] or NaN, outcomes other than 0/1,
 *   different lengths, or fewer points than bins.
 * @throws ConfigError for a bad bin count or strategy.
 * @example
 * const t = reliabilityTable([0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1], [0, 0, 0, 0, 1, 1, 1, 1, 1], { bins: 3 });
 * t.observed;      // Float64Array [0, 0.5, 1]
 * t.meanPredicted; // Float64Array [0.2, 0.525, 0.85] (up to rounding)
 */
export function reliabilityTable(p: Numbers, y: Numbers, options: ReliabilityOptions = {}): ReliabilityTable {
  const b = checkedBinning(p, y, options);
  return tableWithEdges(b.p, b.y, b.edges, b.strategy, options.z ?? Z95);
}

/** Checked forecasts as Float64Arrays with the bin edges the options ask for. */
export interface Binning {
  p: Float64Array;
  y: Float64Array;
  edges: Float64Array;
  strategy: BinStrategy;
}

/**
 * Applies the defaults (10 `uniform` bins), checks the forecasts and the bin
 * count once, and computes the edges: the common start of every binned score.
 * @throws DataError or ConfigError as {@link reliabilityTable} does.
 */
export function checkedBinning(p: Numbers, y: Numbers, options: ReliabilityOptions): Binning {
  const nBins = options.bins ?? 10;
  const strategy = options.strategy ?? 'uniform';
  checkBinaryForecasts(p, y, options.names);
  checkBins(nBins, p.length, options.names?.file);
  const pf = toFloat64(p);
  return { p: pf, y: toFloat64(y), edges: edgesFor(pf, nBins, strategy), strategy };
}

/**
 * The table for given edges, without input checks (callers have validated):
 * used when before/after forecasts must share bins.
 */
export function tableWithEdges(p: Float64Array, y: Float64Array, edges: Float64Array, strategy: BinStrategy, z: number = Z95): ReliabilityTable {
  const nBins = edges.length - 1;
  const { count, sumY: positives, sumX: sumPredicted } = binTotals(p, y, edges);
  const meanPredicted = new Float64Array(nBins);
  const observed = new Float64Array(nBins);
  const ciLow = new Float64Array(nBins);
  const ciHigh = new Float64Array(nBins);
  for (let b = 0; b < nBins; b++) {
    const c = count[b];
    meanPredicted[b] = c > 0 ? sumPredicted[b] / c : NaN;
    observed[b] = c > 0 ? positives[b] / c : NaN;
    [ciLow[b], ciHigh[b]] = wilsonInterval(positives[b], c, z);
  }
  return { strategy, edges, count, positives, meanPredicted, observed, ciLow, ciHigh, n: p.length, z };
}

/**
 * The table's bins as plain records, `null` for an empty bin's statistics
 * (what `quantbook calibrate --json` prints as `bins`).
 * @example
 * reliabilityBins(reliabilityTable([0.2, 0.9], [0, 1], { bins: 2 }));
 * // [{ lo: 0, hi: 0.5, count: 1, meanPredicted: 0.2, observed: 0, ciLow: 0, ciHigh: 0.7935 }, { lo: 0.5, hi: 1, ... }]
 */
export function reliabilityBins(table: ReliabilityTable): ReliabilityBin[] {
  const out: ReliabilityBin[] = [];
  const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
  for (let b = 0; b < table.count.length; b++) {
    out.push({
      lo: table.edges[b],
      hi: table.edges[b + 1],
      count: table.count[b],
      meanPredicted: orNull(table.meanPredicted[b]),
      observed: orNull(table.observed[b]),
      ciLow: orNull(table.ciLow[b]),
      ciHigh: orNull(table.ciHigh[b]),
    });
  }
  return out;
}
