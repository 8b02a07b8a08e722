/**
 * From sampled price paths and realised prices to the inputs of both
 * calibration diagrams: (pUp, outcome) pairs for the reliability diagram and
 * PIT values for the PIT histogram.
 */
import { DataError } from '../../core/errors';
import { pitFromSamples, type PitMethod } from '../../calibration/pit';
import { checkFinite, checkInteger, type Numbers } from '../../calibration/validate';
import { probAboveAtStep, probStdError, sideOf } from './stats';

/** Input of {@link pathsToCalibration}. */
export interface PathsInput {
  /** Sampled price paths, row-major [forecasts, paths, steps] (the Forecast `samples` layout). */
  paths: Float32Array | Float64Array | ArrayLike<number>;
  /** `[forecasts, paths, steps]`. */
  shape: readonly [number, number, number];
  /** Price at forecast time, one per forecast: "up" means above it. */
  lastPrice: Numbers;
  /** Realised price at the evaluated step, one per forecast. */
  realized: Numbers;
  /** 0-based step of the paths compared with `realized`; default the last step. */
  step?: number;
  /** PIT method; default `fraction`. */
  pit?: PitMethod;
}

/** Per forecast: the probability of up, whether it went up, and the PIT of the realised price. */
export interface PathsCalibration {
  /** Share of paths whose price at `step` is strictly above `lastPrice`. */
  pUp: Float64Array;
  /** 1 when the realised price is strictly above `lastPrice`, else 0 (the same rule as pUp). */
  outcome: Float64Array;
  /** Monte-Carlo standard error of pUp from the finite number of paths, `sqrt(pUp (1 - pUp) / N)`. */
  pUpStdError: Float64Array;
  /** PIT of the realised price among the paths' prices at `step`. */
  pit: Float64Array;
  /** The step evaluated. */
  step: number;
}

/**
 * Turns sampled paths plus realised prices into (pUp, outcome) pairs and PIT values.
 *
 * For forecast i with paths `x_ij` at the evaluated step:
 * `pUp_i = #{j : x_ij > lastPrice_i} / N`, `outcome_i = 1{realized_i > lastPrice_i}`,
 * `pit_i = #{j : x_ij <= realized_i} / N` (or randomized). "Up" is strict for
 * both, so a flat bar (realised equal to the last price) is "not up" and
 * paths that end flat count against pUp alike: the pairs stay consistent.
 * Feed (pUp, outcome) to {@link reliabilityTable} and pit to {@link pitHistogram}.
 *
 * @throws DataError for a paths length that does not match the shape, lengths
 *   of lastPrice or realized other than the forecast count, or non-finite values.
 * @throws ConfigError for a bad shape or step.
 * @example
 * const r = pathsToCalibration({
 *   paths: [101, 102, 99, 100, 98, 97], shape: [1, 3, 2], lastPrice: [100], realized: [101],
 * }); // step 1: path ends 102, 100, 97
 * r.pUp;     // Float64Array [0.3333333]: one of three paths ends above 100
 * r.outcome; // Float64Array [1]
 * r.pit;     // Float64Array [0.6666667]: two of three path ends <= 101
 */
export function pathsToCalibration(input: PathsInput): PathsCalibration {
  const [nForecasts, nPaths, nSteps] = input.shape;
  checkInteger(nForecasts, 'shape[0] (forecasts)', 1);
  checkInteger(nPaths, 'shape[1] (paths)', 1);
  checkInteger(nSteps, 'shape[2] (steps)', 1);
  const step = input.step ?? nSteps - 1;
  checkInteger(step, 'step', 0);
  if (step >= nSteps) throw new DataError(`step ${step} is beyond the ${nSteps} steps of the paths`, { key: 'step', value: step });
  const { paths, lastPrice, realized } = input;
  if (paths.length !== nForecasts * nPaths * nSteps) {
    throw new DataError(`paths has ${paths.length} values, shape [${nForecasts}, ${nPaths}, ${nSteps}] needs ${nForecasts * nPaths * nSteps}`, { column: 'paths' });
  }
  if (lastPrice.length !== nForecasts) throw new DataError(`lastPrice has ${lastPrice.length} values for ${nForecasts} forecasts`, { column: 'lastPrice' });
  if (realized.length !== nForecasts) throw new DataError(`realized has ${realized.length} values for ${nForecasts} forecasts`, { column: 'realized' });
  checkFinite(lastPrice, 'lastPrice');
  checkFinite(realized, 'realized');

  // The prices at the evaluated step, [forecasts, paths]; pitFromSamples checks they are finite.
  const atStep = new Float64Array(nForecasts * nPaths);
  for (let i = 0; i < nForecasts; i++) {
    for (let j = 0; j < nPaths; j++) atStep[i * nPaths + j] = paths[(i * nPaths + j) * nSteps + step];
  }
  const pit = pitFromSamples(atStep, nPaths, realized, input.pit ?? { kind: 'fraction' });
  const pUp = new Float64Array(nForecasts);
  const outcome = new Float64Array(nForecasts);
  const pUpStdError = new Float64Array(nForecasts);
  for (let i = 0; i < nForecasts; i++) {
    const ref = lastPrice[i];
    // atStep is [forecasts, paths]: one step per path, forecast i at offset i * nPaths.
    const p = probAboveAtStep(atStep, nPaths, 1, ref, 0, i * nPaths);
    pUp[i] = p;
    pUpStdError[i] = probStdError(p, nPaths);
    outcome[i] = sideOf(realized[i], ref) > 0 ? 1 : 0; // the same "up" as pUp
  }
  return { pUp, outcome, pUpStdError, pit, step };
}
