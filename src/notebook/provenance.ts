/**
 * `provenance`: what a notebook declares about its inputs, so its report can
 * say exactly which data files and models (by sha256), which device and which
 * settings produced it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { NotebookError } from '../core/errors';
import { emitDisplay } from './display';
import { PROVENANCE_MIME, type ProvenancePayload } from './mime';

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
