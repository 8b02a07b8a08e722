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

/** True for integer, float and decimal polars types. */
export function isNumericType(dtype: DataType): boolean {
  return NUMERIC.has(dtype.variant);
}

/** True when the frame carries a `symbol` column. */
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
  const arr = s.dtype.equals(pl.Float64) ? s.toTypedArray() : s.cast(pl.Float64).toTypedArray();
  // toTypedArray can share memory with polars; copy only when it is not a plain Float64Array.
  return arr instanceof Float64Array ? arr : Float64Array.from(arr as ArrayLike<number>);
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
 */
export function symbolRuns(bars: Bars): SymbolRun[] | undefined {
  if (!hasSymbol(bars)) return [{ symbol: '', start: 0, length: bars.height }];
  if (bars.height === 0) return [];
  const starts = bars
    .select(pl.col('symbol').neq(pl.col('symbol').shift(1)).fillNull(true).alias('b'))
    .getColumn('b')
    .argTrue()
    .toArray() as number[];
  const symbols = bars.getColumn('symbol').gather(starts).toArray() as string[];
  if (new Set(symbols).size !== symbols.length) return undefined;
  return starts.map((start, i) => ({ symbol: symbols[i], start, length: (starts[i + 1] ?? bars.height) - start }));
}

/**
 * Each symbol's rows as a frame and as typed arrays, in order of first appearance: the loop
 * every per-symbol transform runs. Contiguous symbols are zero-copy slices, and their arrays are
 * views into one copy of each column: treat them as read-only.
 */
export function* eachSymbol(bars: Bars): Generator<{ bars: Bars; arrays: BarArrays }> {
  const runs = symbolRuns(bars);
  if (!runs) {
    for (const part of bars.partitionBy('symbol', true, true)) yield { bars: part, arrays: barsToArrays(part) };
    return;
  }
  const named = hasSymbol(bars);
  // Whole columns cross from polars once; each symbol gets views into them (no copies).
  const all = columnsToArrays(bars, undefined);
  for (const r of runs) {
    const view = (a: Float64Array): Float64Array => a.subarray(r.start, r.start + r.length);
    const arrays: BarArrays = { ts: view(all.ts), open: view(all.open), high: view(all.high), low: view(all.low), close: view(all.close), volume: view(all.volume) };
    if (named) arrays.symbol = r.symbol;
    yield { bars: bars.slice(r.start, r.length), arrays };
  }
}

/** One frame per symbol, in order of first appearance (the frame itself when it has no `symbol`). */
export function partitionBySymbol(bars: Bars): Bars[] {
  if (!hasSymbol(bars)) return [bars];
  // Contiguous symbols slice without copying; interleaved ones need polars' partition.
  const runs = symbolRuns(bars);
  if (runs) return runs.map((r) => bars.slice(r.start, r.length));
  return bars.partitionBy('symbol', true, true);
}

/** Series of UTC ms datetimes from epoch ms held in a Float64Array. */
export function tsSeries(ts: Float64Array, name = 'ts'): pl.Series {
  // f64 -> i64 is exact for whole milliseconds (|ts| < 2^53).
  return pl.Series(name, ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms', 'UTC'));
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
  let out = frames.length === 1 ? frames[0] : concatBars(frames);
  for (const [name, s] of Object.entries(extra)) out = out.withColumn(s.rename(name));
  return out;
}

/**
 * Stacks frames of the same columns (e.g. one per symbol) without copying them into one chunk:
 * per-symbol slices of the result stay zero-copy, and no second copy of a large frame is made.
 */
export function concatBars(frames: Bars[]): Bars {
  return frames.length === 1 ? frames[0] : pl.concat(frames, { how: 'vertical', rechunk: false });
}

/**
 * Checks the Bars schema: `ts` is Datetime(ms, UTC), OHLCV are Float64, `symbol` (if any) is a string.
 * Values are checked by `validateBars`, not here.
 * @throws DataError naming the missing or mistyped column.
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
