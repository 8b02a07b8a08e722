/**
 * Writing Bars to Parquet, Arrow IPC/Feather or CSV (format from the extension).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError } from '../core/errors';
import type { Bars } from './bars';
import { formatOfPath } from './load';

/**
 * Writes a frame to `path`: `.parquet` (zstd), `.feather`/`.arrow`/`.ipc` (Arrow IPC, LZ4) or `.csv`
 * (timestamps as ISO 8601 UTC with milliseconds, `2024-03-11T13:30:00.000Z`, which every loader reads back).
 * @throws DataError for another extension or a write failure.
 * @example writeBars(bars, 'out/btc-30m.parquet')
 */
export function writeBars(bars: Bars, path: string): void {
  const format = formatOfPath(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (format === 'parquet') bars.writeParquet(path, { compression: 'zstd' });
    else if (format === 'ipc') bars.writeIPC(path, { compression: 'lz4' });
    else if (format === 'csv') bars.writeCSV(path, { datetimeFormat: '%Y-%m-%dT%H:%M:%S%.3fZ' });
    else throw new DataError('cannot write this file type (use .parquet, .feather, .arrow or .csv)', { file: path });
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot write: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
}
