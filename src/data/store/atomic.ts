/**
 * Atomic file replacement for the bar store: write a temporary file in the target's own folder,
 * then rename it over the target (rename is atomic within one file system on POSIX), so a reader
 * sees the old file or the new one, never half of one.
 *
 * Kept small and local on purpose: a shared atomic-write helper for `src/core` is being built
 * on another branch; this one should be replaced by it when both are merged.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type pl from 'nodejs-polars';
import { DataError } from '../../core/errors';

let counter = 0;

/** Removes a temporary file if it is there; a failure to clean up must not hide the error that caused it. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The folder itself could not be made: there is no temporary file.
  }
}

/** A temporary path beside `path` (same folder, so the rename stays on one file system). */
export function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
}

/**
 * Writes `text` to `path` atomically (temp file + rename).
 * @throws DataError when the folder or file cannot be written; the target is then unchanged.
 * @example writeFileAtomic('store/quantbook-store.json', '{}')
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw new DataError(`cannot write: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
}

/** A file written to its temporary path and not yet renamed into place. */
export interface StagedFile {
  tmp: string;
  path: string;
}

/**
 * Writes a frame as Parquet (zstd) to a temporary path beside `path`; {@link commitStaged}
 * renames it into place, {@link discardStaged} removes it.
 * @throws DataError when the write fails (nothing is left behind).
 */
export function stageParquet(frame: pl.DataFrame, path: string): StagedFile {
  const tmp = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    frame.writeParquet(tmp, { compression: 'zstd' });
  } catch (err) {
    removeQuietly(tmp);
    throw new DataError(`cannot write: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
  return { tmp, path };
}

/** Renames staged files into place, in order. */
export function commitStaged(files: readonly StagedFile[]): void {
  for (const f of files) renameSync(f.tmp, f.path);
}

/** Removes staged files that were not committed. */
export function discardStaged(files: readonly StagedFile[]): void {
  for (const f of files) removeQuietly(f.tmp);
}
