/**
 * A folder of per-symbol files as one multi-symbol frame.
 */
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { DataError } from '../../core/errors';
import { type Bars, hasSymbol, selectBarColumns } from '../bars';
import { formatDuration, inferIntervalMs } from '../interval';
import { loadableFiles } from './listing';

/** Folder options. */
export interface DirOptions {
  /** Symbol from a file name; default {@link symbolFromFileName}. */
  symbolFromName?: (fileName: string) => string;
  /** Accept files with different bar intervals (default false: a DataError names them). */
  allowMixedIntervals?: boolean;
}

const INTERVAL_SUFFIX = /^(.+?)-(\d+(?:ms|s|m|h|d|w|M))(?:-.*)?$/;

/**
 * The symbol a per-symbol file name stands for: the stem, cut before a `-<interval>` part.
 * @example symbolFromFileName('ETH_BTC-5m.feather') // 'ETH_BTC'
 * @example symbolFromFileName('XRP_USDT_USDT-5m-futures.feather') // 'XRP_USDT_USDT'
 * @example symbolFromFileName('AAPL.csv') // 'AAPL'
 */
export function symbolFromFileName(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, '');
  return INTERVAL_SUFFIX.exec(stem)?.[1] ?? stem;
}

/**
 * Loads every bar file of a folder (sorted by name, not recursive) into one frame with a
 * `symbol` column; files that already have a `symbol` column keep theirs.
 * @throws DataError for an empty folder, a symbol found in two files, or mixed bar intervals
 *   (listing each file's interval) unless `allowMixedIntervals`.
 * @example loadBarsDir('../shared/data/real/crypto-5m', {}, loadBars).height // 46033
 */
export function loadBarsDir<O extends DirOptions & { symbol?: string; keep?: string[] }>(dir: string, opts: O,
  loadFile: (path: string, opts: O) => Bars): Bars {
  const files = loadableFiles(dir);
  if (files.length === 0) throw new DataError('folder holds no bar files (.feather, .arrow, .parquet, .csv, .json)', { file: dir });
  const name = opts.symbolFromName ?? symbolFromFileName;
  const frames: Bars[] = [];
  const intervals: string[] = [];
  const steps = new Set<number>();
  const seen = new Map<string, string>();
  for (const f of files) {
    const path = join(dir, f);
    let bars = loadFile(path, { ...opts, symbol: undefined });
    if (!hasSymbol(bars)) {
      const symbol = name(f);
      const prior = seen.get(symbol);
      if (prior) throw new DataError(`symbol ${symbol} comes from two files: ${prior} and ${f}`, { file: dir, symbol });
      seen.set(symbol, f);
      bars = selectBarColumns(bars.withColumn(pl.lit(symbol).alias('symbol')), opts.keep ?? [], path);
    }
    const step = inferIntervalMs(bars.getColumn('ts').cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array);
    if (step !== undefined) steps.add(step);
    intervals.push(`${f}: ${step === undefined ? 'one bar' : formatDuration(step)}`);
    frames.push(bars);
  }
  if (steps.size > 1 && !opts.allowMixedIntervals) {
    throw new DataError(`mixed bar intervals in one folder (${intervals.join('; ')}); load the files separately or pass --allow-mixed-intervals (allowMixedIntervals in code)`, {
      file: dir,
    });
  }
  try {
    return pl.concat(frames, { how: 'vertical' });
  } catch (err) {
    throw new DataError(`files do not share one column layout: ${(err as Error).message.split('\n')[0]}`, { file: dir });
  }
}
