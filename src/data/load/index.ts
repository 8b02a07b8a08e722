export { loadBars, loadIpc, loadParquet, loadCsv, loadJson, readFrame, formatOfPath, type LoadOptions, type BarFormat } from './files';
export { loadBarsDir, symbolFromFileName, type DirOptions } from './dir';
export { loadableFiles } from './listing';
export { klinesToBars, alpacaPagesToBars, jsonTextToBars, type AlpacaPage } from './json';
export { normalizeBars, type NormalizeOptions, type ColumnMap } from './normalize';
export { parseTimestampStrings, epochToMs, timestampColumnToMs, type TimestampFormat, type TimestampContext } from './timestamps';
export { loadFundingRates, fundingToArrays, fundingCoverage, type FundingRates, type FundingArrays, type FundingOptions, type FundingCoverage } from './funding';
