/**
 * The on-disk layout of a bar store, free of polars so that code which only needs paths
 * (provenance hashing in notebooks, `data store list`) does not load it.
 *
 * ```
 * STORE/quantbook-store.json                                  the manifest
 * STORE/bars/<source>/<symbol>/<interval>/<YYYY-MM>.parquet     OHLCV bars (ts, open, high, low, close, volume)
 * STORE/mark/<source>/<symbol>/<interval>/<YYYY-MM>.parquet     mark-price bars (volume 0)
 * STORE/funding/<source>/<symbol>/<YYYY-MM>.parquet             funding rates (ts, rate)
 * ```
 * Months are UTC calendar months of the bar open time (of the funding time).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigError, DataError } from '../../core/errors';
import { isoMs, mergeRanges, type TimeRange } from './ranges';

/** File name of the manifest at the store's root. */
export const STORE_MANIFEST = 'quantbook-store.json';

/** What a series holds. */
export type SeriesKind = 'bars' | 'mark' | 'funding';

/** Identifies one series of a store. `interval` is absent for funding. */
export interface SeriesId {
  kind: SeriesKind;
  source: string;
  symbol: string;
  interval?: string;
}

/** Missing bars inside the fetched ranges (24x7 sources only). */
export interface GapSummary {
  /** Runs of missing bars. */
  count: number;
  /** Missing bars in all runs. */
  missingBars: number;
  /** The longest runs, `[first missing bar, bar after the run)` as ISO text, longest first (10 at most). */
  largest: [string, string][];
}

/** One series in the manifest. Times are ISO 8601 UTC text. */
export interface SeriesEntry extends SeriesId {
  /** Ranges asked of the provider and fully received, `[start, end)`. */
  fetched: [string, string][];
  /** Ranges a fetch set out to get and has not finished (an interrupted fetch); the next fetch asks for them first. */
  pending: [string, string][];
  /** Rows stored. */
  rows: number;
  first?: string;
  last?: string;
  /** Month partitions (`YYYY-MM`). */
  months: string[];
  /** Known gaps: bars missing inside the fetched ranges; absent for session markets (stocks). */
  gaps?: GapSummary;
  /** Request options that shape the data (Alpaca `feed`, `adjustment`). */
  options?: Record<string, string>;
  /** Last time this series changed. */
  updated: string;
}

/** The manifest file. */
export interface StoreManifest {
  format: 'quantbook-store';
  version: 1;
  created: string;
  updated: string;
  series: Record<string, SeriesEntry>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks a source, symbol or interval name before it becomes a folder name.
 * @throws ConfigError for an empty name or one with characters other than letters, digits, `.`, `_`, `-`.
 * @example assertStoreName('BTCUSDT', 'symbol') // ok
 */
export function assertStoreName(name: string, what: string): void {
  if (!NAME.test(name)) throw new ConfigError(`${what} must be letters, digits, ".", "_" or "-" (it names a folder of the store)`, { key: what, value: name });
}

/**
 * The manifest key and folder of a series, relative to the store root, with `/` separators.
 * @example seriesKey({ kind: 'bars', source: 'binance', symbol: 'BTCUSDT', interval: '1m' }) // 'bars/binance/BTCUSDT/1m'
 */
export function seriesKey(id: SeriesId): string {
  for (const [what, v] of [['source', id.source], ['symbol', id.symbol]] as const) assertStoreName(v, what);
  if (id.kind === 'funding') return `funding/${id.source}/${id.symbol}`;
  if (!id.interval) throw new ConfigError(`a ${id.kind} series needs an interval`, { key: 'interval' });
  assertStoreName(id.interval, 'interval');
  return `${id.kind}/${id.source}/${id.symbol}/${id.interval}`;
}

/**
 * The UTC month (`YYYY-MM`) a time falls in.
 * @example monthOf(Date.UTC(2024, 0, 31, 23, 59)) // '2024-01'
 */
export function monthOf(ms: number): string {
  return isoMs(ms).slice(0, 7);
}

/** `[start, end)` of a `YYYY-MM` month in ms UTC. */
export function monthRange(month: string): TimeRange {
  const [y, m] = month.split('-').map(Number);
  return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1)];
}

/** Path of a month partition file. */
export function partitionPath(root: string, key: string, month: string): string {
  return join(root, ...key.split('/'), `${month}.parquet`);
}

/** True when `dir` is the root of a bar store (holds the manifest).
 * @example isStoreRoot('store') // true after `quantbook data fetch --to store`
 */
export function isStoreRoot(dir: string): boolean {
  return existsSync(join(dir, STORE_MANIFEST));
}

/** Where a path sits in a store: the root and the series selected by the folders below it. */
export interface StoreLocation {
  root: string;
  /** Leading parts of a series key the path names (`bars`, `bars/binance`, `bars/binance/BTCUSDT/1m`, ...); '' for the root. */
  prefix: string;
}

/**
 * Finds the store a folder belongs to: the folder itself or one of its parents (up to four
 * levels, the depth of a series folder) holding the manifest.
 * @returns undefined when the path is a file or no store is found.
 * @example locateStore('store/bars/binance') // { root: '/abs/store', prefix: 'bars/binance' }
 */
export function locateStore(path: string): StoreLocation | undefined {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const start = dir;
  for (let up = 0; up <= 4; up++) {
    if (isStoreRoot(dir)) return { root: dir, prefix: relative(dir, start).split(sep).filter(Boolean).join('/') };
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * Reads and checks the manifest of a store.
 * @throws DataError when the file is missing, not JSON, or not a quantbook store manifest.
 * @example readManifest('store').series['bars/binance/BTCUSDT/1m'].rows // 43200
 */
export function readManifest(root: string): StoreManifest {
  const file = join(root, STORE_MANIFEST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DataError('not a bar store (no manifest; create one with `quantbook data fetch --to`)', { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DataError(`store manifest is not valid JSON: ${(err as Error).message}`, { file });
  }
  const m = doc as Partial<StoreManifest>;
  if (m?.format !== 'quantbook-store' || m.version !== 1 || typeof m.series !== 'object' || m.series === null) {
    throw new DataError('not a quantbook store manifest (format "quantbook-store", version 1)', { file });
  }
  return m as StoreManifest;
}

/** A new, empty manifest. */
export function emptyManifest(nowMs: number): StoreManifest {
  return { format: 'quantbook-store', version: 1, created: isoMs(nowMs), updated: isoMs(nowMs), series: {} };
}

/** Ranges of a manifest entry as ms. */
export function entryRanges(ranges: readonly [string, string][]): TimeRange[] {
  return mergeRanges(ranges.map(([a, b]) => [Date.parse(a), Date.parse(b)] as const));
}

/** Ranges as the manifest writes them. */
export function rangesToIso(ranges: readonly TimeRange[]): [string, string][] {
  return mergeRanges(ranges).map(([a, b]) => [isoMs(a), isoMs(b)]);
}

/**
 * Every file of a store a loader may read: the manifest, then each partition (sorted), as paths
 * joined to `path`. For provenance hashing.
 * @example storeFiles('store') // ['store/quantbook-store.json', 'store/bars/binance/BTCUSDT/1m/2024-01.parquet', ...]
 */
export function storeFiles(path: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.parquet')) out.push(p);
    }
  };
  const loc = locateStore(path);
  if (!loc) return out;
  walk(resolve(path));
  const rel = (p: string): string => join(path, relative(resolve(path), p));
  return [...(loc.prefix === '' ? [join(path, STORE_MANIFEST)] : []), ...out.map(rel)];
}
