/**
 * Gradient-boosted trees: histogram training on typed arrays, prediction, feature importance,
 * and XGBoost's JSON model format in both directions.
 */
export { quantileCuts, binMatrix, MISSING_BIN, MAX_VALUE_BINS, type BinCuts, type BinnedMatrix } from './binning';
export {
  predictGbdt,
  predictGbdtMargin,
  baseMargin,
  transformMargin,
  OBJECTIVE_NAMES,
  type GbdtModel,
  type Tree as GbdtTree,
  type Objective as GbdtObjective,
  type ObjectiveName,
} from './model';
export { trainGbdt, gbdtMetric, type TrainParams, type TrainData, type TrainResult } from './train';
export { featureImportance, IMPORTANCE_TYPES, type ImportanceType } from './importance';
export { parseXgboostJson, loadXgboostModel, toXgboostJson, saveXgboostModel } from './xgboostJson';
