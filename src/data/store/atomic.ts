/**
 * The bar store's writes, through the project's one atomic writer (`core/output`: a temporary
 * file in the target's folder, fsync, rename), so a reader sees the old file or the new one,
 * never half of one, and a failed fetch leaves no new file beside old ones. polars encodes each
 * partition in memory; no native code opens a store file for writing.
 */
import type pl from 'nodejs-polars';
import { DataError } from '../../core/errors';
import { OutputBatch, writeFileAtomic as writeAtomic } from '../../core/output';

/**
 * Writes `text` to `path` atomically.
 * @throws OutputError naming the file when it cannot be written; the target is then unchanged.
 * @example writeFileAtomic('store/quantbook-store.json', '{}')
 */
export function writeFileAtomic(path: string, text: string): void {
  writeAtomic(path, text);
}

/** A partition written to its temporary file and not yet renamed into place. */
export interface StagedFile {
  path: string;
  batch: OutputBatch;
}

/**
 * Encodes a frame as Parquet (zstd) and writes it to a temporary file beside `path`;
 * {@link commitStaged} renames it into place, {@link discardStaged} removes it.
 * @throws DataError when polars cannot encode the frame; OutputError when the file cannot be
 *   written (nothing is left behind either way).
 */
export function stageParquet(frame: pl.DataFrame, path: string): StagedFile {
  let bytes: Buffer;
  try {
    bytes = frame.writeParquet({ compression: 'zstd' });
  } catch (err) {
    throw new DataError(`cannot encode the partition as Parquet: ${(err as Error).message.split('\n')[0]}`, { file: path }, { cause: err });
  }
  const batch = new OutputBatch();
  batch.write(path, bytes);
  return { path, batch };
}

/** Renames staged files into place, in order. */
export function commitStaged(files: readonly StagedFile[]): void {
  for (const f of files) f.batch.commit();
}

/** Removes staged files that were not committed. */
export function discardStaged(files: readonly StagedFile[]): void {
  for (const f of files) f.batch.abort();
}
