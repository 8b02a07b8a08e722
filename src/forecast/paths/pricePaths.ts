/**
 * Sampled price paths of one forecast window as flat typed arrays, the input of
 * every path statistic, and their checks.
 */
import { ModelError } from '../../core/errors';
import type { Forecast } from '../types';

/**
 * N sampled paths of H steps, row-major: path j's step h (0-based) is `close[j * horizon + h]`.
 * `high` / `low`, when the forecaster samples them, have the same layout.
 */
export interface PricePaths {
  close: Float64Array;
  high?: Float64Array;
  low?: Float64Array;
  n: number;
  horizon: number;
}

/**
 * The paths of window `window` of a forecast, as views on its `samples` (and
 * `samplesHighLow`) tensors: nothing is copied.
 * @throws ModelError when the forecast has no samples or the window is out of range.
 * @example pricePathsOf(await model.forecast({ context, horizon: 30, samples: 100 })).n // 100
 */
export function pricePathsOf(forecast: Forecast, window = 0): PricePaths {
  const s = forecast.samples;
  if (!s) throw new ModelError(`${forecast.meta.model} returned no sampled paths: ask for samples > 0`, { key: 'samples' });
  const [b, n, horizon] = s.dims;
  if (!Number.isInteger(window) || window < 0 || window >= b) throw new ModelError(`window ${window} is not in the forecast's ${b} windows`, { key: 'window', value: window });
  const from = window * n * horizon;
  const to = from + n * horizon;
  const hl = forecast.samplesHighLow;
  return {
    close: s.data.subarray(from, to),
    ...(hl ? { high: hl.high.data.subarray(from, to), low: hl.low.data.subarray(from, to) } : {}),
    n,
    horizon,
  };
}

/**
 * Checks paths before statistics are taken from them: shape (N >= 1, H >= 1, arrays of
 * N x H), every price finite and > 0, and, with highs and lows, low <= close <= high.
 * @throws ModelError naming the path (row, 0-based) and step (column `close_h`, 1-based).
 * @example validatePricePaths({ close: Float64Array.of(1, NaN), n: 1, horizon: 2 }) // throws: path 0 step 2 close is NaN
 */
export function validatePricePaths(p: PricePaths): void {
  const { n, horizon } = p;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(horizon) || horizon < 1) {
    throw new ModelError(`paths need N >= 1 and H >= 1, got (${n}, ${horizon})`, { key: 'samples', value: [n, horizon] });
  }
  const size = n * horizon;
  for (const [name, arr] of [['close', p.close], ['high', p.high], ['low', p.low]] as const) {
    if (arr !== undefined && arr.length !== size) {
      throw new ModelError(`${name} paths have ${arr.length} values, shape (${n}, ${horizon}) needs ${size}`, { key: name, value: arr.length });
    }
  }
  if ((p.high === undefined) !== (p.low === undefined)) throw new ModelError('sampled highs and lows come together: got only one of them', { key: p.high ? 'low' : 'high' });
  const { close, high, low } = p;
  for (let i = 0; i < size; i++) {
    const c = close[i];
    if (!(c > 0) || c === Infinity) throw pathError('close', c, i, horizon, 'is not a positive finite price');
    if (high && low) {
      const hi = high[i];
      const lo = low[i];
      if (!(hi > 0) || hi === Infinity) throw pathError('high', hi, i, horizon, 'is not a positive finite price');
      if (!(lo > 0) || lo === Infinity) throw pathError('low', lo, i, horizon, 'is not a positive finite price');
      if (lo > c || c > hi) throw pathError('close', c, i, horizon, `is outside its bar's range [${lo}, ${hi}]`);
    }
  }
}

function pathError(column: string, value: number, i: number, horizon: number, what: string): ModelError {
  const path = Math.floor(i / horizon);
  const step = (i % horizon) + 1;
  return new ModelError(`sampled path ${path}, step ${step}: ${column} ${value} ${what}`, { row: path, column: `${column}_${step}`, value });
}
