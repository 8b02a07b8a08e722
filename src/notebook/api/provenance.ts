/**
 * `provenance`: what a notebook declares about its inputs, so its report can
 * say exactly which data files and models (by sha256), which device and which
 * settings produced it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NotebookError } from '../../core/errors';
// The polars-free listing module on purpose: the notebook API must not load polars.
import { loadableFiles } from '../../data/load/listing';
import { locateStore, storeFiles } from '../../data/store/layout';
import { emitDisplay } from './display';
import { PROVENANCE_MIME, type ProvenancePayload } from '../records/mime';

/** A declared file, as hashed. */
export type ProvenanceFile = Extract<ProvenancePayload, { kind: 'file' }>;

/**
 * sha256 of a file, streamed in 1 MiB chunks (models can be large).
 * @throws NotebookError when the path is missing or not a regular file.
 * @example sha256File('empty.txt') // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function sha256File(path: string): { sha256: string; bytes: number } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new NotebookError('declared file does not exist', { file: path });
  }
  if (!st.isFile()) throw new NotebookError('declared path is not a regular file', { file: path });
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

function declare(payload: ProvenancePayload, text: string): void {
  emitDisplay({ data: { [PROVENANCE_MIME]: payload, 'text/plain': text }, metadata: {} });
}

/** Declarations that end up in the report's provenance header. */
export const provenance = {
  /**
   * Declares a data file, model or config the notebook read, hashing it now.
   * Relative paths resolve against the kernel's working directory (the
   * notebook's folder, in JupyterLab and headless alike).
   * @param role - 'data' (default), 'model' or 'config'.
   * @throws NotebookError when the file is missing.
   * @example provenance.addFile('../data/btc-1m.csv') // shown as "data file ../data/btc-1m.csv: 48213 bytes, sha256 ..."
   */
  addFile(path: string, role: ProvenanceFile['role'] = 'data'): void {
    const resolvedPath = resolve(path);
    const { sha256, bytes } = sha256File(resolvedPath);
    const payload: ProvenanceFile = { kind: 'file', role, path, resolvedPath, bytes, sha256 };
    declare(payload, `${role} file ${path}: ${bytes} bytes, sha256 ${sha256}`);
  },
  /**
   * Declares the bar data a notebook loads: a single file, or every file of a folder that
   * `loadBars` reads from it (the loadable bar files that `loadableFiles` lists: sorted, not
   * recursive; dotfiles, subfolders and other files are skipped, as the loader skips them); for
   * a bar store (or a folder inside one), its manifest and every Parquet partition below the path.
   * Each file is declared as by {@link provenance.addFile} (role 'data'), its path joined to `path`.
   * @throws NotebookError when the path is missing, or is a folder with no loadable file.
   * @example provenance.addData('../../shared/data/real/crypto-5m') // 8 lines, "data file ../../shared/data/real/crypto-5m/ADA_BTC-5m.feather: 173754 bytes,
   * sha256 ..." first
   */
  addData(path: string): void {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new NotebookError('declared data path does not exist', { file: path });
    }
    if (!isDir) {
      provenance.addFile(path);
      return;
    }
    const files = locateStore(path) ? storeFiles(path).map((f) => relative(path, f)) : loadableFiles(path);
    if (files.length === 0) throw new NotebookError('declared data folder holds no loadable bar files', { file: path });
    for (const f of files) provenance.addFile(join(path, f));
  },
  /**
   * Declares the compute device used (e.g. what onnxruntime ran on).
   * @example provenance.device('cuda', 'NVIDIA H100, onnxruntime CUDA EP')
   */
  device(device: string, detail?: string): void {
    declare(detail === undefined ? { kind: 'device', device } : { kind: 'device', device, detail }, `device ${device}${detail ? ` (${detail})` : ''}`);
  },
  /**
   * Declares any other fact worth a line in the header (a model id, a data range).
   * @example provenance.note('bars', '2024-03-01..2024-03-31, 1m')
   */
  note(key: string, value: string): void {
    declare({ kind: 'note', key, value: String(value) }, `${key}: ${value}`);
  },
};
