import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotebookError } from '../../src/core/errors';
import { readNotebook, type Notebook } from '../../src/notebook/records/nbformat';
import { errorSummary, runNotebook } from '../../src/notebook/runner/run';
import { REPO_ROOT } from '../support/paths';

const FAILING = join(REPO_ROOT, 'tests/notebook/fixtures/failing.ipynb');
const BIN = join(REPO_ROOT, 'bin/quantbook.js');

describe('a failing cell', () => {
  it('stops the run, writes the executed notebook papermill-style, and exits 1 (quantbook run)', () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-run-'));
    const r = spawnSync(process.execPath, [BIN, 'run', FAILING, '-o', out, '-q', '--no-build'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`quantbook: NotebookError: cell 3 failed: RangeError: bad <b>range</b> (file ${FAILING}, cell 3)\n`);
    expect(r.stdout).toMatch(/^FAILED {2}failing {2}[\d.]+ s -> .*failing.html\n/);

    const nb = readNotebook(join(out, 'failing.ipynb'));
    // Banner at the top linking to the failing cell, and an anchor just before it.
    expect(nb.cells[0].metadata.tags).toEqual(['papermill-error-cell-tag']);
    expect(nb.cells[0].source).toMatch(/An Exception was encountered at '<a href="#papermill-error-cell">In \[3\]<\/a>'/);
    expect(nb.cells[4].source).toMatch(/<span id="papermill-error-cell"/);
    const failed = nb.cells[5];
    expect(failed.metadata.papermill).toMatchObject({ status: 'failed', exception: true });
    expect(failed.outputs?.[0]).toMatchObject({ output_type: 'stream', name: 'stderr' });
    expect(String((failed.outputs?.[0] as { text: string }).text)).toMatch(/a warning on stderr[\s\S]*RangeError: bad <b>range<\/b>/);
    expect(nb.cells[2].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'before the failure\n' }]);
    expect(nb.cells[6].metadata.papermill).toMatchObject({ status: 'pending' });
    expect(nb.cells[6].outputs).toEqual([]);
    expect(nb.metadata.papermill).toMatchObject({ exception: true, parameters: {} });
    expect(nb.metadata.quantbook).toMatchObject({ status: 'failed', failure: { cell: 3, executedIndex: 5, kind: 'error' } });

    const html = readFileSync(join(out, 'failing.html'), 'utf8');
    expect(html).toContain('<div class="banner">Run failed at <a href="#cell-5">cell 3</a>');
    expect(html).toContain('<section class="cell code failed" id="cell-5">');
    const summary = JSON.parse(readFileSync(join(out, 'failing.run.json'), 'utf8'));
    expect(summary).toMatchObject({ name: 'failing', status: 'failed', html: 'failing.html' });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('1 run, 1 failed.');
  });

  it('that hangs is interrupted at the cell timeout: a NotebookError naming notebook and cell', async () => {
    // Generous enough for the first cell's TypeScript warm-up on a loaded machine.
    const r = await runNotebook(FAILING, { parameters: { mode: 'hang' }, cellTimeoutMs: 6000, ensureBuild: false });
    expect(r.error).toBeInstanceOf(NotebookError);
    expect(r.error?.message).toBe(`cell 3 timed out after 6 s; interrupted (file ${FAILING}, cell 3)`);
    expect(r.info.failure).toMatchObject({ kind: 'timeout', cell: 3 });
  });

  it('that kills the kernel is reported as a dead kernel, naming notebook and cell', async () => {
    const r = await runNotebook(FAILING, { parameters: { mode: 'exit' }, ensureBuild: false });
    expect(r.error?.message).toBe(`the kernel died while running cell 3 (exit code 3, signal null) (file ${FAILING}, cell 3)`);
    expect(r.info.status).toBe('failed');
    // The outputs up to the death are kept.
    expect(r.notebook.cells.find((c) => c.metadata.papermill && (c.metadata.papermill as { status: string }).status === 'failed')?.outputs?.[0])
      .toMatchObject({ name: 'stderr', text: 'a warning on stderr\n' });
  });
});

describe('bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qb-bad-'));

  it('refuses a notebook that is not JSON or not nbformat 4 before starting a kernel', async () => {
    const notJson = join(dir, 'x.ipynb');
    writeFileSync(notJson, 'not json');
    await expect(runNotebook(notJson)).rejects.toThrow(/^not valid JSON: .*\(file .*x.ipynb\)$/);
    const v3 = join(dir, 'v3.ipynb');
    writeFileSync(v3, JSON.stringify({ nbformat: 3, nbformat_minor: 0, worksheets: [] }));
    await expect(runNotebook(v3)).rejects.toThrow(`not an nbformat 4 notebook (nbformat 3) (file ${v3})`);
  });

  it('refuses a parameter of the wrong form, naming notebook, cell and parameter', async () => {
    await expect(runNotebook(FAILING, { parameters: { 'bad-name': 1 } })).rejects.toThrow(/parameter name "bad-name" cannot be declared as a TypeScript const: it is not an identifier/);
    const cli = spawnSync(process.execPath, [BIN, 'run', FAILING, '-p', 'mode'], { encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^quantbook: NotebookError: -p takes a name and a value each time/);
  });

  it('names a missing kernel', async () => {
    const nb = join(dir, 'ok.ipynb');
    const content: Notebook = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };
    writeFileSync(nb, JSON.stringify(content));
    await expect(runNotebook(nb, { kernelArgv: ['/opt/missing/tslab', 'kernel'], ensureBuild: false })).rejects.toThrow(/cannot start the kernel \(\/opt\/missing\/tslab\).*ENOENT/);
  });

  it('summarises the line of an error text a reader wants first', () => {
    expect(errorSummary('warn\nevalmachine.<anonymous>:3\nthrow x;\n^\n\nRangeError: bad\n    at f')).toBe('RangeError: bad');
    expect(errorSummary('1:19 - Type \'string\' is not assignable to type \'number\'.')).toBe('1:19 - Type \'string\' is not assignable to type \'number\'.');
    expect(errorSummary('')).toBe('no error text');
  });
});
