/**
 * Walk-forward recalibration: fit on the past only, apply to the next block,
 * score only what was predicted out of sample.
 */
import { ConfigError } from '../core/errors';
import { brierScore } from './brier';
import { applyCalibrator, fitCalibrator, type Calibrator, type CalibratorSpec } from './calibrator';
import { calibrationSummary, type CalibrationSummary, type SummaryOptions } from './summary';
import { checkBinaryForecasts, checkInteger, toFloat64, type Numbers } from './validate';

/** Training window: all rows so far, or the last `size` rows. */
export type TrainingWindow = { kind: 'expanding' } | { kind: 'rolling'; size: number };

/** Options of {@link walkForwardRecalibration}. */
export interface RecalibrationWalkForwardOptions {
  /** Recalibrator fitted on each training window. */
  calibrator: CalibratorSpec;
  /** Rows in the first training window (>= 1). */
  minTrain: number;
  /** Rows per out-of-sample block (>= 1); the last block may be shorter. */
  block: number;
  /**
   * Rows skipped between the end of training and the block (>= 0, default 0).
   * Set it to the label horizon in rows when an outcome is only known that
   * many rows after its forecast (a 30-bar P(up) resolves 30 bars later), so
   * no training outcome lies in the block's future.
   */
  gap?: number;
  /** Training window; default expanding. */
  window?: TrainingWindow;
  /** Bins, strategy and log-loss clip of the before/after scores. */
  scores?: SummaryOptions;
}

/** One out-of-sample block. Row ranges are half-open [start, end). */
export interface WalkForwardBlock {
  trainStart: number;
  trainEnd: number;
  start: number;
  end: number;
  /** The recalibrator fitted on [trainStart, trainEnd). */
  calibrator: Calibrator;
  /** Brier score of the raw forecasts in the block. */
  brierBefore: number;
  /** Brier score of the recalibrated forecasts in the block. */
  brierAfter: number;
}

/** Result of {@link walkForwardRecalibration}. */
export interface RecalibrationWalkForwardResult {
  /** First out-of-sample row (`minTrain + gap`). */
  oosStart: number;
  /** Recalibrated probabilities for every row; NaN before `oosStart` (never predicted out of sample). */
  calibrated: Float64Array;
  blocks: WalkForwardBlock[];
  /** Scores of the raw forecasts on the out-of-sample rows only. */
  before: CalibrationSummary;
  /** Scores of the recalibrated forecasts on the same rows. */
  after: CalibrationSummary;
}

/**
 * Walk-forward recalibration of probabilities in time order.
 *
 * Blocks start at `t = minTrain + gap, minTrain + gap + block, ...`; the
 * recalibrator for the block [t, t + block) is fitted on rows
 * [trainStart, t - gap) (trainStart = 0 for an expanding window, `t - gap -
 * size` for a rolling one) and applied to the block. Scores before and after
 * are computed on the out-of-sample rows only, so the "after" number is what
 * the recalibration would have delivered live, not an in-sample fit.
 *
 * @param p - forecast probabilities in time order.
 * @param y - outcomes, 0 or 1, aligned with p.
 * @throws DataError for bad probabilities or outcomes, or fewer out-of-sample rows than bins.
 * @throws ConfigError for bad minTrain, block, gap or window, or no out-of-sample rows.
 * @example
 * const wf = walkForwardRecalibration(p, y, { calibrator: { kind: 'isotonic' }, minTrain: 500, block: 100 });
 * wf.before.brier; wf.after.brier; // raw vs recalibrated, rows 500.. only
 */
export function walkForwardRecalibration(p: Numbers, y: Numbers, options: RecalibrationWalkForwardOptions): RecalibrationWalkForwardResult {
  const { minTrain, block } = options;
  const gap = options.gap ?? 0;
  const window = options.window ?? { kind: 'expanding' };
  checkInteger(minTrain, 'minTrain', 1);
  checkInteger(block, 'block', 1);
  checkInteger(gap, 'gap', 0);
  if (window.kind === 'rolling') checkInteger(window.size, 'window.size', 1);
  else if (window.kind !== 'expanding') {
    throw new ConfigError("window must be { kind: 'expanding' } or { kind: 'rolling', size }", { key: 'window', value: window });
  }
  const names = options.scores?.names;
  checkBinaryForecasts(p, y, names);
  const pf = toFloat64(p);
  const yf = toFloat64(y);
  const n = pf.length;
  const oosStart = minTrain + gap;
  if (oosStart >= n) {
    throw new ConfigError(`no out-of-sample rows: minTrain + gap = ${oosStart} but there are ${n} rows`, { key: 'minTrain', value: minTrain });
  }

  const calibrated = new Float64Array(n).fill(NaN);
  const blocks: WalkForwardBlock[] = [];
  for (let start = oosStart; start < n; start += block) {
    const end = Math.min(n, start + block);
    const trainEnd = start - gap;
    const trainStart = window.kind === 'rolling' ? Math.max(0, trainEnd - window.size) : 0;
    const calibrator = fitCalibrator(options.calibrator, pf.subarray(trainStart, trainEnd), yf.subarray(trainStart, trainEnd));
    const out = applyCalibrator(calibrator, pf.subarray(start, end));
    calibrated.set(out, start);
    blocks.push({
      trainStart,
      trainEnd,
      start,
      end,
      calibrator,
      brierBefore: brierScore(pf.subarray(start, end), yf.subarray(start, end)),
      brierAfter: brierScore(out, yf.subarray(start, end)),
    });
  }
  const yOos = yf.subarray(oosStart);
  return {
    oosStart,
    calibrated,
    blocks,
    before: calibrationSummary(pf.subarray(oosStart), yOos, options.scores),
    after: calibrationSummary(calibrated.subarray(oosStart), yOos, options.scores),
  };
}
