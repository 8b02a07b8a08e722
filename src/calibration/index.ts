/**
 * Calibration of probabilistic forecasts: reliability tables, proper scores,
 * consistency bands, recalibration (isotonic, Platt, walk-forward), PIT,
 * interval coverage and quantile recalibration. Kernels on typed arrays.
 */
export { BIN_STRATEGIES, assignBins, binEdges, quantileEdges, uniformEdges } from './bins';
export type { BinStrategy } from './bins';
export { reliabilityBins, reliabilityTable } from './reliability';
export type { ReliabilityBin, ReliabilityOptions, ReliabilityTable } from './reliability';
export { wilsonInterval, Z95 } from './wilson';
export { brierDecomposition, brierScore } from './brier';
export type { BrierDecomposition, BrierTerms } from './brier';
export { LOG_LOSS_CLIP, logLoss, logLossClippedCount } from './logloss';
export type { LogLossOptions } from './logloss';
export { ece, eceEqualMass, mce } from './ece';
export { calibrationSummary, scoresOf } from './summary';
export type { CalibrationScores, CalibrationSummary, SummaryOptions } from './summary';
export { consistencyBands } from './consistency';
export type { ConsistencyBand, ConsistencyOptions } from './consistency';
export { fitIsotonic, predictIsotonic } from './isotonic';
export type { IsotonicModel, IsotonicOptions, OutOfBounds } from './isotonic';
export { fitPlatt, predictPlatt } from './platt';
export type { PlattModel, PlattOptions } from './platt';
export { CALIBRATION_METHODS, LOGIT_CLIP, applyCalibrator, fitCalibrator, logit } from './calibrator';
export type { Calibrator, CalibratorSpec, PlattInput } from './calibrator';
export { walkForwardRecalibration } from './walkforward';
export type { TrainingWindow, WalkForwardBlock, RecalibrationWalkForwardOptions, RecalibrationWalkForwardResult } from './walkforward';
export { pitFromQuantiles, pitFromSamples, pitHistogram } from './pit';
export type { PitHistogram, PitMethod } from './pit';
export { DEFAULT_COVERAGE_LEVELS, coverageFromQuantiles, coverageFromSamples } from './coverage';
export type { CoverageRow } from './coverage';
export { fitQuantileRecalibration, recalibratePit, recalibratedLevel } from './quantileRecalibration';
export type { QuantileRecalibration } from './quantileRecalibration';
