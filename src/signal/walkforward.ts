/**
 * Walk-forward training of the signal classifier with purging by label span, out-of-sample
 * calibration fitted on earlier folds only, and binary Kelly sizing from the calibrated
 * probability, expressed as the engine's (mu, sigma) so that the risk engine's Kelly sizing,
 * regime multipliers, limits and kill switches apply unchanged.
 */
import { ConfigError, DataError } from '../core/errors';
import { walkForward, type Fold, type WalkForwardOptions } from '../data/splits';
import { applyCalibrator, fitCalibrator, type CalibratorSpec } from '../calibration/calibrator';
import { trainGbdt, type TrainParams } from '../gbdt/train';
import { predictGbdt } from '../gbdt/model';
import { featureImportance } from '../gbdt/importance';

/** Options of {@link walkForwardSignal}. */
export interface WalkForwardSignalOptions {
  /** Fold layout over the rows (labelHorizon is not needed: purging uses each label's own end). */
  folds: Omit<WalkForwardOptions, 'labelHorizon'>;
  /** Rows after a training row's label end that are also dropped before a test block (default 0). */
  embargo?: number;
  /** Tree parameters (objective is binary:logistic). */
  params?: Omit<TrainParams, 'objective' | 'earlyStoppingRounds'>;
  /** Recalibration fitted on earlier folds' out-of-sample predictions; default isotonic; `null`: none. */
  calibration?: CalibratorSpec | null;
  /** Fewest earlier out-of-sample rows with known labels to fit a calibrator (default 200). */
  minCalibrationRows?: number;
}

/** Out-of-sample probabilities and what each fold did. */
export interface WalkForwardSignal {
  /** Classifier probability at each test row; NaN outside test blocks. */
  pRaw: Float64Array;
  /** Calibrated probability (NaN where no calibrator could be fitted yet: see `uncalibratedRows`). */
  pCal: Float64Array;
  folds: Array<Fold & { trainRows: number; purgedRows: number; calibrationRows: number }>;
  /** Test rows left without a calibrated probability because too few earlier labels were known. */
  uncalibratedRows: number;
  /** Gain importance summed over the folds' models, by feature name. */
  importance: Record<string, number>;
}

/**
 * Trains one classifier per walk-forward fold and predicts its test block.
 *
 * Purging: a training row i is used only when its label is known and ends before the test
 * block, `end[i] + embargo < test.start` (López de Prado's purge with the labels' own spans).
 * Calibration: fold k's probabilities are recalibrated by a calibrator fitted on the test
 * rows of folds before k whose labels had ended before fold k's test start, so no calibration
 * uses information from the future of the rows it maps.
 *
 * @param x - row-major features (`names.length` columns), NaN = missing.
 * @param y - labels 1/0, NaN = unknown (never trained on).
 * @param end - last bar each label looks at (from the label builders).
 * @throws ConfigError for bad fold sizes; DataError when lengths disagree.
 * @example walkForwardSignal(fm.x, fm.names, labels.y, labels.end, { folds: { trainSize: 2000, testSize: 500 } }).pCal
 */
export function walkForwardSignal(x: Float64Array | Float32Array, names: string[], y: Float64Array, end: Int32Array,
  opts: WalkForwardSignalOptions): WalkForwardSignal {
  const F = names.length;
  const n = y.length;
  if (x.length !== n * F) throw new DataError(`feature matrix has ${x.length} cells for ${n} rows x ${F} features`, { key: 'x', value: x.length });
  if (end.length !== n) throw new DataError(`label ends have ${end.length} values for ${n} rows`, { key: 'end', value: end.length });
  const embargo = opts.embargo ?? 0;
  if (!Number.isInteger(embargo) || embargo < 0) throw new ConfigError('embargo must be a non-negative integer', { key: 'embargo', value: embargo });
  const minCal = opts.minCalibrationRows ?? 200;
  const calSpec = opts.calibration === undefined ? { kind: 'isotonic' as const } : opts.calibration;
  const folds = walkForward(n, opts.folds);
  const xf = x instanceof Float32Array ? x : Float32Array.from(x);
  const pRaw = new Float64Array(n).fill(NaN);
  const pCal = new Float64Array(n).fill(NaN);
  const importance: Record<string, number> = {};
  const out: WalkForwardSignal['folds'] = [];
  let uncalibrated = 0;
  const tested: number[] = [];
  for (const fold of folds) {
    const rows: number[] = [];
    let purged = 0;
    for (const r of fold.train) {
      for (let i = r.start; i < r.end; i++) {
        if (Number.isNaN(y[i]!)) continue;
        if (end[i]! + embargo >= fold.test.start) {
          purged++;
          continue;
        }
        rows.push(i);
      }
    }
    const tx = new Float32Array(rows.length * F);
    const ty = new Float64Array(rows.length);
    rows.forEach((i, k) => {
      tx.set(xf.subarray(i * F, (i + 1) * F), k * F);
      ty[k] = y[i]!;
    });
    const { start, end: stop } = fold.test;
    let calRows = 0;
    if (rows.length > 0) {
      const { model } = trainGbdt({ x: tx, y: ty, numFeature: F, featureNames: names }, { ...opts.params, objective: { name: 'binary:logistic' } });
      for (const [k, v] of Object.entries(featureImportance(model, 'total_gain'))) importance[k] = (importance[k] ?? 0) + v;
      const p = predictGbdt(model, xf.subarray(start * F, stop * F));
      pRaw.set(p, start);
      if (calSpec === null) {
        pCal.set(p, start);
      } else {
        // Earlier out-of-sample rows whose labels were known before this block starts.
        const cp: number[] = [];
        const cy: number[] = [];
        for (const i of tested) {
          if (end[i]! < start && !Number.isNaN(y[i]!)) {
            cp.push(pRaw[i]!);
            cy.push(y[i]!);
          }
        }
        calRows = cp.length;
        if (calRows >= minCal) pCal.set(applyCalibrator(fitCalibrator(calSpec, cp, cy), p), start);
        else uncalibrated += stop - start;
      }
    } else {
      uncalibrated += stop - start;
    }
    for (let i = start; i < stop; i++) tested.push(i);
    out.push({ ...fold, trainRows: rows.length, purgedRows: purged, calibrationRows: calRows });
  }
  return { pRaw, pCal, folds: out, uncalibratedRows: uncalibrated, importance };
}

/**
 * Binary Kelly position for a bet that gains `up` or loses `down` (both as positive returns):
 * maximising p log(1 + f up) + (1 - p) log(1 - f down) gives f* = p / down - (1 - p) / up, a
 * fraction of equity (negative: the short side is favoured). NaN in, NaN out.
 * @throws ConfigError when up or down is not positive.
 * @example binaryKelly(0.55, 0.02, 0.02) // 5 (= (2p - 1) / 0.02)
 */
export function binaryKelly(p: number, up: number, down: number): number {
  if (!(up > 0) || !(down > 0)) throw new ConfigError('payoffs up and down must be positive', { key: 'up', value: { up, down } });
  return p / down - (1 - p) / up;
}

/**
 * The engine's inputs that make its Kelly sizing (`fraction * mu / sigma^2`) hold the binary
 * Kelly position of each calibrated probability: sigma_t = the bet's loss distance `down_t`
 * (the risk per unit), mu_t = f*_t sigma_t^2. `valid` is 0 where p or the payoffs are NaN, so
 * the engine holds instead of trading there (and counts it). The engine floors sigma at its
 * `sigmaFloor`: keep that floor at or below the loss distances, or the position shrinks.
 * @throws DataError when the arrays' lengths differ.
 * @example kellySignals(pCal, barrier, barrier) // { mu, sigma, valid } for runBacktest's kelly sizing
 */
export function kellySignals(p: Float64Array, up: Float64Array, down: Float64Array): { mu: Float64Array; sigma: Float64Array; valid: Uint8Array } {
  const n = p.length;
  if (up.length !== n || down.length !== n) throw new DataError('probabilities and payoffs must have the same length', { key: 'up', value: { p: n, up: up.length, down: down.length } });
  const mu = new Float64Array(n);
  const sigma = new Float64Array(n).fill(1);
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const q = p[i]!;
    const u = up[i]!;
    const d = down[i]!;
    if (!Number.isFinite(q) || !(u > 0) || !(d > 0)) continue;
    sigma[i] = d;
    mu[i] = binaryKelly(q, u, d) * d * d;
    valid[i] = 1;
  }
  return { mu, sigma, valid };
}
