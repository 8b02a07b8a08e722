/**
 * The Bars contract: a nodejs-polars DataFrame with `ts` (UTC datetime, ms; the
 * bar's open time), `open, high, low, close, volume` (f64) and, for multi-symbol
 * frames, `symbol` (string). Everything that loads data returns it; everything
 * downstream accepts it. Hot loops get typed arrays through {@link barsToArrays}.
 */
import pl, { type DataType } from 'nodejs-polars';
import { DataError } from '../core/errors';

/** A frame following the Bars contract (see the module comment). */
export type Bars = pl.DataFrame;

/** The price and volume columns of every Bars frame, in order. */
export const OHLCV = ['open', 'high', 'low', 'close', 'volume'] as const;
export type OhlcvColumn = (typeof OHLCV)[number];

/** Bars of one symbol as plain typed arrays: the input of every hot loop. */
export interface BarArrays {
  /** Bar open time, ms since the Unix epoch, UTC. */
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** The symbol, when the frame had one. */
  symbol?: string;
}

const NUMERIC = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float32', 'Float64', 'Decimal']);

/** True for integer, float and decimal polars types.
 * @example isNumericType(pl.Int64) // true
 */
export function isNumericType(dtype: DataType): boolean {
  return NUMERIC.has(dtype.variant);
}

/** True when the frame carries a `symbol` column.
 * @example hasSymbol(loadBars('../shared/data/real/crypto-5m')) // true
 */
export function hasSymbol(bars: Bars): boolean {
  return bars.columns.includes('symbol');
}

/**
 * The distinct symbols of a frame in order of first appearance (`[]` for a single-symbol frame).
 * @example symbolsOf(bars) // ['AAA', 'BBB']
 */
export function symbolsOf(bars: Bars): string[] {
  if (!hasSymbol(bars)) return [];
  return bars.getColumn('symbol').unique(true).toArray() as string[];
}

function f64(bars: Bars, name: string): Float64Array {
  let s = bars.getColumn(name);
  // Nulls (e.g. a mark-price file without volume) become NaN, which validation reports.
  if (s.nullCount() > 0) s = bars.select(pl.col(name).cast(pl.Float64).fillNull(pl.lit(Number.NaN))).getColumn(name);
  // Datetime(ms) is an int64 underneath: its ints come across as they are and become doubles in
  // the same buffer, where a cast to f64 in polars would fill a second column first.
  if (s.dtype.equals(pl.Datetime('ms', 'UTC'))) return int64ToF64InPlace(s.cast(pl.Int64).toTypedArray() as BigInt64Array);
  const arr = s.dtype.equals(pl.Float64) ? s.toTypedArray() : s.cast(pl.Float64).toTypedArray();
  // Other numeric types come back as their own typed array; widen those to f64.
  return arr instanceof Float64Array ? arr : Float64Array.from(arr as ArrayLike<number>);
}

/**
 * Rewrites int64 values as doubles in their own buffer (the array is consumed) and returns the
 * doubles. `hi * 2^32 + lo` is one rounding of the exact value, as an int64 -> f64 cast is, so
 * values beyond 2^53 round the same way; whole ms timestamps are exact.
 */
function int64ToF64InPlace(ints: BigInt64Array): Float64Array {
  const halves = new Int32Array(ints.buffer, ints.byteOffset, ints.length * 2);
  const out = new Float64Array(ints.buffer, ints.byteOffset, ints.length);
  for (let i = 0; i < out.length; i++) {
    // little-endian: the low half first; both halves are read before the slot is overwritten
    const lo = halves[2 * i] >>> 0;
    out[i] = halves[2 * i + 1] * 4294967296 + lo;
  }
  return out;
}

/**
 * Copies one symbol's bars out of polars into typed arrays (`ts` as ms UTC).
 *
 * Cost: one pass per column; no per-row JavaScript objects. Null values become NaN.
 * @param bars - a Bars frame with one symbol (or no `symbol` column).
 * @throws DataError when the frame holds more than one symbol (use {@link barsToArraysBySymbol}).
 * @example barsToArrays(bars).close[0] // first close price
 */
export function barsToArrays(bars: Bars): BarArrays {
  const symbols = symbolsOf(bars);
  if (symbols.length > 1) {
    throw new DataError(`barsToArrays needs one symbol, the frame has ${symbols.length}; use barsToArraysBySymbol`, {
      column: 'symbol',
      value: symbols.slice(0, 5),
    });
  }
  return columnsToArrays(bars, symbols[0]);
}

function columnsToArrays(bars: Bars, symbol: string | undefined): BarArrays {
  const out: BarArrays = {
    ts: f64(bars, 'ts'),
    open: f64(bars, 'open'),
    high: f64(bars, 'high'),
    low: f64(bars, 'low'),
    close: f64(bars, 'close'),
    volume: f64(bars, 'volume'),
  };
  if (symbol !== undefined) out.symbol = symbol;
  return out;
}

/**
 * Splits a multi-symbol frame into typed arrays per symbol, in order of first appearance.
 * Rows keep their order within each symbol. A frame without `symbol` gives one entry keyed `''`.
 * @example barsToArraysBySymbol(bars).get('ETH_BTC')?.close.length // 5760
 */
export function barsToArraysBySymbol(bars: Bars): Map<string, BarArrays> {
  const out = new Map<string, BarArrays>();
  for (const part of partitionBySymbol(bars)) {
    const a = barsToArrays(part);
    out.set(a.symbol ?? '', a);
  }
  return out;
}

/** A run of consecutive rows of one symbol. */
export interface SymbolRun {
  symbol: string;
  start: number;
  length: number;
}

/**
 * The runs of consecutive rows per symbol when each symbol's rows are contiguous (the layout
 * loaders and every transform here produce), else `undefined` (rows of symbols interleave).
 * A frame without `symbol` is one run keyed `''`.
 * @example symbolRuns(bars) // [{ symbol: 'ADA_BTC', start: 0, length: 5720 }, ...]
 */
export function symbolRuns(bars: Bars): SymbolRun[] | undefined {
  if (!hasSymbol(bars)) return [{ symbol: '', start: 0, length: bars.height }];
  if (bars.height === 0) return [];
  // Pipeline steps ask again for the same frame object; polars frames are not changed in place by
  // anything here, and a cached answer is only reused while the row count still matches.
  const cached = runCache.get(bars);
  if (cached && cached.height === bars.height) return cached.runs;
  const runs = findRuns(bars);
  runCache.set(bars, { height: bars.height, runs });
  return runs;
}

const runCache = new WeakMap<Bars, { height: number; runs: SymbolRun[] | undefined }>();

function findRuns(bars: Bars): SymbolRun[] | undefined {
  const guessed = guessRuns(bars.getColumn('symbol'));
  if (guessed && runsHold(bars, guessed)) return guessed;
  const starts = [0, ...symbolChanges(bars)];
  const symbols = bars.getColumn('symbol').gather(starts).toArray() as string[];
  if (new Set(symbols).size !== symbols.length) return undefined;
  return starts.map((start, i) => ({ symbol: symbols[i], start, length: (starts[i + 1] ?? bars.height) - start }));
}

/**
 * Runs found by reading a few rows, as if each symbol's rows were contiguous: from each run's
 * first row, a galloping then binary search for the first row of another symbol (a few dozen
 * `get` calls a run instead of comparing every row with the one before, which costs about 1 s
 * of CPU and 100 MB of fresh memory a run on 10 million rows). Only a guess: {@link runsHold}
 * checks it. `undefined` on a null or non-string symbol, a symbol met twice, or more than
 * {@link MAX_CHUNK_EXPRS} runs (the row-by-row comparison then decides).
 */
function guessRuns(col: pl.Series): SymbolRun[] | undefined {
  const n = col.length;
  const runs: SymbolRun[] = [];
  const seen = new Set<string>();
  let start = 0;
  while (start < n) {
    const symbol = col.get(start) as unknown;
    if (typeof symbol !== 'string' || seen.has(symbol) || runs.length === MAX_CHUNK_EXPRS) return undefined;
    seen.add(symbol);
    // Rows start .. lo hold the symbol; hi is past the run (or the end).
    let lo = start;
    let step = 1;
    let hi = start + step;
    while (hi < n && col.get(hi) === symbol) {
      lo = hi;
      step *= 2;
      hi = start + step;
    }
    hi = Math.min(hi, n);
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (col.get(mid) === symbol) lo = mid;
      else hi = mid;
    }
    runs.push({ symbol, start, length: hi - start });
    start = hi;
  }
  return runs;
}

/** True when every row of each run holds the run's symbol (no null): one comparison with a literal per run. */
function runsHold(bars: Bars, runs: SymbolRun[]): boolean {
  const symbols = pl.DataFrame([bars.getColumn('symbol')]);
  return runs.every((r) => {
    const all = symbols.slice(r.start, r.length).select(pl.col('symbol').eq(pl.lit(r.symbol)).fillNull(false).all().alias('ok'));
    return all.getColumn('ok').toArray()[0] === true;
  });
}

/**
 * Rows (from 1) whose symbol differs from the row before, or where either is null. Each row is
 * compared with the one before it as two slices of the column; a slice pair that crosses a chunk
 * edge at different rows would first be copied whole (16 bytes a row, the larger part of the
 * cost on a frame read from a Parquet file of several row groups). So each chunk is compared
 * within itself, and the rows at chunk edges one by one.
 */
function symbolChanges(bars: Bars): number[] {
  const n = bars.height;
  const col = bars.getColumn('symbol');
  const lengths = col.chunkLengths() as number[];
  const changed = (from: number, len: number): pl.Expr => pl.col('symbol').slice(from + 1, len).neq(pl.col('symbol').slice(from, len)).fillNull(true);
  if (lengths.length > MAX_CHUNK_EXPRS) {
    return (bars.select(changed(0, n - 1).alias('b')).getColumn('b').argTrue().toArray() as number[]).map((i) => i + 1);
  }
  const symbols = pl.DataFrame([col]);
  const out: number[] = [];
  let start = 0;
  for (const len of lengths) {
    if (start > 0 && len > 0) {
      const before = col.get(start - 1) as string | null;
      const here = col.get(start) as string | null;
      if (before === null || here === null || before !== here) out.push(start);
    }
    if (len > 1) {
      const within = symbols.slice(start, len).select(changed(0, len - 1).alias('b')).getColumn('b').argTrue().toArray() as number[];
      for (const i of within) out.push(start + 1 + i);
    }
    start += len;
  }
  return out;
}

/** Most chunks {@link symbolChanges} compares one by one (a polars call each); more are compared as one column, copied. */
const MAX_CHUNK_EXPRS = 256;

/**
 * Each symbol's rows as a frame and as typed arrays, in order of first appearance: the loop
 * every per-symbol transform runs. Contiguous symbols are zero-copy slices (made when `bars` is
 * read), and their arrays are copied out of polars once per frame: treat them as read-only.
 * @example for (const { arrays } of eachSymbol(bars)) console.log(arrays.symbol, arrays.close.length)
 */
export function* eachSymbol(bars: Bars): Generator<{ bars: Bars; arrays: BarArrays }> {
  const runs = symbolRuns(bars);
  if (!runs) {
    for (const part of bars.partitionBy('symbol', true, true)) yield { bars: part, arrays: barsToArrays(part) };
    return;
  }
  let arrays = arrayCache.get(bars);
  if (!arrays || arrays.length !== runs.length || arrays.some((a, i) => a.ts.length !== runs[i].length)) {
    const named = hasSymbol(bars);
    if (bars.getColumn('close').nChunks() > 1 && bars.height >= runs.length * SLICE_ROWS) {
      // A frame of several chunks (a Parquet file's row groups) would be copied whole into one
      // chunk and then again into JavaScript; copying each symbol's slice skips the first copy.
      arrays = runs.map((r) => columnsToArrays(bars.slice(r.start, r.length), named ? r.symbol : undefined));
    } else {
      // Whole columns cross from polars once; each symbol gets views into them (no copies).
      const all = columnsToArrays(bars, undefined);
      arrays = runs.map((r) => barViews(all, r.start, r.length, named ? r.symbol : undefined));
    }
    arrayCache.set(bars, arrays);
  }
  for (let i = 0; i < runs.length; i++) {
    const { start, length } = runs[i];
    // The slice is made when asked for: most callers only read the arrays, and a slice costs a polars call.
    yield {
      get bars(): Bars {
        return bars.slice(start, length);
      },
      arrays: arrays[i],
    };
  }
}

/** Mean rows per symbol above which {@link eachSymbol} copies multi-chunk frames symbol by symbol (fewer, larger calls otherwise). */
const SLICE_ROWS = 50_000;

/*
 * Copying columns out of polars is the largest cost of a per-symbol step (about 0.3-0.6 s per
 * 10 million values), so the arrays of a frame are kept with it: a frame built from typed arrays
 * remembers them, and a frame read once by eachSymbol is not read again. Keyed weakly by the
 * (immutable) frame object; eachSymbol hands the arrays out read-only.
 */
const arrayCache = new WeakMap<Bars, BarArrays[]>();

/** Records the per-symbol arrays (and so the symbol runs) a frame was built from; skipped when they do not line up. */
function remember(frame: Bars, list: BarArrays[]): void {
  const symbols = list.map((a) => a.symbol ?? '');
  if (new Set(symbols).size !== list.length || (list.length > 1 && !hasSymbol(frame))) return;
  let start = 0;
  const runs = list.map((a) => {
    const r = { symbol: a.symbol ?? '', start, length: a.ts.length };
    start += a.ts.length;
    return r;
  });
  if (start !== frame.height) return;
  if (hasSymbol(frame)) runCache.set(frame, { height: frame.height, runs });
  arrayCache.set(
    frame,
    list.map((a) => ({ ts: a.ts, open: a.open, high: a.high, low: a.low, close: a.close, volume: a.volume,
      ...(a.symbol !== undefined ? { symbol: a.symbol } : {}) })),
  );
}

/** One frame per symbol, in order of first appearance (the frame itself when it has no `symbol`).
 * @example partitionBySymbol(bars).length // number of symbols
 */
export function partitionBySymbol(bars: Bars): Bars[] {
  if (!hasSymbol(bars)) return [bars];
  // Contiguous symbols slice without copying; interleaved ones need polars' partition.
  const runs = symbolRuns(bars);
  if (runs) return runs.map((r) => bars.slice(r.start, r.length));
  return bars.partitionBy('symbol', true, true);
}

/** Zero-filled arrays for `n` bars (kernels fill them), with the symbol when given.
 * @example allocBarArrays(3, 'X').close // Float64Array [0, 0, 0]
 */
export function allocBarArrays(n: number, symbol?: string): BarArrays {
  const out: BarArrays = { ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n),
    close: new Float64Array(n), volume: new Float64Array(n) };
  if (symbol !== undefined) out.symbol = symbol;
  return out;
}

/** Series of UTC ms datetimes from epoch ms held in a Float64Array.
 * @example tsSeries(new Float64Array([0])).dtype // Datetime(ms, UTC)
 */
export function tsSeries(ts: Float64Array, name = 'ts'): pl.Series {
  // Write the int64 directly (low and high 32-bit halves; whole ms below 2^53 are exact): about
  // twice as fast as letting polars cast f64 -> i64 on 10 million values.
  const ints = new BigInt64Array(ts.length);
  const halves = new Int32Array(ints.buffer);
  for (let i = 0; i < ts.length; i++) {
    const t = Math.round(ts[i]);
    const hi = Math.floor(t / 4294967296);
    halves[2 * i] = t - hi * 4294967296; // little-endian: low half first
    halves[2 * i + 1] = hi;
  }
  return pl.Series(name, ints as never).cast(pl.Datetime('ms', 'UTC'));
}

/**
 * {@link tsSeries} for arrays the frame will keep (adopted ones): when every value is a whole ms
 * within +-2^53 (exact as an int64 and back), the int64 values are written into the array's own
 * buffer for polars to copy, then turned back into the same doubles, so no second 8-byte-a-row
 * buffer is touched (80 MB of fresh memory on 10M bars). Other values go through {@link tsSeries}.
 */
function ownedTsSeries(ts: Float64Array): pl.Series {
  const halves = new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  // One pass checks each value and writes it as its int64 halves (a pass less than checking
  // first: 0.04-0.05 s on 10M bars). At the first value that is no whole ms within +-(2^53 - 1),
  // or is -0, the halves written so far turn back into their doubles and tsSeries takes over.
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (!(t >= -Number.MAX_SAFE_INTEGER && t <= Number.MAX_SAFE_INTEGER && Math.floor(t) === t) || (t === 0 && 1 / t < 0)) {
      int64ToF64InPlace(new BigInt64Array(ts.buffer, ts.byteOffset, i));
      return tsSeries(ts);
    }
    const hi = Math.floor(t / 4294967296);
    halves[2 * i] = t - hi * 4294967296; // little-endian: low half first
    halves[2 * i + 1] = hi;
  }
  const series = pl.Series('ts', new BigInt64Array(ts.buffer, ts.byteOffset, ts.length) as never).cast(pl.Datetime('ms', 'UTC'));
  int64ToF64InPlace(new BigInt64Array(ts.buffer, ts.byteOffset, ts.length));
  return series;
}

/**
 * Builds a Bars frame from typed arrays (the inverse of {@link barsToArrays}).
 * @param arrays - one symbol's arrays, or a list of them (concatenated in order, with `symbol`).
 * @param extra - further columns of equal length to append (e.g. a `regime` label).
 * @example arraysToBars({ ts, open, high, low, close, volume, symbol: 'AAA' }).columns
 * // ['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']
 */
export function arraysToBars(arrays: BarArrays | BarArrays[], extra: Record<string, pl.Series> = {}): Bars {
  const list = Array.isArray(arrays) ? arrays : [arrays];
  const withSymbol = Array.isArray(arrays) || list[0].symbol !== undefined;
  const frames = list.map((a) => {
    const cols: pl.Series[] = [tsSeries(a.ts)];
    for (const c of OHLCV) cols.push(pl.Series(c, a[c], pl.Float64));
    const df = pl.DataFrame(cols);
    // A literal column per symbol avoids building one JavaScript string per row.
    return withSymbol ? df.withColumn(pl.lit(a.symbol ?? '').cast(pl.String).alias('symbol')).select('ts', 'symbol', ...OHLCV) : df;
  });
  let out = frames.length === 1 ? frames[0] : pl.concat(frames, { how: 'vertical', rechunk: false });
  for (const [name, s] of Object.entries(extra)) out = out.withColumn(s.rename(name));
  return out;
}

/**
 * {@link arraysToBars} for arrays the caller hands over for good (a kernel's fresh output): the
 * frame keeps them, so later per-symbol steps on it read them instead of copying the columns back
 * out of polars. The caller must never change the arrays afterwards.
 * @example const out = adoptBarArrays(fillGapsArrays(a, 60_000, 'us-rth')) // resample(out, ...) reads no column back
 */
export function adoptBarArrays(arrays: BarArrays | BarArrays[], extra: Record<string, pl.Series> = {}): Bars {
  const out = arraysToBars(arrays, extra);
  remember(out, Array.isArray(arrays) ? arrays : [arrays]);
  return out;
}

/** Bars of several symbols laid out back to back: whole-frame columns, and each symbol's views into them. */
export interface SymbolBlocks {
  /** Columns of all symbols' bars, symbol after symbol (no `symbol`). */
  all: BarArrays;
  /** One entry per symbol, in order: views into `all` (with the symbol, when given). */
  bySymbol: BarArrays[];
}

/**
 * Zero-filled {@link SymbolBlocks} for symbols of the given lengths: per-symbol kernels write
 * into their views, and {@link adoptSymbolBlocks} turns the whole columns into one frame.
 * @example allocSymbolBlocks([3, 2], ['A', 'B']).bySymbol[1].close.length // 2
 */
export function allocSymbolBlocks(lengths: readonly number[], symbols: readonly (string | undefined)[]): SymbolBlocks {
  const all = allocBarArrays(lengths.reduce((sum, n) => sum + n, 0));
  let start = 0;
  const bySymbol = lengths.map((n, i) => {
    const one = barViews(all, start, n, symbols[i]);
    start += n;
    return one;
  });
  return { all, bySymbol };
}

/** Views of rows `start .. start + length - 1` of every column (no copy), with the symbol when given. */
function barViews(all: BarArrays, start: number, length: number, symbol: string | undefined): BarArrays {
  const view = (a: Float64Array): Float64Array => a.subarray(start, start + length);
  const one: BarArrays = { ts: view(all.ts), open: view(all.open), high: view(all.high), low: view(all.low), close: view(all.close), volume: view(all.volume) };
  if (symbol !== undefined) one.symbol = symbol;
  return one;
}

/**
 * {@link adoptBarArrays} for {@link SymbolBlocks}: the same frame (rows symbol after symbol, a
 * `symbol` column when any symbol is named), built from whole columns: one polars Series per
 * column, where a frame per symbol costs one per symbol and column. The frame keeps the arrays;
 * never change them afterwards.
 * @param extra - further whole-frame columns (e.g. `filled`).
 * @param symbol - the `symbol` column when the caller has it already (see {@link symbolColumnFromRuns}):
 *   a String series of the frame's height, each block's rows holding its symbol; else it is built here.
 * @example adoptSymbolBlocks(allocSymbolBlocks([3, 2], ['A', 'B'])).getColumn('symbol').toArray() // ['A', 'A', 'A', 'B', 'B']
 */
export function adoptSymbolBlocks(blocks: SymbolBlocks, extra: Record<string, pl.Series> = {}, symbol?: pl.Series): Bars {
  const { all, bySymbol } = blocks;
  const cols: pl.Series[] = [ownedTsSeries(all.ts)];
  for (const c of OHLCV) cols.push(pl.Series(c, all[c], pl.Float64));
  let out: Bars = pl.DataFrame(cols);
  if (symbol !== undefined && symbol.length === all.ts.length) {
    out = out.withColumn(symbol.rename('symbol')).select('ts', 'symbol', ...OHLCV) as Bars;
  } else if (bySymbol.some((a) => a.symbol !== undefined)) {
    if (bySymbol.length === 1) {
      out = out.withColumn(pl.lit(bySymbol[0].symbol).cast(pl.String).alias('symbol'));
    } else {
      // Each row's symbol as an index into the list of names: polars writes the strings, not JavaScript.
      const code = bySymbol.length <= 256 ? new Uint8Array(all.ts.length) : new Uint32Array(all.ts.length);
      let start = 0;
      bySymbol.forEach((a, i) => {
        code.fill(i, start, start + a.ts.length);
        start += a.ts.length;
      });
      const names = pl.Series('names', bySymbol.map((a) => a.symbol ?? ''), pl.String);
      out = out.withColumn(pl.Series('symbol', code)).withColumn(pl.lit(names).explode().gather(pl.col('symbol').cast(pl.UInt32)).alias('symbol'));
    }
    out = out.select('ts', 'symbol', ...OHLCV) as Bars;
  }
  for (const [name, s] of Object.entries(extra)) out = out.withColumn(s.rename(name));
  remember(out, bySymbol);
  return out;
}

/**
 * A `symbol` column for a frame whose symbols come block after block, as in `bars` but with
 * `lengths[i]` rows for run i: each run's rows of `bars`' own column (zero-copy slices) plus, when
 * the block is longer, a short chunk of the same symbol. Building the column anew would write
 * 16 bytes a row (a string view per row); this writes only the extra rows.
 * @returns undefined when `bars` has no String `symbol` column, its symbols are not contiguous,
 *   a run's symbol is null, or a block is shorter than its run.
 * @example symbolColumnFromRuns(bars, [5000, 5010])?.length // 10010 (bars: 2 symbols of 5000 rows)
 */
export function symbolColumnFromRuns(bars: Bars, lengths: readonly number[]): pl.Series | undefined {
  if (!hasSymbol(bars)) return undefined;
  const col = bars.getColumn('symbol');
  const runs = symbolRuns(bars);
  if (!col.dtype.equals(pl.String) || !runs || runs.length !== lengths.length || runs.length === 0) return undefined;
  const parts: pl.Series[] = [];
  for (let i = 0; i < runs.length; i++) {
    const { symbol, start, length } = runs[i];
    const extra = lengths[i] - length;
    if (typeof symbol !== 'string' || extra < 0) return undefined;
    parts.push(col.slice(start, length));
    if (extra > 0) parts.push(pl.Series('symbol', [symbol], pl.String).extendConstant(symbol, extra - 1));
  }
  return chainSeries(parts);
}

/**
 * One Series holding the chunks of `parts` in order, without copying values (each part's chunks
 * are appended; the parts are left as they are). `pl.concat` of Series does the same through a
 * lazy query, about 2 ms a part (0.07-0.09 s for the 40 parts of a 20-symbol column).
 * @param parts - at least one Series, all of one dtype; the result takes the first one's name.
 * @throws Error from polars when the dtypes differ, or when `parts` is empty.
 * @example chainSeries([pl.Series('x', [1, 2]), pl.Series('x', [3])]).toArray() // [1, 2, 3]
 */
export function chainSeries(parts: readonly pl.Series[]): pl.Series {
  if (parts.length === 0) throw new Error('chainSeries needs at least one Series');
  const out = parts[0].clone();
  for (let i = 1; i < parts.length; i++) out.append(parts[i]);
  return out;
}

/**
 * Stacks frames of the same columns (e.g. one per symbol) without copying them into one chunk:
 * per-symbol slices of the result stay zero-copy, and no second copy of a large frame is made.
 * @example concatBars([a, b]).height // a.height + b.height
 */
export function concatBars(frames: Bars[]): Bars {
  if (frames.length === 1) return frames[0];
  const out = pl.concat(frames, { how: 'vertical', rechunk: false });
  const known = frames.map((f) => arrayCache.get(f));
  if (known.every((k) => k !== undefined)) remember(out, known.flatMap((k) => k!));
  return out;
}

/**
 * Checks the Bars schema: `ts` is Datetime(ms, UTC), OHLCV are Float64, `symbol` (if any) is a string.
 * Values are checked by `validateBars`, not here.
 * @throws DataError naming the missing or mistyped column.
 * @example assertBarsSchema(pl.DataFrame({ ts: [1] })) // throws DataError: ts must be Datetime(ms, UTC)
 */
export function assertBarsSchema(bars: Bars, file?: string): void {
  const schema = bars.schema as Record<string, DataType>;
  if (!schema.ts) throw new DataError('missing column', { file, column: 'ts' });
  if (!schema.ts.equals(pl.Datetime('ms', 'UTC'))) {
    throw new DataError('ts must be Datetime(ms, UTC)', { file, column: 'ts', value: String(schema.ts) });
  }
  for (const c of OHLCV) {
    if (!schema[c]) throw new DataError('missing column', { file, column: c });
    if (!schema[c].equals(pl.Float64)) throw new DataError('must be Float64', { file, column: c, value: String(schema[c]) });
  }
  if (schema.symbol && !schema.symbol.equals(pl.String)) {
    throw new DataError('symbol must be a string column', { file, column: 'symbol', value: String(schema.symbol) });
  }
}

/**
 * Puts columns in contract order (`ts`, `symbol`?, OHLCV, then `keep` extras), casting OHLCV to f64.
 * `ts` must already be a UTC datetime (loaders convert it first).
 * @example selectBarColumns(df, ['amount']).columns // ['ts', 'open', 'high', 'low', 'close', 'volume', 'amount']
 */
export function selectBarColumns(df: pl.DataFrame, keep: readonly string[] = [], file?: string): Bars {
  const have = new Set(df.columns);
  for (const c of keep) if (!have.has(c)) throw new DataError('extra column asked for is missing', { file, column: c });
  const exprs: pl.Expr[] = [pl.col('ts')];
  if (have.has('symbol')) exprs.push(pl.col('symbol').cast(pl.String));
  for (const c of OHLCV) exprs.push(pl.col(c).cast(pl.Float64));
  for (const c of keep) if (c !== 'symbol') exprs.push(pl.col(c));
  return df.select(...exprs);
}
