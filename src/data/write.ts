/**
 * Writing Bars to Parquet, Arrow IPC/Feather or CSV (format from the extension).
 *
 * polars encodes the frame in memory and the bytes go through the one atomic writer
 * (`writeFileAtomic`: temporary file in the same folder, fsync, rename), so no file is
 * opened by native code: a folder in the way, a read-only file system or a full disk is
 * a typed error naming the file, never a Rust panic, and the previous file stays intact.
 */
import { DataError } from '../core/errors';
import { writeFileAtomic } from '../core/output';
import type { Bars } from './bars';
import { formatOfPath } from './load';

/** The formats {@link writeBars} writes. */
const WRITABLE = ['parquet', 'ipc', 'csv'] as const;

/**
 * Whether {@link writeBars} can write `path` (by its extension: `.parquet`, `.feather`, `.arrow`, `.ipc`, `.csv`).
 * @example isWritableBarsPath('out/a.parquet') // true; isWritableBarsPath('out/a.json') // false
 */
export function isWritableBarsPath(path: string): boolean {
  const format = formatOfPath(path);
  return format !== undefined && (WRITABLE as readonly string[]).includes(format);
}

/**
 * Writes a frame to `path` atomically: `.parquet` (zstd), `.feather`/`.arrow`/`.ipc` (Arrow IPC, LZ4) or `.csv`
 * (timestamps as ISO 8601 UTC with milliseconds, `2024-03-11T13:30:00.000Z`, which every loader reads back).
 * The folder is created; on failure the previous file is unchanged.
 * @throws DataError for another extension or when polars cannot encode the frame;
 *   OutputError naming the file when it cannot be written (full disk, read-only file system, a folder in the way).
 * @example writeBars(bars, 'out/btc-30m.parquet')
 */
export function writeBars(bars: Bars, path: string): void {
  const format = formatOfPath(path);
  let bytes: Buffer;
  try {
    if (format === 'parquet') bytes = bars.writeParquet({ compression: 'zstd' });
    else if (format === 'ipc') bytes = bars.writeIPC({ compression: 'lz4' });
    else if (format === 'csv') bytes = bars.writeCSV({ datetimeFormat: '%Y-%m-%dT%H:%M:%S%.3fZ' });
    else throw new DataError('cannot write this file type (use .parquet, .feather, .arrow or .csv)', { file: path });
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot encode the bars as ${format}: ${(err as Error).message.split('\n')[0]}`, { file: path }, { cause: err });
  }
  writeFileAtomic(path, bytes);
}
