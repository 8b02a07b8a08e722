/**
 * File loaders: one function per format, and {@link loadBars}, which picks the
 * format from the extension (or reads a whole folder of per-symbol files).
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import pl, { type DataType } from 'nodejs-polars';
import { ConfigError, DataError } from '../../core/errors';
import type { Bars } from '../bars';
import { locateStore } from '../store/layout';
import { loadStoreBars, type StoreQuery } from '../store/load';
import { jsonTextToBars } from './json';
import { normalizeBars, TS_ALIASES, type NormalizeOptions } from './normalize';
import { loadBarsDir, type DirOptions } from './dir';

/** File formats the loaders understand. */
export type BarFormat = 'ipc' | 'parquet' | 'csv' | 'json';

/** Options of {@link loadBars}: column mapping, timestamps, CSV/folder specifics, and what to read from a bar store. */
export interface LoadOptions extends NormalizeOptions, DirOptions, StoreQuery {
  /** Format; default from the extension (.feather/.arrow/.ipc, .parquet/.pq, .csv/.tsv/.txt, .json/.jsonl). */
  format?: BarFormat;
  /** CSV field separator; default `,` (`\t` for .tsv). */
  separator?: string;
}

const EXT_FORMAT: Record<string, BarFormat> = {
  '.feather': 'ipc',
  '.arrow': 'ipc',
  '.ipc': 'ipc',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.json': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
};

/** The format of a file from its extension, or undefined when unknown.
 * @example formatOfPath('ETH_BTC-5m.feather') // 'ipc'
 */
export function formatOfPath(path: string): BarFormat | undefined {
  return EXT_FORMAT[extname(path).toLowerCase()];
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : `cannot read file (${code ?? (err as Error).message})`, { file: path });
  }
}

function polarsRead<T>(path: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read as ${what}: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
}

/**
 * Reads an Arrow IPC / Feather v2 file (any compression polars supports) as Bars.
 * The file is read into a Buffer first: nodejs-polars 0.26 `readIPC(path)` treats any path not
 * ending in `.ipc` as inline data and fails with `InvalidFooter` on `.feather` files.
 * @throws DataError for an unreadable or empty file, or missing columns.
 * @example loadIpc('../shared/data/real/crypto-5m/ETH_BTC-5m.feather').height // 5760
 */
export function loadIpc(path: string, opts: NormalizeOptions = {}): Bars {
  return normalizeBars(readIpcFrame(path), opts, path);
}

function readIpcFrame(path: string): pl.DataFrame {
  const bytes = readBytes(path);
  if (bytes.length === 0) throw new DataError('empty file', { file: path });
  return polarsRead(path, 'Arrow IPC/Feather', () => pl.readIPC(bytes));
}

function readParquetFrame(path: string): pl.DataFrame {
  if (statOrThrow(path) === 0) throw new DataError('empty file', { file: path });
  return polarsRead(path, 'Parquet', () => pl.readParquet(path));
}

/**
 * Reads an IPC/Feather, Parquet or CSV file as a raw polars frame (no normalization), for
 * series that are not bars (funding rates, labels).
 * @throws DataError for an unreadable or empty file, or an unsupported format.
 * @example readFrame('perp/XRP_USDT_USDT-8h-funding_rate.feather').columns // ['date', 'open', ...]
 */
export function readFrame(path: string, opts: Pick<LoadOptions, 'format' | 'separator'> = {}): pl.DataFrame {
  const format = opts.format ?? formatOfPath(path);
  if (format === 'ipc') return readIpcFrame(path);
  if (format === 'parquet') return readParquetFrame(path);
  if (format === 'csv') return readCsvFrame(path, {});
  throw new DataError('readFrame reads .feather/.arrow/.ipc, .parquet or .csv files', { file: path });
}

/**
 * Reads a Parquet file as Bars.
 * @throws DataError for an unreadable or empty file, or missing columns.
 * @example loadParquet('data/crypto-5m.parquet').height // 24140
 */
export function loadParquet(path: string, opts: NormalizeOptions = {}): Bars {
  return normalizeBars(readParquetFrame(path), opts, path);
}

/**
 * Reads a CSV file as Bars. The timestamp column is read as text and parsed by quantbook
 * (ISO 8601, a `%Y-%m-%d %H:%M`-style pattern, or epoch numbers with a unit), so the time zone of
 * naive timestamps (`timeZone`) and mixed zones are handled the same for every format.
 * @throws DataError for an empty file, missing columns, unparseable timestamps or numbers.
 * @example loadCsv('a-share-5m.csv', { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 })
 */
export function loadCsv(path: string, opts: LoadOptions = {}): Bars {
  return normalizeBars(readCsvFrame(path, opts), opts, path);
}

function readCsvFrame(path: string, opts: LoadOptions): pl.DataFrame {
  const bytes = readBytes(path);
  if (bytes.toString('utf8', 0, Math.min(bytes.length, 4096)).trim() === '') throw new DataError('empty file', { file: path });
  const sep = opts.separator ?? (extname(path).toLowerCase() === '.tsv' ? '\t' : ',');
  const header = bytes.toString('utf8', 0, Math.min(bytes.length, 65536)).split(/\r?\n/)[0].split(sep).map((s) => s.trim().replace(/^"|"$/g, ''));
  // Read every column that could be the timestamp as text so polars does not guess a type for it.
  const dtypes: Record<string, DataType> = {};
  const tsName = opts.columns?.ts ?? header.find((h) => TS_ALIASES.includes(h.toLowerCase()));
  if (tsName && header.includes(tsName)) dtypes[tsName] = pl.String;
  return polarsRead(path, 'CSV', () => pl.readCSV(bytes, { sep, dtypes, inferSchemaLength: 10000 }));
}

function statOrThrow(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'no such file' : `cannot read file (${code})`, { file: path });
  }
}

/**
 * Reads a JSON file: exchange kline rows or Alpaca bars pages (one page, an array of pages, or
 * one page per line). See `klinesToBars` and `alpacaPagesToBars`.
 * @throws DataError for invalid JSON, an unknown layout or bad values.
 * @example loadJson('../shared/data/real/crypto-1m/UNITTEST_BTC-1m.json').height // 13681
 */
export function loadJson(path: string, opts: NormalizeOptions = {}): Bars {
  return jsonTextToBars(readBytes(path).toString('utf8'), { symbol: opts.symbol }, path);
}

/**
 * Loads bars from a file or a folder of per-symbol files, picking the reader from the extension.
 *
 * A folder gives one multi-symbol frame with the symbol taken from each file name
 * (`ETH_BTC-5m.feather` -> `ETH_BTC`); see `loadBarsDir`. A bar store (a folder with a
 * `quantbook-store.json`, written by `quantbook data fetch`) or a folder inside one reads
 * through `loadStoreBars` with the `symbols`, `interval`, `start`, `end`, `source` options.
 * @throws DataError for a missing path, an unknown extension, or any loader error;
 *   ConfigError for store options on a path that is not a store.
 * @example loadBars('../shared/data/real/crypto-5m').getColumn('symbol').nUnique() // 8
 */
export function loadBars(path: string, opts: LoadOptions = {}): Bars {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new DataError('no such file or folder', { file: path });
  }
  if (isDir && locateStore(path)) return loadStoreBars(path, opts);
  const storeOnly = (['symbols', 'interval', 'start', 'end', 'source', 'kind'] as const).filter((k) => opts[k] !== undefined);
  if (storeOnly.length > 0) throw new ConfigError(`${storeOnly.join(', ')} select bars of a bar store, and this path is not one`, { file: path, key: storeOnly[0] });
  if (isDir) return loadBarsDir(path, opts, loadBars);
  const format = opts.format ?? formatOfPath(path);
  switch (format) {
    case 'ipc':
      return loadIpc(path, opts);
    case 'parquet':
      return loadParquet(path, opts);
    case 'csv':
      return loadCsv(path, opts);
    case 'json':
      return loadJson(path, opts);
    default:
      throw new DataError(`unknown file type "${extname(path)}" (use .feather/.arrow/.ipc, .parquet, .csv or .json, or pass format)`, {
        file: path,
      });
  }
}
