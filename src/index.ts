/**
 * quantbook: the public surface of the library. Each area exports on purpose
 * from its own index.
 */
export * from './core';
export * from './stats';
export * from './calibration';
export { show, record, provenance } from './notebook';
export * from './data';
export * from './forecast';
export * from './backtest';
export * from './gbdt';
export * from './signal';
