/**
 * Checks of a forecast request shared by every forecaster: window list, horizon,
 * sample count, and what a window holds (observed count, last observed close).
 */
import { ModelError } from '../core/errors';
import type { ContextBars, ForecastRequest, ForecasterInfo } from './types';

/**
 * The request's windows as an array (one window becomes a batch of one).
 * @throws ModelError when there is no window.
 * @example toWindows(new Float64Array([1, 2])).length // 1
 */
export function toWindows(context: ForecastRequest['context']): Float64Array[] {
  const windows = context instanceof Float64Array ? [context] : [...context];
  if (windows.length === 0) throw new ModelError('forecast request has no context window', { key: 'context' });
  windows.forEach((w, i) => {
    if (!(w instanceof Float64Array)) {
      throw new ModelError(`context window ${i} must be a Float64Array of closes`, { key: 'context', row: i });
    }
  });
  return windows;
}

/**
 * Checks the horizon against what the forecaster can produce.
 * @throws ModelError when `horizon` is not an integer in [1, info.maxHorizon].
 * @example checkHorizon(40, model.info) // throws ModelError when model.info.maxHorizon is 32
 */
export function checkHorizon(horizon: number, info: ForecasterInfo): void {
  if (!Number.isInteger(horizon) || horizon < 1) {
    throw new ModelError('horizon must be a positive integer number of bars', { key: 'horizon', value: horizon });
  }
  if (horizon > info.maxHorizon) {
    throw new ModelError(
      `horizon ${horizon} is beyond ${info.name}'s ${info.maxHorizon} bars; ask for at most ${info.maxHorizon}`,
      { key: 'horizon', value: horizon },
    );
  }
}

/**
 * Number of sampled paths asked for.
 * @throws ModelError when `samples` is not a non-negative integer.
 * @example checkSamples(undefined, 100) // 100
 */
export function checkSamples(samples: number | undefined, fallback: number): number {
  const n = samples ?? fallback;
  if (!Number.isInteger(n) || n < 0) throw new ModelError('samples must be a non-negative integer', { key: 'samples', value: n });
  return n;
}

/**
 * The checks every sampling forecaster runs first, in this order: the windows
 * ({@link toWindows}), the horizon ({@link checkHorizon}), the sample count
 * ({@link checkSamples}, at least 1: a sampler has no quantiles without paths) and what each
 * window holds ({@link checkWindows}).
 * @param who how errors name the forecaster, e.g. `'Kronos'` ("Kronos forecasts by sampling").
 * @param fallbackSamples paths when the request names none.
 * @returns the windows and the number of paths per window.
 * @throws ModelError on any failed check, with the key (and row) at fault.
 * @example const { windows, n } = checkSamplingRequest(request, this.info, 100, 'Toto');
 */
export function checkSamplingRequest(
  request: ForecastRequest,
  info: ForecasterInfo,
  fallbackSamples: number,
  who: string,
): { windows: Float64Array[]; n: number } {
  const windows = toWindows(request.context);
  checkHorizon(request.horizon, info);
  const n = checkSamples(request.samples, fallbackSamples);
  if (n < 1) throw new ModelError(`${who} forecasts by sampling: ask for samples >= 1`, { key: 'samples', value: n });
  checkWindows(windows, info);
  return { windows, n };
}

/**
 * Count of finite values in a window.
 * @example observedCount(new Float64Array([1, NaN, 3])) // 2
 */
export function observedCount(window: Float64Array): number {
  let n = 0;
  for (let i = 0; i < window.length; i++) if (Number.isFinite(window[i])) n++;
  return n;
}

/**
 * Index of the last finite value, or -1.
 * @example lastObservedIndex(new Float64Array([1, 2, NaN])) // 1
 */
export function lastObservedIndex(window: Float64Array): number {
  for (let i = window.length - 1; i >= 0; i--) if (Number.isFinite(window[i])) return i;
  return -1;
}

/**
 * Why a window cannot be forecast by a forecaster needing `minContext` observed
 * closes, or null when it can. NaN-only windows and short windows differ: only
 * the latter may go to a fallback.
 * @example windowProblem(new Float64Array([1, 2]), 5)?.kind // 'short'
 */
export function windowProblem(window: Float64Array, minContext: number): { kind: 'empty' | 'short'; message: string } | null {
  const n = observedCount(window);
  if (n === 0) return { kind: 'empty', message: 'window has no observed close (all NaN or empty): pass bars with prices' };
  if (n < minContext) {
    return { kind: 'short', message: `window has ${n} observed closes, fewer than the ${minContext} required: pass a longer window or configure a fallback` };
  }
  return null;
}

/**
 * Throws on windows that are NaN-only or too short.
 * @throws ModelError naming the window (row) and what to fix.
 * @example checkWindows([new Float64Array([NaN])], info) // throws: window has no observed close
 */
export function checkWindows(windows: Float64Array[], info: ForecasterInfo): void {
  windows.forEach((w, i) => {
    const problem = windowProblem(w, info.minContext);
    if (problem) throw new ModelError(`${info.name}: ${problem.message}`, { key: 'context', row: i });
  });
}

/**
 * The last `length` values of a window (a view, no copy).
 * @example tail(new Float64Array([1, 2, 3]), 2) // Float64Array [2, 3]
 */
export function tail(window: Float64Array, length: number): Float64Array {
  return window.length <= length ? window : window.subarray(window.length - length);
}

/** A series' bars on its grid beyond the closes, full length, aligned with its closes (NaN where missing). */
export interface SeriesBars {
  /** Bar open times, ms UTC (grid times also where a bar is missing). */
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  volume?: Float64Array;
}

/**
 * The `contextBars` of windows [from, to) of a series (views, nothing copied), or undefined without bars.
 * @example barsOfWindows(bars, [[0, 512]])!.open // [bars.open.subarray(0, 512)]
 */
export function barsOfWindows(bars: SeriesBars | undefined, spans: readonly (readonly [number, number])[]): ContextBars | undefined {
  if (!bars) return undefined;
  const cut = (a: Float64Array) => spans.map(([from, to]) => a.subarray(from, to));
  return { timeMs: cut(bars.ts), open: cut(bars.open), high: cut(bars.high), low: cut(bars.low), ...(bars.volume ? { volume: cut(bars.volume) } : {}) };
}
