import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { adoptBarArrays, adoptSymbolBlocks, allocSymbolBlocks, arraysToBars, barsToArrays, chainSeries, concatBars, eachSymbol, symbolColumnFromRuns, symbolRuns, tsSeries, type BarArrays, type SymbolBlocks } from '../../src/data/bars';

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
    const full = arraysToBars([a, b]).rechunk();
    const v = full.getColumn('volume');
    const volume = pl.concat([v.slice(0, 60_005), pl.Series('volume', [null], pl.Float64), v.slice(60_006, 59_994)]) as unknown as pl.Series;
    const whole = full.withColumn(volume);
    const cuts = [0, 20_000, 70_000, whole.height];
    const chunked = pl.concat(cuts.slice(1).map((end, i) => whole.slice(cuts[i], end - cuts[i])), { how: 'vertical', rechunk: false });
    expect(chunked.getColumn('close').nChunks()).toBe(3);
    const parts = [...eachSymbol(chunked)];
    expect(parts.map(({ arrays }) => arrays.symbol)).toEqual(['A', 'B']);
    // byte-wise: toEqual on 60 000-element arrays is slow
    const bytes = (x: Float64Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    for (const [i, x] of [a, b].entries()) {
      for (const c of ['ts', 'open', 'high', 'low', 'close'] as const) expect(bytes(parts[i].arrays[c]).equals(bytes(x[c]))).toBe(true);
    }
    expect(bytes(parts[0].arrays.volume).equals(bytes(a.volume))).toBe(true);
    expect(Number.isNaN(parts[1].arrays.volume[5])).toBe(true); // a null comes out as NaN, as on the whole-column path
    expect(parts[1].arrays.volume[6]).toBe(1);
  });
});

describe('symbol blocks', () => {
  const fill = (blocks: SymbolBlocks, parts: BarArrays[]): void => {
    parts.forEach((p, i) => {
      for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) blocks.bySymbol[i][c].set(p[c]);
    });
  };

  it('make the frame a frame per symbol would, and hand their views to eachSymbol', () => {
    const parts = [one('A', 4, 10), one('B', 2, 20), one('C', 3, 30)];
    const blocks = allocSymbolBlocks([4, 2, 3], ['A', 'B', 'C']);
    fill(blocks, parts);
    const frame = adoptSymbolBlocks(blocks, { n: pl.Series('n', Int32Array.from({ length: 9 }, (_, i) => i)) });
    expect(frame.frameEqual(arraysToBars(parts, { n: pl.Series('n', Int32Array.from({ length: 9 }, (_, i) => i)) }))).toBe(true);
    expect(frame.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'n']);
    const seen = [...eachSymbol(frame)];
    expect(seen.map(({ arrays }) => arrays.symbol)).toEqual(['A', 'B', 'C']);
    expect(seen[1].arrays.close).toBe(blocks.bySymbol[1].close); // no copy back out of polars
    expect(blocks.bySymbol[1].close.buffer).toBe(blocks.all.close.buffer);
  });

  it('one symbol, no symbol, and more symbols than a byte can number', () => {
    const a = one('A', 3, 10);
    const single = allocSymbolBlocks([3], ['A']);
    fill(single, [a]);
    expect(adoptSymbolBlocks(single).frameEqual(arraysToBars(a))).toBe(true);
    const { symbol: _, ...unnamed } = a;
    const bare = allocSymbolBlocks([3], [undefined]);
    fill(bare, [unnamed]);
    expect(adoptSymbolBlocks(bare).columns).toEqual(['ts', 'open', 'high', 'low', 'close', 'volume']);
    expect(adoptSymbolBlocks(bare).frameEqual(arraysToBars(unnamed))).toBe(true);
    const many = Array.from({ length: 300 }, (_, i) => one(`S${i}`, 1 + (i % 3), i));
    const blocks = allocSymbolBlocks(
      many.map((p) => p.ts.length),
      many.map((p) => p.symbol),
    );
    fill(blocks, many);
    const frame = adoptSymbolBlocks(blocks);
    expect(frame.getColumn('symbol').toArray()).toEqual(many.flatMap((p) => Array.from(p.ts, () => p.symbol)));
    expect(frame.getColumn('close').toArray()).toEqual(many.flatMap((p) => Array.from(p.close)));
  });

  it('adopted timestamps: whole ms cross as int64 written in their own buffer, which then holds the same doubles', () => {
    const times = [-86_400_000, 0, 1_700_000_000_123, 2 ** 53 - 1, -(2 ** 53) + 1];
    // a value that cannot cross as an int64 at the end, first, or in the middle (the halves written before it turn back)
    const bad = [1.5, -0, 2 ** 53 + 2, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY];
    for (const ts of [times, ...bad.flatMap((b) => [[...times, b], [b, ...times], [...times.slice(0, 2), b, ...times.slice(2)]])]) {
      const blocks = allocSymbolBlocks([ts.length], ['A']);
      blocks.all.ts.set(ts);
      const before = Float64Array.from(blocks.all.ts);
      const frame = adoptSymbolBlocks(blocks);
      // the arrays the frame keeps are unchanged, bit for bit (-0 included), and the frame holds tsSeries' values
      expect(new Uint8Array(blocks.all.ts.buffer)).toEqual(new Uint8Array(before.buffer));
      expect(frame.getColumn('ts').cast(pl.Int64).toArray()).toEqual(tsSeries(before).cast(pl.Int64).toArray());
      expect(eachSymbol(frame).next().value?.arrays.ts).toBe(blocks.bySymbol[0].ts);
    }
  });
});


describe('columns out of polars and symbol columns reused', () => {
  it('timestamps come out as polars casts them to f64: before 1970, and beyond 2^53 ms (rounded alike)', () => {
    const ints = BigInt64Array.from([-86_400_000n, 0n, 1_700_000_000_123n, 9_007_199_254_740_993n, -9_007_199_254_740_995n]);
    const ts = pl.Series('ts', ints as never).cast(pl.Datetime('ms', 'UTC'));
    const frame = pl.DataFrame([ts, ...['open', 'high', 'low', 'close', 'volume'].map((c) => pl.Series(c, [1, 1, 1, 1, 1], pl.Float64))]);
    const fromPolars = Array.from(ts.cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array);
    expect(Array.from(barsToArrays(frame).ts)).toEqual(fromPolars);
    expect(fromPolars.slice(0, 3)).toEqual([-86_400_000, 0, 1_700_000_000_123]);
    expect(fromPolars[3]).toBe(9_007_199_254_740_992); // 2^53 + 1 rounds to even
    // the frame still holds its own values (the ints were copied out, then rewritten)
    expect(frame.getColumn('ts').cast(pl.Int64).toArray()).toEqual(Array.from(ints, Number));
  });

  it('symbol runs treat nulls as run breaks, as a shifted comparison did', () => {
    const frame = pl.DataFrame({ symbol: ['A', null, null, 'B'], x: [1, 2, 3, 4] });
    expect(symbolRuns(frame)).toBeUndefined(); // A, null, null, B: the null symbol appears twice
    const single = pl.DataFrame({ symbol: ['A'], x: [1] });
    expect(symbolRuns(single)).toEqual([{ symbol: 'A', start: 0, length: 1 }]);
  });

  it('symbol runs over several chunks (a Parquet file\'s row groups) match a row-by-row scan', () => {
    // Row-by-row reference: a run starts where the symbol changes or is null; a symbol seen twice means no runs.
    const reference = (symbols: (string | null)[]): { symbol: string | null; start: number; length: number }[] | undefined => {
      const runs: { symbol: string | null; start: number; length: number }[] = [];
      symbols.forEach((s, i) => {
        if (i > 0 && s !== null && s === symbols[i - 1]) runs[runs.length - 1].length++;
        else runs.push({ symbol: s, start: i, length: 1 });
      });
      return new Set(runs.map((r) => r.symbol)).size === runs.length ? runs : undefined;
    };
    const frameOf = (lengths: [string | null, number][], chunk: number): pl.DataFrame => {
      const symbols = lengths.flatMap(([s, n]) => Array.from({ length: n }, () => s));
      const col = pl.Series('symbol', symbols, pl.String);
      const parts: pl.Series[] = [];
      for (let i = 0; i < symbols.length; i += chunk) parts.push(col.slice(i, chunk));
      return pl.DataFrame([pl.concat(parts, { rechunk: false, parallel: false }), pl.Series('x', new Float64Array(symbols.length))]);
    };
    const cases: [string | null, number][][] = [
      // runs shorter and longer than a chunk (500 rows), one chunk plus or minus one row
      [['A', 1], ['B', 499], ['C', 501], ['D', 1_700], ['E', 3]],
      [['A', 3_000]],
      // a null splits a run; a symbol coming back interleaves
      [['A', 1_000], [null, 1], ['B', 700]],
      [['A', 1_000], ['B', 700], ['A', 5]],
      [['A', 800], [null, 1], ['B', 2], [null, 1]],
      // changes exactly at chunk edges, a null closing one chunk before a new symbol opens the next
      [['A', 500], ['B', 500], ['C', 10]],
      [['A', 499], [null, 1], ['B', 500], ['C', 5]],
      // another symbol (or a null) inside a run, between the rows a search of the runs reads
      [['A', 3], ['B', 1], ['A', 4], ['C', 2]],
      [['A', 700], ['B', 1], ['A', 299], ['C', 2]],
      [['A', 700], [null, 1], ['A', 299], ['C', 2]],
    ];
    // 100,000 rows: one chunk
    for (const chunk of [500, 100_000]) {
      for (const lengths of cases) {
        const frame = frameOf(lengths, chunk);
        expect(frame.getColumn('symbol').nChunks()).toBe(Math.ceil(frame.height / chunk));
        expect(symbolRuns(frame)).toEqual(reference(frame.getColumn('symbol').toArray() as (string | null)[]));
      }
    }
    // 7-row chunks: more chunks than are compared one by one (the single-column path)
    const many = frameOf([['A', 1_000], [null, 1], ['B', 900]], 7);
    expect(many.getColumn('symbol').nChunks()).toBeGreaterThan(256);
    expect(symbolRuns(many)).toEqual([{ symbol: 'A', start: 0, length: 1_000 }, { symbol: null, start: 1_000, length: 1 }, { symbol: 'B', start: 1_001, length: 900 }]);
    expect(symbolRuns(frameOf(cases[0], 500))?.map((r) => r.length)).toEqual([1, 499, 501, 1_700, 3]);
    expect(symbolRuns(frameOf(cases[3], 500))).toBeUndefined();
    expect(symbolRuns(frameOf(cases[4], 500))).toBeUndefined(); // two nulls
    expect(symbolRuns(frameOf(cases[2], 500))?.map((r) => r.symbol)).toEqual(['A', null, 'B']);
    expect(symbolRuns(frameOf(cases[5], 500))?.map((r) => r.start)).toEqual([0, 500, 1_000]);
    expect(symbolRuns(frameOf(cases[6], 500))?.map((r) => r.start)).toEqual([0, 499, 500, 1_000]);
  });

  it('symbolColumnFromRuns slices the input column and adds the extra rows of each symbol', () => {
    const bars = arraysToBars([one('A', 3, 10), one('B', 2, 20)]);
    const col = symbolColumnFromRuns(bars, [5, 2]);
    expect(col?.toArray()).toEqual(['A', 'A', 'A', 'A', 'A', 'B', 'B']);
    expect(col?.dtype.equals(pl.String)).toBe(true);
    expect(symbolColumnFromRuns(bars, [2, 2])).toBeUndefined(); // a block shorter than its run
    expect(symbolColumnFromRuns(bars, [3])).toBeUndefined(); // not one length per run
    const interleaved = pl.DataFrame({ symbol: ['A', 'B', 'A'], x: [1, 2, 3] });
    expect(symbolColumnFromRuns(interleaved, [2, 1])).toBeUndefined();
    const frame = adoptSymbolBlocks(allocSymbolBlocks([5, 2], ['A', 'B']), {}, col);
    expect(frame.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
    expect(frame.getColumn('symbol').toArray()).toEqual(['A', 'A', 'A', 'A', 'A', 'B', 'B']);
  });

  it('chainSeries joins the parts in order as chunks, leaving the parts as they were', () => {
    const a = pl.Series('x', [1, 2]);
    const b = pl.Series('y', [3]);
    const c = pl.Series('x', [4, 5, 6]);
    const out = chainSeries([a, b, c]);
    expect(out.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.name).toBe('x');
    expect(out.nChunks()).toBe(3);
    expect(a.toArray()).toEqual([1, 2]);
    expect(a.nChunks()).toBe(1);
    expect(chainSeries([b]).toArray()).toEqual([3]);
    expect(() => chainSeries([])).toThrow(/at least one/);
    expect(() => chainSeries([a, pl.Series('s', ['z'])])).toThrow();
  });
});
