import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotebookError } from '../../src/core/errors';
import type { Notebook } from '../../src/notebook/runner/nbformat';
import {
  checkParamName, collectParameters, declaredParameters, injectParameters, parametersSource, parseParamValue,
} from '../../src/notebook/runner/parameters';

function notebook(cells: Array<{ source: string; tags?: string[]; type?: 'code' | 'markdown' }>): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c, i) => ({
      cell_type: c.type ?? 'code', id: `c${i}`, source: c.source, metadata: c.tags ? { tags: c.tags } : {},
      ...(c.type === 'markdown' ? {} : { outputs: [], execution_count: null }),
    })),
  };
}

describe('parameter values (papermill -p conventions)', () => {
  it('reads numbers, booleans, null and JSON, and keeps anything else as text', () => {
    expect(parseParamValue('30')).toBe(30);
    expect(parseParamValue('-0.5')).toBe(-0.5);
    expect(parseParamValue('1e-3')).toBe(0.001);
    expect(parseParamValue('true')).toBe(true);
    expect(parseParamValue('False')).toBe(false);
    expect(parseParamValue('None')).toBe(null);
    expect(parseParamValue('[1, "a"]')).toEqual([1, 'a']);
    expect(parseParamValue('{"k": 2}')).toEqual({ k: 2 });
    expect(parseParamValue('"007"')).toBe('007');
    expect(parseParamValue('BTCUSDT')).toBe('BTCUSDT');
    expect(parseParamValue('1.2.3')).toBe('1.2.3');
    expect(parseParamValue('[not json')).toBe('[not json');
  });

  it('merges -f files, then -y strings, then -p pairs, later winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-params-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'horizon: 10\nsymbol: ETHUSDT\nweights: [0.5, 0.5]\n');
    const params = collectParameters({ files: [file], yaml: ['horizon: 20\nseed: 3'], pairs: [['seed', '4']] });
    expect(params).toEqual({ horizon: 20, symbol: 'ETHUSDT', weights: [0.5, 0.5], seed: 4 });
  });

  it('refuses names that cannot be a TypeScript const, unreadable files and non-mapping YAML', () => {
    for (const bad of ['1x', 'a-b', 'class', 'const', 'with space', '']) expect(() => checkParamName(bad)).toThrow(NotebookError);
    expect(() => checkParamName('nPaths_2')).not.toThrow();
    expect(() => collectParameters({ pairs: [['my-param', '1']] }, 'n.ipynb')).toThrow(/"my-param" is not a valid identifier \(file n.ipynb, key "my-param"\)/);
    expect(() => collectParameters({ files: ['/no/such.yaml'] })).toThrow(/cannot read parameters file/);
    expect(() => collectParameters({ yaml: ['- a\n- b'] })).toThrow(/YAML mapping/);
    expect(() => collectParameters({ yaml: ['a: [1'] })).toThrow(/not valid YAML/);
  });
});

describe('parameter injection', () => {
  const source = "const horizon = 30;\nconst symbol: string = 'BTC'; // traded symbol\nlet stop: number | null = null;\nconst flag = true;";

  it('finds the declarations of the parameters cell with their annotations and literal kinds', () => {
    expect(declaredParameters(source)).toEqual([
      { name: 'horizon', literalKind: 'number' },
      { name: 'symbol', annotation: 'string', literalKind: 'string' },
      { name: 'stop', annotation: 'number | null' },
      { name: 'flag', literalKind: 'boolean' },
    ]);
  });

  it('writes const declarations of JSON literals, keeping declared types and widening literals', () => {
    const src = parametersSource({ horizon: 60, symbol: 'ETH "x"', stop: 0.02, grid: [1, 2] }, declaredParameters(source));
    expect(src).toBe([
      '// Parameters injected by quantbook',
      'const horizon: number = 60;',
      'const symbol: string = "ETH \\"x\\"";',
      'const stop: number | null = 0.02;',
      'const grid = [1,2];',
    ].join('\n'));
  });

  it('puts a tagged cell right after the parameters cell, replacing an earlier injection', () => {
    const nb = notebook([
      { source: '# title', type: 'markdown' },
      { source, tags: ['parameters'] },
      { source: 'const horizon = 1;', tags: ['injected-parameters'] },
      { source: 'console.log(horizon)' },
    ]);
    const r = injectParameters(nb, { horizon: 60 }, 'n.ipynb');
    expect(r.notebook.cells.map((c) => c.metadata.tags ?? [])).toEqual([[], ['parameters'], ['injected-parameters'], []]);
    expect(r.notebook.cells[2].source).toBe('// Parameters injected by quantbook\nconst horizon: number = 60;');
    expect(r.notebook.cells[2].id).toMatch(/^[0-9a-f]{8}$/);
    expect(r.injectedIndex).toBe(2);
    expect(r.warnings).toEqual([]);
    expect(nb.cells).toHaveLength(4); // the input is not modified
  });

  it('warns about unknown names, and injects at the top with a warning when no cell is tagged', () => {
    const tagged = notebook([{ source, tags: ['parameters'] }, { source: 'x' }]);
    expect(injectParameters(tagged, { horizn: 5 }).warnings).toEqual(['parameter "horizn" is not declared in the parameters cell (cell 0)']);
    const untagged = notebook([{ source: 'const a = 1;' }]);
    const r = injectParameters(untagged, { a: 2 });
    expect(r.injectedIndex).toBe(0);
    expect(r.notebook.cells[0].metadata.tags).toEqual(['injected-parameters']);
    expect(r.warnings[0]).toMatch(/no cell tagged "parameters"/);
  });

  it('refuses a value of the wrong kind for an unannotated literal default, naming notebook, cell and parameter', () => {
    const nb = notebook([{ source: '# t', type: 'markdown' }, { source, tags: ['parameters'] }]);
    const err = (() => {
      try {
        injectParameters(nb, { horizon: 'abc' }, 'n.ipynb');
      } catch (e) {
        return e as NotebookError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(NotebookError);
    expect(err.message).toBe('parameter "horizon" must be a number like its default in the parameters cell, got string "abc" (file n.ipynb, cell 1, key "horizon")');
    // An explicit annotation is left to the TypeScript compiler.
    expect(() => injectParameters(nb, { stop: 'x' }, 'n.ipynb')).not.toThrow();
  });

  it('changes nothing when there are no parameters', () => {
    const nb = notebook([{ source, tags: ['parameters'] }]);
    expect(injectParameters(nb, {}).notebook.cells).toHaveLength(1);
  });
});
