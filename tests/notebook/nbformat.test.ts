import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotebookError } from '../../src/core/errors';
import { cellSource, parseNotebook, readNotebook, writeNotebook } from '../../src/notebook/records/nbformat';

const dir = mkdtempSync(join(tmpdir(), 'qb-nbformat-'));

describe('reading notebooks', () => {
  it('reads nbformat 4, joins list sources and fills missing outputs of code cells', () => {
    const nb = parseNotebook(JSON.stringify({
      nbformat: 4, nbformat_minor: 4, metadata: { kernelspec: { name: 'tslab' } },
      cells: [{ cell_type: 'code', source: ['a\n', 'b'], metadata: {} }, { cell_type: 'markdown', source: '# t', metadata: {} }],
    }), 'n.ipynb');
    expect(cellSource(nb.cells[0])).toBe('a\nb');
    expect(nb.cells[0].outputs).toEqual([]);
    expect(nb.cells[0].execution_count).toBeNull();
    expect(nb.cells[1].outputs).toBeUndefined();
    expect(nb.metadata.kernelspec).toEqual({ name: 'tslab' });
  });

  it('names the file for invalid JSON, another nbformat and a missing file', () => {
    const bad = join(dir, 'bad.ipynb');
    writeFileSync(bad, '{"nbformat": 4, "cells": [');
    expect(() => readNotebook(bad)).toThrow(NotebookError);
    expect(() => readNotebook(bad)).toThrow(new RegExp(`^not valid JSON: .*\\(file ${bad}\\)$`));
    expect(() => parseNotebook('{"nbformat": 3, "worksheets": []}', 'old.ipynb')).toThrow('not an nbformat 4 notebook (nbformat 3) (file old.ipynb)');
    expect(() => parseNotebook('[]', 'arr.ipynb')).toThrow(/not an nbformat 4 notebook.*\(file arr.ipynb\)/);
    expect(() => readNotebook(join(dir, 'missing.ipynb'))).toThrow(/cannot read notebook: ENOENT/);
  });

  it('names the cell of a malformed cell', () => {
    const text = JSON.stringify({
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: [{ cell_type: 'code', source: '', metadata: {} }, { cell_type: 'widget', source: 'x', metadata: {} }],
    });
    expect(() => parseNotebook(text, 'n.ipynb')).toThrow(/^malformed cell: cell_type: .*\(file n.ipynb, cell 1\)$/);
  });

  it('writes 1-space indented JSON with a trailing newline that reads back equal', () => {
    const nb = parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'raw', source: 'r', metadata: {} }] }), 'x');
    const out = join(dir, 'out', 'w.ipynb');
    writeNotebook(out, nb);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('{\n "cells": [')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
    expect(readNotebook(out)).toEqual(nb);
  });
});
