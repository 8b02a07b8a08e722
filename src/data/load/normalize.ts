/**
 * Turns a raw frame from any reader into the Bars contract: finds the
 * timestamp and OHLCV columns (configurable names, common aliases), converts
 * the timestamps to UTC ms and the prices to f64.
 */
import pl, { type DataType } from 'nodejs-polars';
import { DataError } from '../../core/errors';
import { type Bars, isNumericType, OHLCV, type OhlcvColumn, selectBarColumns, tsSeries } from '../bars';
import type { AmbiguousTime } from '../tz';
import { timestampColumnToMs, type TimestampFormat } from './timestamps';

/** Source column names for the contract columns; unset ones are found by alias. */
export type ColumnMap = Partial<Record<'ts' | OhlcvColumn | 'symbol', string>>;

/** Options every loader accepts. */
export interface NormalizeOptions {
  /** Source column names, e.g. `{ ts: 'timestamps', volume: 'vol' }`. */
  columns?: ColumnMap;
  /** How timestamps are written; default `{ kind: 'auto' }` (ISO strings or datetime columns). */
  timestamp?: TimestampFormat;
  /** Zone of naive timestamps (IANA name); default `'UTC'`. */
  timeZone?: string;
  /** Wall times repeated by a DST fall-back: `'raise'` (default), `'earliest'`, `'latest'`. */
  ambiguous?: AmbiguousTime;
  /**
   * Whether a timestamp marks the bar's start (`'start'`, default) or its end (`'end'`,
   * as in the A-share file, whose 09:35 bar covers 09:30-09:35). End-stamped bars are
   * shifted back by `barMs` so that `ts` is always the open time.
   */
  stampedAt?: 'start' | 'end';
  /** Bar length in ms, required with `stampedAt: 'end'`. */
  barMs?: number;
  /** Symbol to attach as a `symbol` column (single-symbol files). */
  symbol?: string;
  /** Extra source columns to keep after the contract columns (e.g. `['amount']`). */
  keep?: string[];
}

/** Lower-case names taken as the timestamp column when `columns.ts` is not given. */
export const TS_ALIASES = ['ts', 'date', 'datetime', 'timestamp', 'timestamps', 'time', 'open_time', 'opentime', 't'];

/**
 * Names of an unnamed index column, taken as the timestamp column when no alias matches: `''`
 * (pandas `df.to_csv()` writes the index first under an empty header), `__index_level_0__`
 * (pyarrow's Parquet/Feather name for it) and `Unnamed: 0` (a pandas round trip). Compared in
 * lower case. `columns: { ts: '' }` (`--column ts=`) names the empty one explicitly.
 */
export const UNNAMED_INDEX = ['', '__index_level_0__', 'unnamed: 0'];

const ALIASES: Record<'ts' | OhlcvColumn | 'symbol', string[]> = {
  ts: TS_ALIASES,
  open: ['open', 'o'],
  high: ['high', 'h'],
  low: ['low', 'l'],
  close: ['close', 'c'],
  volume: ['volume', 'vol', 'v'],
  symbol: ['symbol', 'ticker', 'sym', 's'],
};

/** Resolves the source column for a contract column (given name, else alias in any case; for `ts` last an unnamed index column, see {@link UNNAMED_INDEX}), or
 * undefined when absent.
 * @example findColumn(['Date', 'Close'], 'ts', {}) // 'Date'
 */
export function findColumn(columns: string[], want: keyof typeof ALIASES, map: ColumnMap, file?: string): string | undefined {
  const given = map[want];
  if (given !== undefined) {
    if (!columns.includes(given)) {
      throw new DataError(`missing column (asked for as ${want}; the file has ${columns.join(', ')})`, { file, column: given });
    }
    return given;
  }
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  for (const a of ALIASES[want]) {
    const hit = lower.get(a);
    if (hit !== undefined) return hit;
  }
  // No timestamp column by name: an unnamed index column (pandas) holds the times.
  if (want === 'ts') return columns.find((c) => UNNAMED_INDEX.includes(c.toLowerCase()));
  return undefined;
}

function tsToMs(raw: pl.DataFrame, tsCol: string, opts: NormalizeOptions, file?: string): Float64Array {
  const ts = timestampColumnToMs(raw.getColumn(tsCol), { file, column: tsCol, timeZone: opts.timeZone, ambiguous: opts.ambiguous }, opts.timestamp ?? { kind: 'auto' });
  if (opts.stampedAt !== 'end') return ts;
  if (!opts.barMs || opts.barMs <= 0) throw new DataError('stamped-at end needs the bar length: pass --bar (barMs in code)', { file });
  for (let i = 0; i < ts.length; i++) ts[i] -= opts.barMs;
  return ts;
}

/**
 * Normalizes a raw frame to Bars.
 * @throws DataError for an empty frame, a missing column, or bad timestamps.
 * @example normalizeBars(pl.DataFrame({ date: ['2024-01-02T00:00:00Z'], o: [1], h: [1], l: [1], c: [1], v: [0] })).columns
 * // ['ts', 'open', 'high', 'low', 'close', 'volume']
 */
export function normalizeBars(raw: pl.DataFrame, opts: NormalizeOptions = {}, file?: string): Bars {
  if (raw.height === 0) throw new DataError('no rows: the file holds no bars', { file });
  const map = opts.columns ?? {};
  const cols = raw.columns;
  const tsCol = findColumn(cols, 'ts', map, file);
  if (tsCol === undefined) {
    throw new DataError(`missing timestamp column (looked for ${ALIASES.ts.join(', ')} in any case, or an unnamed index column; pass --column ts=NAME, columns.ts in code)`, { file, column: 'ts' });
  }
  const renamed: pl.Series[] = [];
  const rawTs = raw.getColumn(tsCol);
  // Fast path: already the contract's type, nothing to convert (the common Parquet/IPC case).
  if (rawTs.dtype.equals(pl.Datetime('ms', 'UTC')) && opts.stampedAt !== 'end' && rawTs.nullCount() === 0) {
    renamed.push(rawTs.rename('ts'));
  } else {
    renamed.push(tsSeries(tsToMs(raw, tsCol, opts, file)));
  }
  const symCol = findColumn(cols, 'symbol', map, file);
  if (opts.symbol !== undefined) renamed.push(pl.Series('symbol', [opts.symbol], pl.String).extendConstant(opts.symbol, raw.height - 1));
  else if (symCol) renamed.push(raw.getColumn(symCol).cast(pl.String).rename('symbol'));
  for (const c of OHLCV) {
    const src = findColumn(cols, c, map, file);
    if (!src) throw new DataError(`missing column (the file has ${cols.join(', ')}; pass --column ${c}=NAME, columns.${c} in code)`, { file, column: c });
    const s = raw.getColumn(src);
    const dtype: DataType = s.dtype; // pl.Series defaults its dtype parameter to any
    if (!isNumericType(dtype)) {
      const casted = s.cast(pl.Float64, false);
      const bad = (casted.isNull().toArray() as boolean[]).findIndex((isNull, i) => isNull && s.get(i) !== null);
      if (bad >= 0) throw new DataError('not a number', { file, row: bad, column: src, value: s.get(bad) });
      renamed.push(casted.rename(c));
    } else {
      renamed.push(s.cast(pl.Float64).rename(c));
    }
  }
  for (const k of opts.keep ?? []) {
    if (!cols.includes(k)) throw new DataError('extra column asked for is missing', { file, column: k });
    renamed.push(raw.getColumn(k));
  }
  return selectBarColumns(pl.DataFrame(renamed), opts.keep ?? [], file);
}
