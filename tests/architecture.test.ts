/**
 * The layout rules of docs/ARCHITECTURE.md, checked on the sources: no import cycle
 * anywhere in src/, imports point down the layers, and the shared numerics of src/stats
 * are imported from there, never re-exported through a domain folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles, importGraph, layeringViolations, moduleOf, reExportsOf } from './support/imports';
import { REPO_ROOT } from './support/paths';

const SRC = join(REPO_ROOT, 'src');

/** Folders whose subfolders are layers of their own. */
const SPLIT = ['notebook'];

/**
 * The layers of src/, bottom first (docs/ARCHITECTURE.md draws the same picture): a module
 * imports only modules of lower layers. Modules of one layer are independent of each other.
 */
const LAYERS = [
  ['core'],
  ['stats'],
  ['data', 'calibration', 'gbdt'],
  ['forecast'],
  ['backtest', 'live'],
  ['plot', 'signal', 'serve'],
  ['notebook/records'],
  ['notebook/api'],
  ['notebook', 'notebook/report'],
  ['notebook/runner'],
  ['notebook/sweep'],
  ['catalogue'],
  ['cli'],
  ['index'],
] as const;

const trees: string[] = [];
afterAll(() => trees.forEach((t) => rmSync(t, { recursive: true, force: true })));

function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'quantbook-arch-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the checks themselves', () => {
  it('find a cycle through type imports, dynamic imports and index files, and name it', () => {
    const root = writeTree({
      'a/index.ts': "export { b } from './b';\n",
      'a/b.ts': "import type { C } from '../c/c';\nexport const b = 1;\n",
      'c/c.ts': "export type C = number;\nexport const load = () => import('../a');\n",
      'd.ts': "import { b } from './a/b';\n",
    });
    const graph = importGraph(root);
    expect(graph.get('a/index.ts')).toEqual(['a/b.ts']);
    expect(importCycles(graph)).toEqual(['a/b.ts -> c/c.ts -> a/index.ts -> a/b.ts']);
  });

  it('flag an import up the layers, within a layer, and a module in no layer', () => {
    const root = writeTree({
      'low/x.ts': "import { y } from '../high/y';\nexport const x = y;\n",
      'high/y.ts': 'export const y = 1;\n',
      'side/z.ts': "import { y } from '../high/y';\n",
      'new/w.ts': 'export const w = 1;\n',
    });
    const graph = importGraph(root);
    expect(layeringViolations(graph, [['low', 'side'], ['high']])).toEqual([
      'low -> high (low/x.ts -> high/y.ts)',
      'new/w.ts: module \'new\' is in no layer',
      'side -> high (side/z.ts -> high/y.ts)',
    ]);
    expect(layeringViolations(graph, [['high'], ['low', 'side'], ['new']])).toEqual([]);
  });

  it('find re-exports of a folder, direct or through an import', () => {
    const root = writeTree({
      'stats/q.ts': 'export const q = 1;\nexport const r = 2;\n',
      'forecast/a.ts': "import { q } from '../stats/q';\nexport { q };\nexport const a = q;\n",
      'forecast/index.ts': "export { r } from '../stats/q';\nexport * from './a';\n",
      'index.ts': "export * from './stats/q';\n",
    });
    expect(reExportsOf(root, importGraph(root), 'stats')).toEqual(['forecast/a.ts: q from stats/q.ts', 'forecast/index.ts: r from stats/q.ts']);
  });

  it('split folders map to their subfolders', () => {
    expect(moduleOf('notebook/runner/run.ts', SPLIT)).toBe('notebook/runner');
    expect(moduleOf('notebook/index.ts', SPLIT)).toBe('notebook');
    expect(moduleOf('forecast/paths/stats.ts', SPLIT)).toBe('forecast');
    expect(moduleOf('index.ts', SPLIT)).toBe('index');
  });
});

describe('src/', () => {
  const graph = importGraph(SRC);

  it('has no import cycle', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(importCycles(graph)).toEqual([]);
  });

  it('imports only down the layers of docs/ARCHITECTURE.md', () => {
    expect(layeringViolations(graph, LAYERS, SPLIT)).toEqual([]);
  });

  it('re-exports no shared numeric helper of src/stats through a domain folder', () => {
    expect(reExportsOf(SRC, graph, 'stats')).toEqual([]);
  });
});
