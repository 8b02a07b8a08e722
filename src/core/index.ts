export {
  QuantbookError,
  DataError,
  ModelError,
  ConfigError,
  NotebookError,
  formatLocation,
} from './errors';
export type { ErrorLocation } from './errors';
export { Rng } from './random';
export { VERSION } from './version';
