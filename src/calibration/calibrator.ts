/**
 * Recalibrators of probabilities behind one interface: fit on (p, outcome)
 * pairs, apply to new probabilities. Used by walk-forward recalibration and the
 * `quantbook calibrate --method` command.
 */
import { ConfigError } from '../core/errors';
import { fitIsotonic, predictIsotonic, type IsotonicModel } from './isotonic';
import { fitPlatt, predictPlatt, type PlattModel } from './platt';
import { checkBinaryForecasts, checkProbabilities, toFloat64, type InputNames, type Numbers } from './validate';

/**
 * What to fit. Isotonic maps p to the observed frequency by a monotone step
 * function (bounded to [0, 1], clipped outside the fitted range). Platt fits a
 * logistic map on `logit(p)` (default: the identity map is reachable, A = -1,
 * B = 0) or on `p` itself (scikit-learn's `CalibratedClassifierCV` with
 * `predict_proba` does that).
 */
export type CalibratorSpec = { kind: 'isotonic' } | { kind: 'platt'; input?: PlattInput };

/** The score Platt scaling sees: `logit` of the probability, or the `probability` itself. */
export type PlattInput = 'logit' | 'probability';

/** A fitted probability recalibrator. */
export type Calibrator = { kind: 'isotonic'; model: IsotonicModel } | { kind: 'platt'; input: PlattInput; model: PlattModel };

/** The recalibration methods, for CLI choices. */
export const CALIBRATION_METHODS = ['isotonic', 'platt'] as const;

/**
 * Probabilities are clipped to [1e-15, 1 - 1e-15] before `logit`, so 0 and 1
 * map to -34.5 and +34.5 instead of infinities (the same clip as the log loss).
 */
export const LOGIT_CLIP = 1e-15;

/**
 * `ln(p / (1 - p))` of every probability, clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP] first.
 * @example
 * logit([0.5, 0.75]); // Float64Array [0, 1.0986123]
 */
export function logit(p: Numbers): Float64Array {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - LOGIT_CLIP, Math.max(LOGIT_CLIP, p[i]));
    out[i] = Math.log(q) - Math.log1p(-q);
  }
  return out;
}

/**
 * Fits a recalibrator of probabilities `p` to outcomes `y`.
 * @throws DataError for bad probabilities or outcomes, or different lengths.
 * @throws ConfigError for an unknown method or Platt input.
 * @example
 * const cal = fitCalibrator({ kind: 'isotonic' }, [0.2, 0.4, 0.6, 0.8], [0, 1, 0, 1]);
 * applyCalibrator(cal, [0.5]); // Float64Array [0.5]
 */
export function fitCalibrator(spec: CalibratorSpec, p: Numbers, y: Numbers, names?: InputNames): Calibrator {
  checkBinaryForecasts(p, y, names);
  switch (spec.kind) {
    case 'isotonic':
      return { kind: 'isotonic', model: fitIsotonic(p, y, { yMin: 0, yMax: 1, outOfBounds: 'clip' }) };
    case 'platt': {
      const input = spec.input ?? 'logit';
      if (input !== 'logit' && input !== 'probability') {
        throw new ConfigError("Platt input must be 'logit' or 'probability'", { key: 'input', value: input });
      }
      return { kind: 'platt', input, model: fitPlatt(input === 'logit' ? logit(p) : toFloat64(p), y) };
    }
    default:
      throw new ConfigError(`unknown calibration method (use ${CALIBRATION_METHODS.join(' or ')})`, {
        key: 'method',
        value: (spec as { kind: unknown }).kind,
      });
  }
}

/**
 * Recalibrated probabilities from a fitted recalibrator.
 * @throws DataError for probabilities outside [0, 1] or NaN.
 * @example
 * applyCalibrator({ kind: 'platt', input: 'logit', model: { kind: 'platt', a: -1, b: 0, iterations: 0, converged: true, loss: 0 } }, [0.3]);
 * // Float64Array [0.3] (the identity map)
 */
export function applyCalibrator(calibrator: Calibrator, p: Numbers, names?: InputNames): Float64Array {
  checkProbabilities(p, names);
  if (calibrator.kind === 'isotonic') return predictIsotonic(calibrator.model, p);
  return predictPlatt(calibrator.model, calibrator.input === 'logit' ? logit(p) : p);
}
