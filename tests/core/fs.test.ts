import { describe, expect, it } from 'vitest';
import { fsProblem } from '../../src/core/fs';

const fsError = (code: string | undefined, message = `${code}: something, open 'x'`) => Object.assign(new Error(message), code ? { code } : {});

describe('fsProblem: one wording of file-system errors for reading and writing', () => {
  it('a missing path and a folder in the way depend on what the call was doing', () => {
    expect(fsProblem(fsError('ENOENT'))).toBe('no such file');
    expect(fsProblem(fsError('ENOENT'), 'file or folder')).toBe('no such file or folder');
    expect(fsProblem(fsError('ENOENT'), 'write')).toBe('the folder does not exist (ENOENT)');
    expect(fsProblem(fsError('EISDIR'))).toBe('is a folder, expected a file (EISDIR)');
    expect(fsProblem(fsError('EISDIR'), 'write')).toBe('a folder is in the way (EISDIR)');
  });

  it('other known codes read the same either way, with the code in parentheses', () => {
    const cases: Array<[string, string]> = [
      ['ELOOP', 'symbolic link loop: the path leads back to itself (ELOOP)'],
      ['EACCES', 'permission denied (EACCES)'],
      ['EPERM', 'operation not permitted (EPERM)'],
      ['ENOTDIR', 'a part of the path is a file, not a folder (ENOTDIR)'],
      ['ENAMETOOLONG', 'path too long (ENAMETOOLONG)'],
      ['ENOSPC', 'no space left on device (ENOSPC)'],
      ['EROFS', 'read-only file system (EROFS)'],
    ];
    for (const [code, words] of cases) {
      expect(fsProblem(fsError(code))).toBe(words);
      expect(fsProblem(fsError(code), 'write')).toBe(words);
    }
  });

  it('an unknown code: reading names the code, writing keeps the first line of the error', () => {
    expect(fsProblem(fsError('EBUSY'))).toBe('cannot read file (EBUSY)');
    expect(fsProblem(fsError('EBUSY', 'EBUSY: resource busy\nmore'), 'write')).toBe('EBUSY: resource busy');
    expect(fsProblem(fsError(undefined, 'odd failure'), 'file or folder')).toBe('cannot read file or folder (odd failure)');
    expect(fsProblem('not an error', 'write')).toBe('not an error');
    expect(fsProblem(fsError('constructor'))).toBe('cannot read file (constructor)');
  });
});
