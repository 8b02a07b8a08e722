/**
 * Shared numerics on plain numbers and typed arrays, imported by every domain
 * folder that needs them (forecast, calibration, backtest, ...) and by none of
 * them re-exported: order statistics and the one type-7 quantile, typed-array
 * sorting and binary search, the standard normal and the Student-t
 * distributions. Depends on nothing in quantbook.
 */
export { radixSortFloat64, orderStatistics, quantilesOf, quantileSorted, lowerBound, upperBound, stableOrder } from './order';
export type { RadixSorted } from './order';
export { normalCdf, normalPdf, normalQuantile } from './normal';
export { logGamma, regularizedBeta, studentTCdf, studentTPdf, studentTQuantile } from './studentT';
