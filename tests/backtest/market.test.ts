import { describe, expect, it } from 'vitest';
import { alignSeries, marketFromBars, symbolCloses } from '../../src/backtest/market';
import { DataError } from '../../src/core/errors';
import { barsToArraysBySymbol, loadBars } from '../../src/data';
import { realData } from '../support/paths';

describe('symbolCloses', () => {
  const bar = (ts: number[], close: number[]) => ({ ts, open: close, high: close, low: close, close });
  const m = alignSeries([
    { symbol: 'A', ...bar([0, 60_000, 120_000], [1, 2, 3]) },
    { symbol: 'B', ...bar([60_000], [5]) },
  ]);

  it('takes one symbol out of the bar-major arrays, by name or position, NaN where it has no bar', () => {
    expect(Array.from(symbolCloses(m, 'A'))).toEqual([1, 2, 3]);
    expect(Array.from(symbolCloses(m, 1))).toEqual([NaN, 5, NaN]);
    expect(Array.from(symbolCloses(m, 'B'))).toEqual(Array.from(symbolCloses(m, 1)));
    // A copy, not a view of the market's arrays.
    symbolCloses(m, 'A')[0] = 99;
    expect(m.close[0]).toBe(1);
  });

  it('names the symbols it has when asked for another', () => {
    expect(() => symbolCloses(m, 'C')).toThrow(DataError);
    expect(() => symbolCloses(m, 'C')).toThrow(/symbol C is not in the market \(symbols: A, B\)/);
    expect(() => symbolCloses(m, 2)).toThrow(DataError);
    expect(() => symbolCloses(m, -1)).toThrow(DataError);
  });

  it('gives back each recorded pair\'s own closes, at its own bar times', () => {
    const bars = loadBars(realData('crypto-5m'));
    const market = marketFromBars(bars);
    const bySymbol = barsToArraysBySymbol(bars);
    expect(market.symbols.length).toBe(8);
    for (const symbol of market.symbols) {
      const own = bySymbol.get(symbol)!;
      const closes = symbolCloses(market, symbol);
      expect(closes.length).toBe(market.ts.length);
      const observed = Array.from(market.ts).filter((_, i) => !Number.isNaN(closes[i]));
      expect(observed).toEqual(Array.from(own.ts));
      expect(Array.from(closes).filter((c) => !Number.isNaN(c))).toEqual(Array.from(own.close));
    }
  });
});
