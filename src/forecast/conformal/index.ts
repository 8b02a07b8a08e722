/**
 * The conformal layer (`--calibrate conformal`): wraps any forecaster and adjusts its quantiles
 * online from the outcomes it has seen (./layer: the stream state and recursion; ./levels: the
 * level-space helpers it reads the wrapped distribution with).
 */
export { ConformalForecaster, withCalibration, CALIBRATIONS } from './layer';
export type { ConformalOptions, ConformalMeta } from './layer';
export { midRankQuantile } from './levels';
