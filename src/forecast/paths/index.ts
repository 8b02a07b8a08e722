/**
 * Probabilistic price paths: statistics of sampled paths (P(up), expected return,
 * bands, barrier touches, drawdown and excursion), paths from quantiles through a
 * copula, forecast step times, and the 30-minute outlook pipeline.
 */
export { QuantileCurve, probAboveFromQuantiles, rearrangeQuantiles, DEFAULT_QUANTILE_CURVE } from './quantileCurve';
export type { QuantileCurveOptions, QuantileInterpolation, QuantileTails } from './quantileCurve';
export { pathsFromQuantiles } from './copula';
export type { QuantilePathDependence, QuantilePathOptions, QuantilePaths } from './copula';
export { pricePathsOf, validatePricePaths } from './pricePaths';
export type { PricePaths } from './pricePaths';
export { pathStatistics, barrierStats, probAboveAtStep, probStdError, stepPercentiles, sideOf, FLAT_TOLERANCE } from './stats';
export type { Barrier, BarrierStats, PathDistribution, PathStats, PathStatsOptions } from './stats';
export { forecastStepTimes, validateStepTimes, sessionBreaks } from './stepTimes';
export { prepareOutlook, warmUpStatus } from './prepare';
export type { PrepareOptions, PreparedOutlook, WarmUp } from './prepare';
export { forecastOutlook, quietWindowsHit } from './pathOutlook';
export type { OutlookOptions, PathOutlook, QuietWindow } from './pathOutlook';
export { outlookSummary, formatOutlookSummary, pathsCsv, fileStamp } from './summary';
export type { OutlookSummary, SessionChoice, SummaryContext } from './summary';
export { calibrateBridge, bridgeExtremes } from './extremes';
export type { BridgeCalibration } from './extremes';
export { vwapTouchReliability } from './touchReliability';
export { pathsToCalibration } from './calibration';
export type { PathsCalibration, PathsInput } from './calibration';
export type { TouchReliability, TouchReliabilityOptions } from './touchReliability';
export { calibrationPairs } from './calibrationPairs';
export type { CalibrationPairOptions, CalibrationPairs } from './calibrationPairs';
