/**
 * Point forecasts from samples: mean, median, trimmed and winsorized means and
 * quantiles, selectable by name strings so configs can name them
 * (`mean`, `median`, `trimmed_mean_5`, `winsorized_mean_10`, `quantile_0.50`).
 */
import { ConfigError } from '../core/errors';
import { quantileSorted } from '../stats/order';
import type { Tensor3 } from './types';

/** A parsed aggregate; `p` is the share cut (trimmed) or clamped (winsorized) in each tail, in [0, 0.5). */
export type Aggregate =
  | { kind: 'mean' }
  | { kind: 'median' }
  | { kind: 'trimmedMean'; p: number }
  | { kind: 'winsorizedMean'; p: number }
  | { kind: 'quantile'; q: number };

/**
 * Parses an aggregate name. `trimmed_mean_5` and `winsorized_mean_10` take percent
 * per tail (0 <= pct < 50); a bare `winsorized_mean` means `winsorized_mean_10` (the common
 * 10% per tail); `quantile_0.50` takes a level in [0, 1].
 * @throws ConfigError on any other name.
 * @example parseAggregate('trimmed_mean_5') // { kind: 'trimmedMean', p: 0.05 }
 */
export function parseAggregate(name: string): Aggregate {
  if (name === 'mean') return { kind: 'mean' };
  if (name === 'median') return { kind: 'median' };
  if (name === 'winsorized_mean') return { kind: 'winsorizedMean', p: 0.1 };
  const tail = /^(trimmed|winsorized)_mean_(\d+(?:\.\d+)?)$/.exec(name);
  if (tail) {
    const pct = Number(tail[2]);
    if (pct >= 50) throw new ConfigError('the tail percentage of a trimmed or winsorized mean must be below 50', { key: 'aggregate', value: name });
    return tail[1] === 'trimmed' ? { kind: 'trimmedMean', p: pct / 100 } : { kind: 'winsorizedMean', p: pct / 100 };
  }
  const q = /^quantile_(\d*\.?\d+)$/.exec(name);
  if (q && Number(q[1]) <= 1) return { kind: 'quantile', q: Number(q[1]) };
  throw new ConfigError(
    'unknown aggregate: use mean, median, trimmed_mean_P, winsorized_mean_P (P percent per tail), winsorized_mean (= winsorized_mean_10) or quantile_Q (0..1)',
    { key: 'aggregate', value: name },
  );
}

/**
 * Mean after dropping floor(p n) values from each end of sorted values.
 * @example trimmedMeanSorted(new Float64Array([0, 1, 2, 3, 100]), 0.2) // 2
 */
export function trimmedMeanSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const k = Math.floor(p * n);
  let s = 0;
  for (let i = k; i < n - k; i++) s += sorted[i];
  return s / (n - 2 * k);
}

/**
 * Mean after clamping the floor(p n) values of each tail to the nearest kept value.
 * @example winsorizedMeanSorted(new Float64Array([0, 1, 2, 3, 100]), 0.2) // 2
 */
export function winsorizedMeanSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const k = Math.floor(p * n);
  let s = 0;
  for (let i = 0; i < n; i++) s += sorted[Math.min(Math.max(i, k), n - 1 - k)];
  return s / n;
}

/**
 * Applies an aggregate to sorted values.
 * @example aggregateSorted([1, 2, 10], { kind: 'median' }) // 2
 */
export function aggregateSorted(sorted: ArrayLike<number>, agg: Aggregate): number {
  switch (agg.kind) {
    case 'mean':
      return trimmedMeanSorted(sorted, 0);
    case 'median':
      return quantileSorted(sorted, 0.5);
    case 'trimmedMean':
      return trimmedMeanSorted(sorted, agg.p);
    case 'winsorizedMean':
      return winsorizedMeanSorted(sorted, agg.p);
    case 'quantile':
      return quantileSorted(sorted, agg.q);
  }
}

/**
 * Aggregates samples [B, N, H] over N into a point forecast [B, H] (row-major Float64Array).
 * @param aggregate - an `Aggregate` or its name (`median`, `trimmed_mean_5`, ...).
 * @throws ConfigError on an unknown name.
 * @example aggregateSamples({ data: new Float64Array([1, 3, 2]), dims: [1, 3, 1] }, 'mean') // Float64Array [2]
 */
export function aggregateSamples(samples: Tensor3, aggregate: Aggregate | string): Float64Array {
  const agg = typeof aggregate === 'string' ? parseAggregate(aggregate) : aggregate;
  const [b, n, h] = samples.dims;
  const out = new Float64Array(b * h);
  const column = new Float64Array(n);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < h; k++) {
      for (let j = 0; j < n; j++) column[j] = samples.data[(i * n + j) * h + k];
      column.sort();
      out[i * h + k] = aggregateSorted(column, agg);
    }
  }
  return out;
}
