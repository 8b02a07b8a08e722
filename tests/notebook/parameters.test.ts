import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, NotebookError } from '../../src/core/errors';
import type { JsonValue } from '../../src/notebook/records/mime';
import type { Notebook } from '../../src/notebook/records/nbformat';
import {
  checkParamName, collectParameters, declaredParameters, injectParameters, parametersSource, parseParamValue, tsLiteral,
} from '../../src/notebook/runner/parameters';
import { thrownBy } from '../support/errors';

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
    for (const bad of ['1x', 'a-b', 'class', 'const', 'with space', '']) expect(() => checkParamName(bad)).toThrow(ConfigError);
    expect(() => checkParamName('nPaths_2')).not.toThrow();
    expect(() => collectParameters({ pairs: [['my-param', '1']] }, 'n.ipynb')).toThrow(
      'parameter name "my-param" (from -p) cannot be declared as a TypeScript const: it is not an identifier (a letter, _ or $, then letters, digits, _ or $) (file n.ipynb, key "my-param")');
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

/** Compiles `const v = <literal>;` with tslab's own TypeScript (5.0, its ES2022 target) and evaluates it: what the kernel would see. */
function throughTslabCompiler(literal: string): unknown {
  const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');
  const out = ts.transpileModule(`const v = ${literal};\nexport default v;`, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }); // tslab's target on Node >= 16
  expect((out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  const exports: { default?: unknown } = {};
  new Function('exports', out.outputText)(exports);
  return exports.default;
}

describe('one rule for every parameter source (issue 12)', () => {
  it('refuses a number that is not finite from -p, -y and -f, at the top level or nested, naming parameter and flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-params-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'w: [1, .nan]\n');
    const p = thrownBy(() => collectParameters({ pairs: [['n', '1e400']] }, 'n.ipynb'), ConfigError);
    expect(p.message).toBe('parameter "n" (from -p) is Infinity: parameters must be finite numbers (JSON has no NaN or Infinity; a literal beyond ±1.8e308 overflows) (file n.ipynb, key "n", value "1e400")');
    expect(thrownBy(() => collectParameters({ pairs: [['n', '-1e400']] }), ConfigError).problem).toMatch(/^parameter "n" \(from -p\) is -Infinity: parameters must be finite/);
    expect(thrownBy(() => collectParameters({ pairs: [['cfg', '{"a": [1, 1e999]}']] }), ConfigError).problem).toMatch(/^parameter "cfg" \(from -p\) holds Infinity at cfg.a\[1\]: parameters must be finite/);
    expect(thrownBy(() => collectParameters({ yaml: ['n: .inf'] }), ConfigError).problem).toMatch(/^parameter "n" \(from -y\) is Infinity: parameters must be finite/);
    expect(thrownBy(() => collectParameters({ yaml: ['n: 1e400'] }), ConfigError).problem).toMatch(/^parameter "n" \(from -y\) is Infinity: /);
    expect(thrownBy(() => collectParameters({ files: [file] }), ConfigError).problem).toMatch(new RegExp(`^parameter "w" \\(from -f ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) holds NaN at w\\[1\\]: parameters must be finite`));
    // The library API follows the same rule.
    expect(thrownBy(() => injectParameters(notebook([{ source: 'const n = 1;', tags: ['parameters'] }]), { n: Infinity }), ConfigError).problem).toMatch(/^parameter "n" is Infinity/);
    expect(collectParameters({ pairs: [['n', '1e308']] }).n).toBe(1e308);
    // A YAML alias cycle is reported as one, not followed for ever.
    expect(() => collectParameters({ yaml: ['a: &x [1, *x]'] })).toThrow(/^parameter "a" \(from -y\): value at \$\[1\] refers to itself/);
  });

  it('refuses names a const cannot have, saying why, from -p and -y alike (nothing is dropped)', () => {
    const why = (name: string, source: { pairs?: Array<[string, string]>; yaml?: string[] }) => thrownBy(() => collectParameters(source), ConfigError).problem;
    expect(why('__proto__', { pairs: [['__proto__', '{"x": 1}']] })).toBe(
      'parameter name "__proto__" (from -p) cannot be declared as a TypeScript const: tslab renames names that start with "__", so later cells would not see it');
    expect(why('__proto__', { yaml: ['__proto__: {x: 1}'] })).toMatch(/^parameter name "__proto__" \(from -y\) cannot be declared as a TypeScript const: tslab renames/);
    expect(why('class', { pairs: [['class', '1']] })).toMatch(/"class" \(from -p\) cannot be declared as a TypeScript const: it is a reserved word$/);
    expect(why('NaN', { yaml: ['NaN: 1'] })).toMatch(/does not let a module redeclare this built-in$/);
    expect(why('exports', { pairs: [['exports', '1']] })).toMatch(/tslab's cell wrapper uses this name itself$/);
    expect(why('', { yaml: ['"": 1'] })).toMatch(/it is empty$/);
    // Names Object.prototype has are ordinary names: kept as own keys, no prototype involved.
    const params = collectParameters({ pairs: [['constructor', '2'], ['toString', '"x"']], yaml: ['hasOwnProperty: 3'] });
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.entries(params)).toEqual([['hasOwnProperty', 3], ['constructor', 2], ['toString', 'x']]);
  });

  it('writes every string and key so tslab\'s TypeScript 5.0 compiles it back to the same value', () => {
    // U+2028/U+2029 end a string literal in TypeScript 5.0; JSON.stringify leaves them raw.
    const separators = 'a\u2028b\u2029c';
    expect(parametersSource({ s: separators })).toBe('// Parameters injected by quantbook\nconst s: string = "a\\u2028b\\u2029c";');
    expect(throughTslabCompiler(tsLiteral(separators))).toBe(separators);
    // Every UTF-16 code unit (lone surrogates included) and an astral character, in a value and as a key.
    const all = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('') + '\u{1F600}';
    const value: JsonValue = { [all]: [all, -0, 1e-300, { k: all }], ['__proto__']: { x: 1 } };
    const back = throughTslabCompiler(tsLiteral(value)) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual([all, '__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ x: 1 });
    expect((back[all] as unknown[])[0]).toBe(all);
    expect(Object.is((back[all] as unknown[])[1], -0)).toBe(true);
    expect(() => tsLiteral([1, NaN])).toThrow(ConfigError);
  });

  it('keeps a nested "__proto__" key of a -p or -y value as data', () => {
    const fromP = collectParameters({ pairs: [['cfg', '{"__proto__": {"x": 1}}']] }).cfg as object;
    const fromY = collectParameters({ yaml: ['cfg: {__proto__: {x: 1}}'] }).cfg as object;
    for (const cfg of [fromP, fromY]) {
      expect(Object.keys(cfg)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(cfg)).toBe(Object.prototype);
      expect(parametersSource({ cfg: cfg as JsonValue })).toBe('// Parameters injected by quantbook\nconst cfg = {["__proto__"]:{"x":1}};');
    }
  });
});
