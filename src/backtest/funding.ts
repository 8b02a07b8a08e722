/**
 * Funding series of perpetuals, checked and walked by the engine in time order.
 */
import { ConfigError, DataError } from '../core/errors';
import type { InstrumentClassName } from './config';
import type { FundingSeries } from './result';

/** A funding series with the engine's cursor. */
export interface FundingCursor {
  symbol: number;
  ts: Float64Array;
  rate: Float64Array;
  next: number;
}

/**
 * Checks funding series against the symbols (known, of class perp, increasing times,
 * finite rates) and returns cursors for the engine.
 * @throws ConfigError for an unknown or non-perpetual symbol; DataError for bad series.
 * @example prepareFunding({ XRP: { ts, rate } }, ['XRP'], ['perp'])[0].symbol; // 0
 */
export function prepareFunding(funding: Readonly<Record<string, FundingSeries>>, symbols: readonly string[], classes: InstrumentClassName[]): FundingCursor[] {
  return Object.entries(funding).map(([sym, f]) => {
    const s = symbols.indexOf(sym);
    if (s < 0) throw new ConfigError(`funding series for ${sym}, which is not among the symbols`, { key: 'funding', symbol: sym });
    if (classes[s] !== 'perp') throw new ConfigError(`funding series for ${sym}, whose class is ${classes[s]}, not perp`, { key: `instruments.${sym}`, symbol: sym });
    if (f.ts.length !== f.rate.length) throw new DataError('funding ts and rate lengths differ', { symbol: sym, value: [f.ts.length, f.rate.length] });
    for (let i = 0; i < f.ts.length; i++) {
      if (!Number.isFinite(f.rate[i])) throw new DataError('funding rate must be finite', { symbol: sym, row: i, column: 'rate', value: f.rate[i] });
      if (i > 0 && !(f.ts[i] > f.ts[i - 1])) throw new DataError('funding times must be strictly increasing', { symbol: sym, row: i, column: 'ts', value: f.ts[i] });
    }
    return { symbol: s, ts: f.ts, rate: f.rate, next: 0 };
  });
}

/**
 * The funding rate in force at each time: the last rate published at or before `ts[t]` (NaN before
 * the first), one forward pass over both sorted series.
 * @example fundingAtTimes({ ts: Float64Array.of(0, 8), rate: Float64Array.of(1e-4, 2e-4) }, [1, 9])[1] // 2e-4
 */
export function fundingAtTimes(rates: FundingSeries, ts: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ts.length).fill(Number.NaN);
  for (let t = 0, k = -1; t < ts.length; t++) {
    while (k + 1 < rates.ts.length && rates.ts[k + 1] <= ts[t]) k++;
    if (k >= 0) out[t] = rates.rate[k];
  }
  return out;
}
