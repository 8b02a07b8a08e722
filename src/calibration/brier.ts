/**
 * Brier score and its decomposition into reliability, resolution and
 * uncertainty, made exact for continuous forecasts by the two within-bin terms
 * of Stephenson, Coelho and Jolliffe (2008).
 */
import { assignBins, type BinStrategy } from './bins';
import { checkedBinning, type ReliabilityOptions } from './reliability';
import { checkBinaryForecasts, type InputNames, type Numbers } from './validate';

/**
 * Brier score: mean squared difference between forecast probability and outcome.
 *
 * `BS = (1/N) sum_i (p_i - y_i)^2`; 0 is perfect, 0.25 is a constant 0.5 forecast.
 *
 * @throws DataError for probabilities outside [0, 1], outcomes other than 0/1, different lengths or no points.
 * @example
 * brierScore([0.9, 0.2], [1, 0]); // 0.025
 */
export function brierScore(p: Numbers, y: Numbers, names?: InputNames): number {
  checkBinaryForecasts(p, y, names);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i] - y[i];
    s += d * d;
  }
  return s / p.length;
}

/** The Brier score and the terms of its exact decomposition. */
export interface BrierTerms {
  /** Brier score, computed directly. */
  brier: number;
  /** `REL = (1/N) sum_b n_b (pbar_b - obar_b)^2`; lower is better. */
  reliability: number;
  /** `RES = (1/N) sum_b n_b (obar_b - obar)^2`; higher is better. */
  resolution: number;
  /** `UNC = obar (1 - obar)`, the base rate's variance. */
  uncertainty: number;
  /** `WBV = (1/N) sum_b sum_{i in b} (p_i - pbar_b)^2`. */
  withinBinVariance: number;
  /** `WBC = (2/N) sum_b sum_{i in b} (y_i - obar_b)(p_i - pbar_b)`. */
  withinBinCovariance: number;
}

/** The decomposition with the bins it was computed on. */
export interface BrierDecomposition extends BrierTerms {
  /** Bin edges used. */
  edges: Float64Array;
  /** Strategy of the edges. */
  strategy: BinStrategy;
}

/**
 * Brier score decomposition over reliability bins, exact for continuous forecasts.
 *
 * Murphy's `BS = REL - RES + UNC` holds only when every forecast in a bin
 * equals the bin mean; Stephenson, Coelho and Jolliffe (2008) add the
 * within-bin variance and covariance so that
 * `BS = REL - RES + UNC + WBV - WBC` holds exactly (up to rounding) for any
 * binning. Bins are those of {@link reliabilityTable} (same options).
 *
 * @param p - forecast probabilities in [0, 1].
 * @param y - outcomes, 0 or 1.
 * @param options - bins (10) and strategy (`uniform`), as for the reliability table.
 * @throws DataError for bad probabilities or outcomes, different lengths, fewer points than bins.
 * @example
 * const d = brierDecomposition([0.1, 0.3, 0.6, 0.8], [0, 1, 0, 1], { bins: 2 });
 * d.brier; // 0.225
 * d.reliability - d.resolution + d.uncertainty + d.withinBinVariance - d.withinBinCovariance; // 0.225 (up to rounding)
 */
export function brierDecomposition(p: Numbers, y: Numbers, options: ReliabilityOptions = {}): BrierDecomposition {
  const b = checkedBinning(p, y, options);
  return decomposeWithEdges(b.p, b.y, b.edges, b.strategy);
}

/** The decomposition for given edges, without input checks (callers have validated). */
export function decomposeWithEdges(p: Float64Array, y: Float64Array, edges: Float64Array, strategy: BinStrategy): BrierDecomposition {
  const n = p.length;
  const nBins = edges.length - 1;
  const bin = assignBins(p, edges);
  const count = new Float64Array(nBins);
  const pbar = new Float64Array(nBins);
  const obar = new Float64Array(nBins);
  let brierSum = 0;
  let ySum = 0;
  for (let i = 0; i < n; i++) {
    const b = bin[i];
    count[b]++;
    pbar[b] += p[i];
    obar[b] += y[i];
    ySum += y[i];
    const d = p[i] - y[i];
    brierSum += d * d;
  }
  const base = ySum / n;
  let rel = 0;
  let res = 0;
  for (let b = 0; b < nBins; b++) {
    if (count[b] === 0) continue;
    pbar[b] /= count[b];
    obar[b] /= count[b];
    rel += count[b] * (pbar[b] - obar[b]) ** 2;
    res += count[b] * (obar[b] - base) ** 2;
  }
  let wbv = 0;
  let wbc = 0;
  for (let i = 0; i < n; i++) {
    const b = bin[i];
    const dp = p[i] - pbar[b];
    wbv += dp * dp;
    wbc += (y[i] - obar[b]) * dp;
  }
  return {
    brier: brierSum / n,
    reliability: rel / n,
    resolution: res / n,
    uncertainty: base * (1 - base),
    withinBinVariance: wbv / n,
    withinBinCovariance: (2 * wbc) / n,
    edges,
    strategy,
  };
}
