/**
 * Every score of a set of binary forecasts in one call: what the CLI prints,
 * what walk-forward reports before and after recalibration, and what a
 * notebook shows beside the reliability diagram.
 */
import { quantileEdges } from './bins';
import { decomposeWithEdges, type BrierTerms } from './brier';
import { ece, mce } from './ece';
import { LOG_LOSS_CLIP, logLoss, logLossClippedCount } from './logloss';
import { checkedBinning, tableWithEdges, type ReliabilityOptions, type ReliabilityTable } from './reliability';
import { type Numbers } from './validate';
import { Z95 } from './wilson';

/** Scalar scores of binary forecasts (no per-bin data); `brier = REL - RES + UNC + WBV - WBC`. */
export interface CalibrationScores extends BrierTerms {
  /** Number of forecasts. */
  n: number;
  /** Share of outcomes equal to 1. */
  baseRate: number;
  /** Log loss in nats, forecasts clipped to [logLossClip, 1 - logLossClip]. */
  logLoss: number;
  /** The clip used for the log loss. */
  logLossClip: number;
  /** How many forecasts the clip changed. */
  logLossClipped: number;
  /** ECE over the summary's bins. */
  ece: number;
  /** MCE over the summary's bins. */
  mce: number;
  /** ECE over equal-mass (quantile) bins with the same number of bins. */
  eceEqualMass: number;
}

/** Scores plus the reliability table they were computed on. */
export interface CalibrationSummary extends CalibrationScores {
  table: ReliabilityTable;
}

/** Options of {@link calibrationSummary}. */
export interface SummaryOptions extends ReliabilityOptions {
  /** Log-loss clip; default 1e-15. */
  logLossClip?: number;
}

/**
 * Reliability table, Brier score with its exact decomposition, log loss, ECE,
 * MCE and equal-mass ECE of binary forecasts, checked once.
 *
 * @param p - forecast probabilities in [0, 1].
 * @param y - outcomes, 0 or 1.
 * @param options - bins (10), strategy (`uniform`), z (1.96), logLossClip (1e-15).
 * @throws DataError for bad probabilities or outcomes, different lengths, fewer points than bins.
 * @throws ConfigError for a bad bin count, strategy or clip.
 * @example
 * const s = calibrationSummary([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], { bins: 2 });
 * s.brier; // 0.175; s.ece; // 0.25; s.table.count; // Float64Array [2, 2]
 */
export function calibrationSummary(p: Numbers, y: Numbers, options: SummaryOptions = {}): CalibrationSummary {
  const clip = options.logLossClip ?? LOG_LOSS_CLIP;
  const { p: pf, y: yf, edges, strategy } = checkedBinning(p, y, options);
  const table = tableWithEdges(pf, yf, edges, strategy, options.z ?? Z95);
  const d = decomposeWithEdges(pf, yf, edges, strategy);
  const nBins = edges.length - 1;
  const equalMass = strategy === 'quantile' ? table : tableWithEdges(pf, yf, quantileEdges(pf, nBins), 'quantile');
  // Outcomes are checked 0/1, so the per-bin counts of positives sum exactly to the total.
  let positives = 0;
  for (let b = 0; b < nBins; b++) positives += table.positives[b];
  return {
    n: pf.length,
    baseRate: positives / pf.length,
    brier: d.brier,
    reliability: d.reliability,
    resolution: d.resolution,
    uncertainty: d.uncertainty,
    withinBinVariance: d.withinBinVariance,
    withinBinCovariance: d.withinBinCovariance,
    logLoss: logLoss(pf, yf, { clip }),
    logLossClip: clip,
    logLossClipped: logLossClippedCount(pf, clip),
    ece: ece(table),
    mce: mce(table),
    eceEqualMass: ece(equalMass),
    table,
  };
}

/** The scalar scores of a summary, without the table (for JSON and comparisons). */
export function scoresOf(summary: CalibrationSummary): CalibrationScores {
  const { table: _table, ...scores } = summary;
  return scores;
}
