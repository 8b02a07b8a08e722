export {
  QuantbookError,
  DataError,
  ModelError,
  ConfigError,
  NotebookError,
  formatLocation,
} from './errors';
export type { ErrorLocation } from './errors';
export { dict, ownValue } from './dict';
export { fsProblem } from './fs';
export { Rng } from './random';
export { VERSION } from './version';
