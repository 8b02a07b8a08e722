/**
 * File-system failures in words: the one place that turns an errno code into a message.
 */

/**
 * What a failed file-system call means, in words a user can act on: a missing path, a symbolic
 * link loop, a folder where a file was expected, no permission, ... (the code in parentheses).
 * @example fsProblem(Object.assign(new Error(), { code: 'ELOOP' })) // 'symbolic link loop: the path leads back to itself (ELOOP)'
 */
export function fsProblem(err: unknown, expected: 'file' | 'file or folder' = 'file'): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `no such ${expected}`;
    case 'ELOOP':
      return 'symbolic link loop: the path leads back to itself (ELOOP)';
    case 'EISDIR':
      return 'is a folder, expected a file (EISDIR)';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder (ENOTDIR)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'ENAMETOOLONG':
      return 'path too long (ENAMETOOLONG)';
    default:
      return `cannot read ${expected} (${code ?? (err as Error).message})`;
  }
}
