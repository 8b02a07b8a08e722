/**
 * The queued-sweep coordinator records a finished job as three files (`runs/<name>.ipynb`,
 * `.html`, `.run.json`) written as one OutputBatch: a write that fails part-way leaves the
 * previous set exactly as it was (or no file at all), never a mix of new and old files.
 * No Redis needed: `recordCompleted` is called on a job result built here.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/core/errors';
import { outputFaults } from '../../src/core/output';
import { notebookText, type Notebook } from '../../src/notebook/records/nbformat';
import { renderReport } from '../../src/notebook/report/html';
import type { RunInfo } from '../../src/notebook/records/run';
import { summaryText } from '../../src/notebook/runner/reports';
import { recordCompleted } from '../../src/notebook/sweep/coordinator';
import { packNotebook, type SweepJobResult, type SweepMeta } from '../../src/notebook/sweep/queue';

afterEach(() => {
  outputFaults.beforeWrite = undefined;
  outputFaults.chunkBytes = undefined;
});

function executed(value: number): Notebook {
  const info: RunInfo = {
    status: 'ok', notebook: 'nb/params.ipynb', parameters: { lr: value }, startTime: '2026-12-02T10:00:00.000Z',
    endTime: '2026-12-02T10:00:01.500Z', durationS: 1.5, kernel: { startupS: 0.2, cwd: '/tmp', implementation: 'tslab' },
    libraryVersion: '0.1.0', git: null, host: 'test', records: { score: value }, provenance: [], warnings: [],
  };
  return {
    nbformat: 4, nbformat_minor: 5, metadata: { quantbook: info },
    cells: [{ id: 'a1', cell_type: 'code', source: `const lr = ${value};`, metadata: {}, outputs: [], execution_count: 1 }],
  } as unknown as Notebook;
}

function setup(): { meta: SweepMeta; runs: string } {
  const outDir = mkdtempSync(join(tmpdir(), 'qb-coordinator-'));
  const meta = {
    sweepId: 'sw-test', notebook: 'nb/params.ipynb', notebookRel: 'nb/params.ipynb', notebookSha256: '0'.repeat(64), version: '0.1.0',
    axes: [], fixed: {}, combos: [{ lr: 1 }], names: ['params_lr-1'], outDir, attempts: 1,
    createdAt: '2026-12-02T10:00:00.000Z', cellTimeoutMs: 1000, startTimeoutMs: 1000, collapseCode: false,
  } as unknown as SweepMeta;
  return { meta, runs: join(outDir, 'runs') };
}

const job = (nb: Notebook): SweepJobResult => ({ status: 'ok', notebookGz: packNotebook(nb), worker: 'w1' });
const contents = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

describe('recordCompleted writes a run as one set of three files', () => {
  it('writes the notebook, its report and its summary, and nothing else', () => {
    const { meta, runs } = setup();
    const { summary } = recordCompleted(meta, 0, job(executed(1)));
    expect(summary).toMatchObject({ name: 'params_lr-1', status: 'ok', records: { score: 1 }, html: 'params_lr-1.html', ipynb: 'params_lr-1.ipynb' });
    const files = contents(runs);
    expect(Object.keys(files)).toEqual(['params_lr-1.html', 'params_lr-1.ipynb', 'params_lr-1.run.json']);
    expect(files['params_lr-1.ipynb']).toBe(notebookText(executed(1)));
    expect(files['params_lr-1.run.json']).toBe(summaryText(summary));
    expect(files['params_lr-1.html']).toBe(renderReport(executed(1), { collapseCode: false }));
  });

  for (const failing of ['.ipynb', '.html', '.run.json']) {
    it(`a failed write of the ${failing} file leaves the previous set unchanged and no temporary file`, () => {
      const { meta, runs } = setup();
      recordCompleted(meta, 0, job(executed(1)));
      const before = contents(runs);
      outputFaults.chunkBytes = 8;
      outputFaults.beforeWrite = ({ path, offset }) => {
        if (path.endsWith(failing) && offset >= 8) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      let caught: unknown;
      try {
        recordCompleted(meta, 0, job(executed(2)));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(OutputError);
      expect((caught as Error).message).toMatch(new RegExp(`cannot write: no space left on device \\(ENOSPC\\).*params_lr-1\\${failing}`));
      expect(contents(runs)).toEqual(before);
    });
  }

  it('a failed write of the last file of a first run leaves no file at all', () => {
    const { meta, runs } = setup();
    outputFaults.beforeWrite = ({ path }) => {
      if (path.endsWith('.run.json')) throw new Error('interrupted');
    };
    expect(() => recordCompleted(meta, 0, job(executed(1)))).toThrow(/cannot write: interrupted/);
    expect(readdirSync(runs)).toEqual([]);
  });
});
