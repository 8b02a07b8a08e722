/**
 * Reading a bar store as the rest of quantbook reads files: `loadBars(STORE, query)` and
 * `loadFundingRates(STORE/funding/<source>/<symbol>)` land here.
 */
import pl from 'nodejs-polars';
import { ConfigError, DataError } from '../../core/errors';
import { OHLCV, concatBars, tsSeries, type Bars } from '../bars';
import { parseDuration } from '../interval';
import { locateStore, type SeriesEntry, type SeriesKind, type StoreLocation } from './layout';
import { BarStore } from './store';

/** Which bars to read from a store. Folders below the root narrow it the same way (`STORE/bars/binance/BTCUSDT/1m`). */
export interface StoreQuery {
  /** Symbols to read (default: every symbol the rest of the query matches), in this order. */
  symbols?: string[];
  /** Bar interval as stored (`1m`, `5m`, `1h`, `1d`); needed when the store holds several. */
  interval?: string;
  /** First bar time, inclusive: ISO 8601 text (`2024-01-01` is midnight UTC), ms or a Date. */
  start?: string | number | Date;
  /** Bar times before this one (exclusive). */
  end?: string | number | Date;
  /** Source (`binance`, `binance-futures`, `alpaca`, `hyperliquid`); needed when a symbol is stored from several. */
  source?: string;
  /** `bars` (default) or `mark` (mark-price bars). */
  kind?: 'bars' | 'mark';
}

/**
 * A time given as ISO text, ms or Date, as ms UTC. Dates without a zone are UTC.
 * @throws ConfigError when the text is not a date.
 * @example toMs('2024-01-01') // 1704067200000
 */
export function toMs(value: string | number | Date, key: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  if (!Number.isFinite(ms)) throw new ConfigError('not a date or time (use ISO 8601, e.g. 2024-01-01 or 2024-01-01T09:30:00Z)', { key, value });
  return ms;
}

interface Selection {
  kind: SeriesKind;
  source?: string;
  symbol?: string;
  interval?: string;
}

function selectionOf(loc: StoreLocation): Selection {
  const parts = loc.prefix === '' ? [] : loc.prefix.split('/');
  const kind = parts[0] as SeriesKind | undefined;
  if (kind !== undefined && kind !== 'bars' && kind !== 'mark' && kind !== 'funding') {
    throw new DataError('not a series folder of the store (expected bars/, mark/ or funding/ below the root)', { file: loc.root, value: loc.prefix });
  }
  return { kind: kind ?? 'bars', source: parts[1], symbol: parts[2], interval: parts[3] };
}

function describe(entries: readonly SeriesEntry[]): string {
  return entries.map((e) => `${e.source}/${e.symbol}${e.interval ? `/${e.interval}` : ''}`).join(', ') || 'nothing';
}

function pick(path: string, loc: StoreLocation, sel: Selection, symbols: string[] | undefined): { store: BarStore; entries: SeriesEntry[] } {
  const store = BarStore.open(loc.root);
  const ofKind = store.entries().filter((e) => e.kind === sel.kind && e.rows > 0);
  let entries = ofKind.filter((e) => (!sel.source || e.source === sel.source) && (!sel.symbol || e.symbol === sel.symbol)
    && (!sel.interval || e.interval === sel.interval));
  if (symbols) entries = entries.filter((e) => symbols.includes(e.symbol));
  const wanted = symbols ?? [...new Set(entries.map((e) => e.symbol))].sort();
  const missing = wanted.filter((s) => !entries.some((e) => e.symbol === s));
  if (entries.length === 0 || missing.length > 0) {
    const what = [sel.source, missing.length ? missing.join(', ') : sel.symbol, sel.interval].filter(Boolean).join(' ');
    throw new DataError(`store holds no ${sel.kind}${what ? ` for ${what}` : ''} (it holds ${describe(ofKind)})`, { file: path });
  }
  const intervals = [...new Set(entries.map((e) => e.interval))];
  if (intervals.length > 1) throw new DataError(`store holds several intervals (${intervals.join(', ')}); pass interval or point at a series folder`, { file: path });
  for (const s of wanted) {
    const sources = entries.filter((e) => e.symbol === s).map((e) => e.source);
    if (sources.length > 1) throw new DataError(`symbol ${s} is stored from several sources (${sources.join(', ')}); pass source or point at STORE/${sel.kind}/<source>`, { file: path, symbol: s });
  }
  entries.sort((a, b) => wanted.indexOf(a.symbol) - wanted.indexOf(b.symbol));
  return { store, entries };
}

/**
 * Loads bars from a store (or a folder inside one) as one multi-symbol frame (`ts`, `symbol`,
 * OHLCV), sorted by symbol (in `symbols` order when given, else by name) and time.
 * @throws DataError when the store holds nothing that matches, several intervals or sources
 *   match, or a partition cannot be read; ConfigError for a bad start or end.
 * @example loadStoreBars('store', { symbols: ['BTCUSDT'], interval: '1m', start: '2024-01-01', end: '2024-01-02' }).height // 1440
 */
export function loadStoreBars(path: string, query: StoreQuery = {}): Bars {
  const loc = locateStore(path);
  if (!loc) throw new DataError('not a bar store or a folder inside one', { file: path });
  const fromPath = selectionOf(loc);
  if (fromPath.kind === 'funding') throw new DataError('this folder holds funding rates: load it with loadFundingRates', { file: path });
  if (query.interval) parseDuration(query.interval);
  const sel: Selection = {
    kind: query.kind ?? fromPath.kind,
    source: agree(fromPath.source, query.source, 'source', path),
    symbol: fromPath.symbol,
    interval: agree(fromPath.interval, query.interval, 'interval', path),
  };
  const range = timeRange(query);
  const { store, entries } = pick(path, loc, sel, query.symbols);
  const frames: Bars[] = [];
  for (const e of entries) {
    const rows = store.read(e, range);
    if (rows.ts.length === 0) continue;
    const df = pl.DataFrame([tsSeries(rows.ts), ...OHLCV.map((c) => pl.Series(c, rows.cols[c], pl.Float64))]);
    // A literal column per symbol avoids building one JavaScript string per row.
    frames.push(df.withColumn(pl.lit(e.symbol).cast(pl.String).alias('symbol')).select('ts', 'symbol', ...OHLCV));
  }
  const when = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : ms < 0 ? 'the start' : 'the end');
  if (frames.length === 0) throw new DataError(`store holds no bars of ${describe(entries)} between ${when(range[0])} and ${when(range[1])}`, { file: path });
  return concatBars(frames);
}

function agree(fromPath: string | undefined, fromQuery: string | undefined, key: string, path: string): string | undefined {
  if (fromPath && fromQuery && fromPath !== fromQuery) throw new ConfigError(`the path selects ${key} ${fromPath} but the query asks for ${fromQuery}`, { key, file: path });
  return fromPath ?? fromQuery;
}

function timeRange(q: { start?: string | number | Date; end?: string | number | Date }): [number, number] {
  const start = q.start === undefined ? -Infinity : toMs(q.start, 'start');
  const end = q.end === undefined ? Infinity : toMs(q.end, 'end');
  if (!(end > start)) throw new ConfigError('end must be after start', { key: 'end', value: q.end });
  return [start, end];
}

/** Which funding series to read. */
export interface StoreFundingQuery {
  symbol?: string;
  source?: string;
  start?: string | number | Date;
  end?: string | number | Date;
}

/**
 * Loads one symbol's funding rates from a store: a frame of `ts` (funding time, ms UTC) and `rate`.
 * The symbol comes from the query or the path (`STORE/funding/<source>/<symbol>`).
 * @throws DataError when no funding or several symbols match.
 * @example loadStoreFunding('store/funding/binance-futures/BTCUSDT').height // 93 for a month of 8-hourly funding
 */
export function loadStoreFunding(path: string, query: StoreFundingQuery = {}): pl.DataFrame {
  const loc = locateStore(path);
  if (!loc) throw new DataError('not a bar store or a folder inside one', { file: path });
  const fromPath = selectionOf(loc);
  if (loc.prefix !== '' && fromPath.kind !== 'funding') throw new DataError('this folder holds bars, not funding rates (use STORE/funding/<source>/<symbol>)', { file: path });
  const sel: Selection = { kind: 'funding', source: agree(fromPath.source, query.source, 'source', path), symbol: agree(fromPath.symbol, query.symbol, 'symbol', path) };
  const { store, entries } = pick(path, loc, sel, sel.symbol ? [sel.symbol] : undefined);
  if (entries.length > 1) throw new DataError(`store holds funding of several symbols (${describe(entries)}); pass symbol or point at STORE/funding/<source>/<symbol>`, { file: path });
  const rows = store.read(entries[0], timeRange(query));
  if (rows.ts.length === 0) throw new DataError(`store holds no funding of ${describe(entries)} in that time range`, { file: path });
  return pl.DataFrame([tsSeries(rows.ts), pl.Series('rate', rows.cols.rate, pl.Float64)]);
}
