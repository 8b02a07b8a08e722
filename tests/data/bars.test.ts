import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { adoptBarArrays, arraysToBars, barsToArrays, concatBars, eachSymbol, symbolRuns, tsSeries, type BarArrays } from '../../src/data/bars';

const one = (symbol: string, n: number, px: number): BarArrays => ({
  symbol,
  ts: Float64Array.from({ length: n }, (_, i) => i * 60_000),
  open: new Float64Array(n).fill(px),
  high: new Float64Array(n).fill(px + 1),
  low: new Float64Array(n).fill(px - 1),
  close: Float64Array.from({ length: n }, (_, i) => px + i),
  volume: new Float64Array(n).fill(1),
});

describe('timestamps into polars', () => {
  it('round-trips ms timestamps, negative and far-future included', () => {
    const ts = Float64Array.from([-86_400_000 * 365 * 50 - 1, -1, 0, 1, Date.UTC(2024, 2, 10, 7), 4_102_444_800_000 + 123]);
    const s = tsSeries(ts);
    expect(s.dtype.equals(pl.Datetime('ms', 'UTC'))).toBe(true);
    expect(Array.from(s.cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array)).toEqual(Array.from(ts));
  });
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

  it('a frame of several chunks (row groups of a Parquet file) gives the same arrays, copied symbol by symbol', () => {
    // two symbols of 60 000 bars (the per-symbol copy needs 50 000 rows per symbol), chunks cut across both
    const a = one('A', 60_000, 10);
    const b = one('B', 60_000, 20);
    const volume = Array.from(b.volume, (v, i): number | null => (i === 5 ? null : v));
    const whole = arraysToBars([a, b]).rechunk().withColumn(pl.Series('volume', [...a.volume, ...volume], pl.Float64));
    const cuts = [0, 20_000, 70_000, whole.height];
    const chunked = pl.concat(cuts.slice(1).map((end, i) => whole.slice(cuts[i], end - cuts[i])), { how: 'vertical', rechunk: false });
    expect(chunked.getColumn('close').nChunks()).toBe(3);
    const parts = [...eachSymbol(chunked)];
    expect(parts.map(({ arrays }) => arrays.symbol)).toEqual(['A', 'B']);
    for (const [i, x] of [a, b].entries()) {
      for (const c of ['ts', 'open', 'high', 'low', 'close'] as const) expect(parts[i].arrays[c]).toEqual(x[c]);
    }
    expect(parts[0].arrays.volume).toEqual(a.volume);
    expect(Number.isNaN(parts[1].arrays.volume[5])).toBe(true); // a null comes out as NaN, as on the whole-column path
    expect(parts[1].arrays.volume[6]).toBe(1);
  });
});
