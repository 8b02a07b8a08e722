import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { adoptBarArrays, arraysToBars, barsToArrays, concatBars, eachSymbol, symbolRuns, type BarArrays } from '../../src/data/bars';

const one = (symbol: string, n: number, px: number): BarArrays => ({
  symbol,
  ts: Float64Array.from({ length: n }, (_, i) => i * 60_000),
  open: new Float64Array(n).fill(px),
  high: new Float64Array(n).fill(px + 1),
  low: new Float64Array(n).fill(px - 1),
  close: Float64Array.from({ length: n }, (_, i) => px + i),
  volume: new Float64Array(n).fill(1),
});

describe('per-symbol iteration', () => {
  it('contiguous symbols give runs; interleaved ones do not, and still iterate per symbol', () => {
    const bars = arraysToBars([one('A', 3, 10), one('B', 2, 20)]);
    expect(symbolRuns(bars)).toEqual([{ symbol: 'A', start: 0, length: 3 }, { symbol: 'B', start: 3, length: 2 }]);
    const interleaved = bars.sort('ts');
    expect(symbolRuns(interleaved)).toBeUndefined();
    const seen = [...eachSymbol(interleaved)].map(({ arrays }) => [arrays.symbol, Array.from(arrays.close)]);
    expect(seen).toEqual([['A', [10, 11, 12]], ['B', [20, 21]]]);
  });

  it('adopted arrays are what eachSymbol hands out, and they match the frame', () => {
    const a = one('A', 4, 10);
    const b = one('B', 2, 20);
    const frame = concatBars([adoptBarArrays(a), adoptBarArrays(b)]);
    const parts = [...eachSymbol(frame)];
    expect(parts[0].arrays.close).toBe(a.close); // no copy back out of polars
    for (const { bars: part, arrays } of parts) {
      const fresh = barsToArrays(part);
      expect(arrays).toEqual(fresh);
    }
    // a derived frame is a new object: its arrays are read from polars again
    const later = frame.filter(pl.col('close').gt(10));
    expect([...eachSymbol(later)][0].arrays.close).toEqual(Float64Array.from([11, 12, 13]));
  });
});
