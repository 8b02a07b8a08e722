/**
 * The market-data layer: load, validate, normalise to UTC, sessions, gaps,
 * resample, VWAP, returns, splits, and the seeded synthetic market.
 */
export * from './bars';
export * from './interval';
export { tzOffsetMs, wallToUtcMs, assertTimeZone, type AmbiguousTime } from './tz';
export * from './load';
export * from './sessions';
export * from './synthetic';
export * from './validate';
export * from './gaps';
export * from './resample';
export * from './features';
export * from './splits';
export * from './dataset';
export * from './write';
export * from './inspect';
export * from './store';
export * from './fetch';
