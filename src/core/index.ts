export {
  QuantbookError,
  DataError,
  ModelError,
  ConfigError,
  NotebookError,
  OutputError,
  formatLocation,
} from './errors';
export type { ErrorLocation } from './errors';
export { dict, ownValue } from './dict';
export { fsProblem } from './fs';
export { pidAlive } from './process';
export {
  safeOutputName,
  safeOutputPath,
  checkOutputDir,
  checkOutputFile,
  writeFileAtomic,
  OutputBatch,
} from './output';
export { Rng } from './random';
export { VERSION } from './version';
export { basisPoints, percentText, roundSignificant, roundTo } from './format';
