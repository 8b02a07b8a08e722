export { BarStore, gapSummary, rowsToFrame, SERIES_COLUMNS, type CommitResult, type SeriesRows } from './store';
export {
  STORE_MANIFEST,
  assertStoreName,
  isStoreRoot,
  locateStore,
  monthOf,
  readManifest,
  seriesKey,
  storeFiles,
  type GapSummary,
  type SeriesEntry,
  type SeriesId,
  type SeriesKind,
  type StoreLocation,
  type StoreManifest,
} from './layout';
export { loadStoreBars, loadStoreFunding, toMs, type StoreQuery, type StoreFundingQuery } from './load';
export { mergeRanges, subtractRanges, rangesLength, type TimeRange } from './ranges';
