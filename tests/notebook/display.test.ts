import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterEach, describe, expect, it } from 'vitest';
import { NotebookError } from '../../src/core/errors';
import {
  figureToJson, loadPlotly, PLOTLY_MIME, PROVENANCE_MIME, provenance, record, RECORD_MIME, setDisplaySink, show, TABLE_MIME,
  type DisplayMessage,
} from '../../src/notebook';
import { REPO_ROOT } from '../support/paths';

function capture(): DisplayMessage[] {
  const messages: DisplayMessage[] = [];
  setDisplaySink((m) => messages.push(m));
  return messages;
}

afterEach(() => setDisplaySink(null));

describe('show', () => {
  it('sends a figure as Plotly JSON + HTML + text, with plotly.js only in the first figure of the session', () => {
    const out = capture();
    const fig = { data: [{ type: 'scatter', y: new Float64Array([1, Number.NaN, 3]) }], layout: { title: { text: '</script><b>t</b>' } } };
    show(fig as never);
    show({ data: [], layout: {} });
    expect(out).toHaveLength(2);
    expect(out[0].data[PLOTLY_MIME]).toEqual({ data: [{ type: 'scatter', y: [1, null, 3] }], layout: { title: { text: '</script><b>t</b>' } } });
    expect(out[0].data['text/plain']).toBe('Figure: </script><b>t</b> (1 traces)');
    const html0 = out[0].data['text/html'] as string;
    const html1 = out[1].data['text/html'] as string;
    expect(html0).toContain('window.Plotly = Plotly');
    expect(html1).not.toContain('window.Plotly = Plotly');
    expect(out[0].metadata).toEqual({ quantbook: { plotlyLoader: true } });
    expect(out[1].metadata).toEqual({});
    // The title cannot close the figure's script element.
    expect(html0.slice(html0.lastIndexOf('quantbook-fig-'))).not.toContain('</script><b>');
    loadPlotly();
    expect(out[2].data['text/html']).toContain('window.Plotly = Plotly');
  });

  it('shows a short frame whole and a long one as head and tail', () => {
    const out = capture();
    show(pl.DataFrame({ x: [1, 2, 3], s: ['a', '<i>', null] }));
    show(pl.DataFrame({ i: Array.from({ length: 30 }, (_, k) => k) }));
    show(pl.DataFrame({ i: Array.from({ length: 30 }, (_, k) => k) }), { rows: 4 });
    const short = out[0].data[TABLE_MIME] as { height: number; head: unknown[][]; tail: unknown[][]; columns: unknown };
    expect(short.columns).toEqual([{ name: 'x', dtype: 'f64' }, { name: 's', dtype: 'str' }]);
    expect(short.head).toEqual([[1, 'a'], [2, '<i>'], [3, null]]);
    expect(short.tail).toEqual([]);
    expect(out[0].data['text/html']).toContain('<td>&lt;i&gt;</td>');
    const long = out[1].data[TABLE_MIME] as { height: number; head: number[][]; tail: number[][] };
    expect(long.height).toBe(30);
    expect(long.head.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(long.tail.map((r) => r[0])).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(out[1].data['text/html']).toContain('&hellip; 10 more rows &hellip;');
    expect((out[2].data[TABLE_MIME] as { head: unknown[] }).head).toHaveLength(2);
    expect(String(out[0].data['text/plain'])).toContain('shape: (3, 2)');
  });

  it('shows a Series as a one-column frame and refuses other values', () => {
    const out = capture();
    show(pl.Series('pUp', [0.5, 0.25]));
    expect((out[0].data[TABLE_MIME] as { columns: unknown }).columns).toEqual([{ name: 'pUp', dtype: 'f64' }]);
    expect(() => show(42 as never)).toThrow(/show\(\) takes a Plotly figure .* got number/);
  });

  it('throws outside a kernel when no sink is set', () => {
    expect(() => show({ data: [], layout: {} })).toThrow(/no notebook to display into/);
  });
});

describe('record', () => {
  it('stores the JSON form of a value under its own MIME type with a text line', () => {
    const out = capture();
    record('pUp', 0.53);
    record('bands', { p05: new Float32Array([0.5, 0.25]), at: new Date(Date.UTC(2024, 0, 2)) });
    expect(out[0].data).toEqual({ [RECORD_MIME]: { name: 'pUp', value: 0.53 }, 'text/plain': 'pUp = 0.53' });
    expect((out[1].data[RECORD_MIME] as { value: unknown }).value).toEqual({ p05: [0.5, 0.25], at: '2024-01-02T00:00:00.000Z' });
  });

  it('refuses what JSON cannot hold instead of changing it, naming where', () => {
    capture();
    expect(() => record('x', { a: [1, Number.NaN] })).toThrow('record("x"): value at $.a[1] is NaN, which JSON cannot hold (key "x")');
    expect(() => record('x', undefined)).toThrow(/undefined/);
    expect(() => record('x', new Map())).toThrow(/Map/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => record('x', cyclic)).toThrow(/cycle/);
    expect(() => record('', 1)).toThrow(/name of 1 to 200/);
  });
});

describe('provenance', () => {
  it('hashes a declared file with sha256 and declares devices and notes', () => {
    const out = capture();
    const dir = mkdtempSync(join(tmpdir(), 'qb-prov-'));
    const file = join(dir, 'bars.csv');
    writeFileSync(file, 'abc');
    provenance.addFile(file, 'model');
    provenance.device('cuda', 'H100');
    provenance.note('bars', '1m');
    expect(out[0].data[PROVENANCE_MIME]).toEqual({
      kind: 'file', role: 'model', path: file, resolvedPath: file, bytes: 3,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
    expect(createHash('sha256').update('abc').digest('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(out[1].data[PROVENANCE_MIME]).toEqual({ kind: 'device', device: 'cuda', detail: 'H100' });
    expect(out[2].data[PROVENANCE_MIME]).toEqual({ kind: 'note', key: 'bars', value: '1m' });
    expect(() => provenance.addFile(join(dir, 'nope.csv'))).toThrow(NotebookError);
    expect(() => provenance.addFile(dir)).toThrow(/not a regular file/);
  });

  it('addData hashes a single file, or exactly the bar files a folder load reads', () => {
    const out = capture();
    const dir = mkdtempSync(join(tmpdir(), 'qb-prov-data-'));
    writeFileSync(join(dir, 'B-5m.csv'), 'abc');
    writeFileSync(join(dir, 'A-5m.feather'), '');
    // None of these is loaded by loadBarsDir, so none is declared (the subfolder used to make it throw).
    writeFileSync(join(dir, '.DS_Store'), 'x');
    writeFileSync(join(dir, 'README.md'), 'x');
    mkdirSync(join(dir, 'old'));
    writeFileSync(join(dir, 'old', 'C-5m.csv'), 'x');
    provenance.addData(dir);
    provenance.addData(join(dir, 'B-5m.csv'));
    const files = out.map((m) => m.data[PROVENANCE_MIME] as { path: string; role: string; bytes: number; sha256: string });
    expect(files.map((f) => [f.path, f.role, f.bytes, f.sha256])).toEqual([
      [join(dir, 'A-5m.feather'), 'data', 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
      [join(dir, 'B-5m.csv'), 'data', 3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
      [join(dir, 'B-5m.csv'), 'data', 3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ]);
    expect(() => provenance.addData(join(dir, 'nope'))).toThrow(/does not exist/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => provenance.addData(empty)).toThrow(/no loadable bar files/);
  });
});

describe('the notebook module', () => {
  it('loads nothing heavy when a notebook imports it (no zeromq, polars, onnxruntime, markdown-it)', () => {
    const script = "require('./dist/notebook'); console.log(JSON.stringify(Object.keys(require.cache)))";
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' })) as string[];
    const heavy = loaded.filter((p) => /node_modules[\\/](zeromq|nodejs-polars|onnxruntime-node|markdown-it|highlight\.js|tslab)[\\/]/.test(p));
    expect(heavy).toEqual([]);
  });

  it('figureToJson turns typed arrays into arrays and non-finite numbers into gaps', () => {
    expect(figureToJson({ data: [{ x: new Int32Array([1, 2]), y: [Infinity, 2] }], layout: {} })).toEqual({ data: [{ x: [1, 2], y: [null, 2] }], layout: {} });
  });
});
