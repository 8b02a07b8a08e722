/**
 * File-system failures in words: the one place that turns an errno code into a message, for
 * reading (the loaders, `calibrate --input`) and for writing (`src/core/output.ts`).
 */

// Causes that read the same whichever call failed; the code follows in parentheses.
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENAMETOOLONG: 'path too long',
  ELOOP: 'symbolic link loop: the path leads back to itself',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  EXDEV: 'the temporary file and the target are on different file systems',
};

/**
 * What a failed file-system call means, in words a user can act on: a missing path, a symbolic
 * link loop, a folder where a file was expected, no permission, a full disk, ... (the code in
 * parentheses). `action` says what the call was doing, which decides the words for a missing
 * path (reading: `no such file`; writing: the folder that should hold the new file is missing)
 * and for a code not listed (reading: `cannot read file (CODE)`; writing: the error's first line).
 * @param action - 'file' (default) or 'file or folder' when reading; 'write' for outputs.
 * @example fsProblem(Object.assign(new Error(), { code: 'ELOOP' })) // 'symbolic link loop: the path leads back to itself (ELOOP)'
 * @example fsProblem(Object.assign(new Error('x'), { code: 'EROFS' }), 'write') // 'read-only file system (EROFS)'
 */
export function fsProblem(err: unknown, action: 'file' | 'file or folder' | 'write' = 'file'): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const writing = action === 'write';
  if (code === 'ENOENT') return writing ? 'the folder does not exist (ENOENT)' : `no such ${action}`;
  if (code === 'EISDIR') return writing ? 'a folder is in the way (EISDIR)' : 'is a folder, expected a file (EISDIR)';
  if (typeof code === 'string' && Object.hasOwn(CAUSES, code)) return `${CAUSES[code]} (${code})`;
  if (writing) return err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `cannot read ${action} (${code ?? (err as Error).message})`;
}
