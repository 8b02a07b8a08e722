import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, NotebookError, QuantbookError } from '../../src/core/errors';

describe('typed errors', () => {
  it('name the file, row, column and value in the message and keep them as fields', () => {
    const e = new DataError('price must be positive', { file: 'a.csv', row: 12, column: 'close', value: -1 });
    expect(e).toBeInstanceOf(QuantbookError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DataError');
    expect(e.message).toBe('price must be positive (file a.csv, row 12, column "close", value -1)');
    expect(e.row).toBe(12);
    expect(e.column).toBe('close');
    expect(e.value).toBe(-1);
    expect(e.problem).toBe('price must be positive');
  });

  it('formats notebook cells and config keys, and omits an empty location', () => {
    expect(new NotebookError('cell timed out', { file: 'n.ipynb', cell: 3 }).message).toBe(
      'cell timed out (file n.ipynb, cell 3)',
    );
    expect(new ConfigError('unknown key', { key: 'tmp' }).message).toBe('unknown key (key "tmp")');
    expect(new ConfigError('bad').message).toBe('bad');
  });

  it('shows NaN, strings and undefined values readably', () => {
    expect(new DataError('x', { value: Number.NaN }).message).toBe('x (value NaN)');
    expect(new DataError('x', { value: 'abc' }).message).toBe('x (value "abc")');
    expect(new DataError('x', { value: undefined }).message).toBe('x (value undefined)');
  });
});
