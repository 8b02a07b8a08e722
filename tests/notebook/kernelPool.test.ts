import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Notebook } from '../../src/notebook/records/nbformat';
import type { RunInfo } from '../../src/notebook/records/run';
import type { KernelClient } from '../../src/notebook/runner/kernel';
import type { KernelOptions } from '../../src/notebook/runner/kernelTypes';
import { compiledBefore, markCompiledRun } from '../../src/notebook/runner/compileStore';
import { KernelPool, notebookRunFingerprint, startEarlyKernels, warmUpCode } from '../../src/notebook/runner/kernelPool';
import { kernelCompileCacheDir } from '../../src/notebook/runner/preloads';
import { longestFirst, previousDurations, runReports } from '../../src/notebook/runner/reports';
import { REPO_ROOT } from '../support/paths';

/** A stand-in for KernelClient.start that records starts, warm-up completions and shutdowns. */
function fakeStarts(failFor: string[] = []) {
  const started: KernelOptions[] = [];
  const shutDown: string[] = [];
  const completed: { notebook: string; code: string }[] = [];
  const start = (o: KernelOptions): Promise<KernelClient> => {
    started.push(o);
    if (failFor.includes(o.notebook ?? '')) return Promise.reject(new Error(`no kernel for ${o.notebook}`));
    return Promise.resolve({
      notebook: o.notebook,
      shutdown: async () => void shutDown.push(o.notebook ?? ''),
      complete: async (code: string) => {
        await new Promise((r) => setTimeout(r, 20));
        completed.push({ notebook: o.notebook ?? '', code });
        return true;
      },
    } as unknown as KernelClient);
  };
  return { start: start as typeof import('../../src/notebook/runner/kernel').KernelClient.start, started, shutDown, completed };
}

/** A notebook file of code cells. */
function notebookOf(dir: string, name: string, sources: string[]): string {
  const nb: Notebook = {
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: sources.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(nb));
  return path;
}

describe('KernelPool', () => {
  it('starts the next notebook\'s kernel when one is taken, a fresh kernel per notebook, in its folder', async () => {
    const f = fakeStarts();
    const pool = new KernelPool(['/n/a.ipynb', '/m/b.ipynb', '/n/c.ipynb'], { start: f.start, startTimeoutMs: 1234 });
    expect(f.started).toHaveLength(0); // nothing before the first take
    const a = await pool.take(0);
    expect(f.started.map((o) => o.notebook)).toEqual(['/n/a.ipynb', '/m/b.ipynb']);
    expect(f.started[1]).toMatchObject({ cwd: '/m', startTimeoutMs: 1234 });
    expect(pool.pending).toBe(1);
    const b = await pool.take(1);
    expect(b).not.toBe(a);
    expect(f.started.map((o) => o.notebook)).toEqual(['/n/a.ipynb', '/m/b.ipynb', '/n/c.ipynb']); // b's was reused, not restarted
    await pool.take(2);
    expect(f.started).toHaveLength(3);
    expect(pool.pending).toBe(0);
    expect(() => pool.take(1)).toThrow(/cannot be taken/);
    await pool.close();
    expect(f.shutDown).toEqual([]); // taken kernels belong to their runs
  });

  it('starts the kernels ahead only once the kernel just taken is ready, so they do not slow it down', async () => {
    const started: string[] = [];
    let ready!: () => void;
    const start = (o: KernelOptions): Promise<KernelClient> => {
      started.push(o.notebook ?? '');
      const k = { complete: async () => true, shutdown: async () => undefined } as unknown as KernelClient;
      return started.length === 1 ? new Promise((r) => { ready = () => r(k); }) : Promise.resolve(k);
    };
    const pool = new KernelPool(['a', 'b', 'c'], { start: start as typeof import('../../src/notebook/runner/kernel').KernelClient.start });
    const a = pool.take(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toEqual(['a']); // a is starting: b waits
    ready();
    await a;
    expect(started).toEqual(['a', 'b']);
    await pool.close();
  });

  it('starts `ahead` kernels early, none with ahead 0, and close shuts down the ones never taken', async () => {
    const f = fakeStarts();
    const pool = new KernelPool(['a', 'b', 'c', 'd'], { start: f.start, ahead: 2 });
    await pool.take(0);
    expect(f.started.map((o) => o.notebook)).toEqual(['a', 'b', 'c']);
    await pool.close();
    expect(f.shutDown.sort()).toEqual(['b', 'c']);
    expect(() => pool.take(1)).toThrow(/closed/);

    const g = fakeStarts();
    const lazy = new KernelPool(['a', 'b'], { start: g.start, ahead: 0 });
    await lazy.take(0);
    expect(g.started.map((o) => o.notebook)).toEqual(['a']);
  });

  it('warms up the kernels started ahead with their notebook\'s imports, and hands one over only once warmed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pool-'));
    const a = notebookOf(dir, 'a.ipynb', ["import * as pl from 'nodejs-polars';\nconst n = 1;"]);
    const b = notebookOf(dir, 'b.ipynb', [
      "import {\n  record,\n  show,\n} from '../dist/notebook';\nimport('node:os').then(() => undefined);",
      "const x = 2;\nimport type { Rng } from '../dist/core'\nimport 'side-effect';",
    ]);
    const f = fakeStarts();
    const pool = new KernelPool([a, b], { start: f.start });
    await pool.take(0);
    expect(f.completed).toEqual([]); // a's kernel was needed at once: no warm-up before its first cell
    await pool.take(1);
    // b's kernel arrives warmed: a dynamic import() is left out, a statement over several lines kept whole.
    expect(f.completed).toEqual([{ notebook: b, code: "import {\n  record,\n  show,\n} from '../dist/notebook';\nimport type { Rng } from '../dist/core'\nimport 'side-effect';\n" }]);
    expect(pool.warmedUp).toBe(1);
    expect(warmUpCode(join(dir, 'missing.ipynb'))).toBe('');

    const g = fakeStarts();
    const cold = new KernelPool([a, b], { start: g.start, warmUp: false });
    await cold.take(0);
    await cold.take(1);
    expect(g.completed).toEqual([]);
  });

  it('skips the warm-up of a notebook whose last run went wholly through the compile cache (same cells and parameters)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pool-'));
    const a = notebookOf(dir, 'a.ipynb', ['const n = 1;']);
    const b = notebookOf(dir, 'b.ipynb', ["import { record } from '../dist/notebook';\nconst x = 2;"]);
    const fingerprint = notebookRunFingerprint(b, { horizon: 30 });
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const full = { hits: 1, misses: 0, stale: 0, corrupt: 0, uncacheable: 0, unwritten: 0 };
    const cacheDir = kernelCompileCacheDir();
    const run = async (parameters: unknown): Promise<{ warmed: number; skipped: number }> => {
      const f = fakeStarts();
      const pool = new KernelPool([a, b], { start: f.start, parameters });
      await pool.take(0);
      await pool.take(1);
      expect(f.completed.length).toBe(pool.warmedUp);
      return { warmed: pool.warmedUp, skipped: pool.warmUpSkipped };
    };
    try {
      // a run that did not compile every cell through the cache leaves no mark
      markCompiledRun(cacheDir, fingerprint ?? '', { ...full, uncacheable: 1 }, 2);
      expect(await run({ horizon: 30 })).toEqual({ warmed: 1, skipped: 0 });
      markCompiledRun(cacheDir, fingerprint ?? '', full, 2);
      expect(await run({ horizon: 30 })).toEqual({ warmed: 1, skipped: 0 }); // 1 of 2 cells
      markCompiledRun(cacheDir, fingerprint ?? '', { ...full, misses: 1 }, 2);
      expect(await run({ horizon: 30 })).toEqual({ warmed: 0, skipped: 1 });
      // other parameters, other cells: warmed up
      expect(await run({ horizon: 60 })).toEqual({ warmed: 1, skipped: 0 });
      writeFileSync(b, readFileSync(b, 'utf8').replace('const x = 2;', 'const x = 3;'));
      expect(await run({ horizon: 30 })).toEqual({ warmed: 1, skipped: 0 });
    } finally {
      if (fingerprint) markCompiledRun(cacheDir, fingerprint, undefined, 0);
    }
    expect(compiledBefore(cacheDir, fingerprint ?? '')).toBe(false);
  });

  it('bounds a warm-up: an unanswered one hands over a kernel that still beats, and replaces a silent one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pool-'));
    const a = notebookOf(dir, 'a.ipynb', ['const n = 1;']);
    const b = notebookOf(dir, 'b.ipynb', ["import { record } from '../dist/notebook';"]);
    for (const beats of [true, false]) {
      const started: string[] = [];
      const killed: number[] = [];
      let serial = 0;
      const start = (o: KernelOptions): Promise<KernelClient> => {
        const id = ++serial;
        started.push(o.notebook ?? '');
        return Promise.resolve({
          id,
          // tslab sends no reply when its completion throws: the request is never answered.
          complete: (_code: string, timeoutMs: number) => new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs)),
          heartbeat: async () => beats,
          kill: async () => void killed.push(id),
        } as unknown as KernelClient);
      };
      const pool = new KernelPool([a, b], { start: start as typeof import('../../src/notebook/runner/kernel').KernelClient.start, warmUpTimeoutMs: 30 });
      await pool.take(0);
      const kb = (await pool.take(1)) as unknown as { id: number };
      expect(pool.warmedUp).toBe(0);
      expect(pool.warmUpTimedOut).toBe(1);
      if (beats) {
        expect(kb.id).toBe(2); // the warmed-up kernel itself
        expect(killed).toEqual([]);
        expect(pool.warmUpReplaced).toBe(0);
      } else {
        expect(kb.id).toBe(3); // a fresh kernel for b, started without a warm-up
        expect(killed).toEqual([2]);
        expect(started).toEqual([a, b, b]);
        expect(pool.warmUpReplaced).toBe(1);
      }
    }
  });

  it('hands kernels started before the order was known to the first takes of their folder, then starts its own; close shuts down the rest', async () => {
    const f = fakeStarts();
    const early = startEarlyKernels(['/n/a.ipynb', '/n/b.ipynb', '/m/c.ipynb'], 2, { start: f.start, startTimeoutMs: 99 });
    expect(f.started.map((o) => o.cwd)).toEqual(['/n', '/n']); // at once, before any pool exists, one per worker
    expect(f.started[0]).toMatchObject({ notebook: '/n', startTimeoutMs: 99 });
    await Promise.all(early.map((e) => e.spawned));
    // The order came later: c (another folder) first, then b, a.
    const pool = new KernelPool(['/m/c.ipynb', '/n/b.ipynb', '/n/a.ipynb', '/m/d.ipynb'], { start: f.start, ahead: 0, early });
    const c = await pool.take(0);
    expect(f.started.map((o) => o.notebook)).toEqual(['/n', '/n', '/m/c.ipynb']); // no early kernel in /m: its own
    const b = await pool.take(1);
    expect(b).toBe(await early[0].kernel);
    expect(b).not.toBe(c);
    expect(await pool.take(2)).toBe(await early[1].kernel);
    expect(f.started).toHaveLength(3); // a and b took the early ones
    await pool.close();
    expect(f.shutDown).toEqual([]);

    const g = fakeStarts();
    const unused = startEarlyKernels(['/n/a.ipynb', '/n/b.ipynb'], 2, { start: g.start });
    const other = new KernelPool(['/m/x.ipynb'], { start: g.start, ahead: 0, early: unused });
    await other.take(0);
    await other.close();
    expect(g.shutDown).toEqual(['/n', '/n']); // never taken: shut down, not left running
    expect(startEarlyKernels(['/n/a.ipynb'], 0, { start: g.start })).toEqual([]);
  });

  it('hands a failed start to its taker and does not let it go unhandled before', async () => {
    const f = fakeStarts(['b']);
    const pool = new KernelPool(['a', 'b'], { start: f.start });
    await pool.take(0);
    await new Promise((r) => setTimeout(r, 10)); // an unhandled rejection would fail the test run here
    await expect(pool.take(1)).rejects.toThrow(/no kernel for b/);
    await pool.close();
  });
});

describe('quantbook report with the pool (tslab kernels)', () => {
  it('starts the second notebook\'s fresh kernel while the first one runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pool-run-'));
    const dist = join(REPO_ROOT, 'dist', 'notebook');
    const cells = (v: number) => [`import { record } from '${dist}';`, `record('v', ${v});\nconsole.log(process.pid);`];
    const a = notebookOf(dir, 'a.ipynb', cells(1));
    const b = notebookOf(dir, 'b.ipynb', cells(2));
    const out = join(dir, 'out');
    const summaries = await runReports([a, b], { outDir: out, ensureBuild: false, startTimeoutMs: 600_000 });
    expect(summaries.map((s) => [s.name, s.status, s.records.v])).toEqual([['a', 'ok', 1], ['b', 'ok', 2]]);
    const executed = (name: string) => JSON.parse(readFileSync(join(out, `${name}.ipynb`), 'utf8')) as Notebook & { metadata: { quantbook: RunInfo } };
    const [ra, rb] = [executed('a'), executed('b')];
    const pid = (nb: Notebook) => String((nb.cells[1].outputs?.find((o) => o.output_type === 'stream') as { text: string } | undefined)?.text).trim();
    expect(pid(ra)).toMatch(/^\d+$/);
    expect(pid(ra)).not.toBe(pid(rb)); // a fresh kernel each
    const [qa, qb] = [ra.metadata.quantbook, rb.metadata.quantbook];
    // b's kernel was spawned before a's cells ended, so b found it (nearly) ready: it waited less than the kernel took to start.
    expect(Date.parse(qb.kernel.startTime!)).toBeLessThan(Date.parse(qa.endTime));
    expect(qb.kernel.readyAfterS!).toBeLessThan(qb.kernel.startupS);
    expect(Date.parse(qa.kernel.startTime!)).toBeLessThanOrEqual(Date.parse(qa.startTime));
  }, 900_000);
});

describe('quantbook report\'s order with several workers', () => {
  it('starts notebooks without an expected duration first, then the longest first, ties in the order given', () => {
    const d = (pairs: Array<[string, number]>) => new Map(pairs.map(([nb, s]) => [resolve(nb), s]));
    expect(longestFirst(['a', 'b', 'c', 'd'], d([['a', 5], ['c', 60], ['d', 5]]))).toEqual([1, 2, 0, 3]);
    expect(longestFirst(['a', 'b'], new Map())).toEqual([0, 1]);
    expect(longestFirst(['a', 'b', 'c'], d([['a', 1], ['b', 2], ['c', 3]]))).toEqual([2, 1, 0]);
  });

  it('reads the expected durations from the passing runs of an earlier report', () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-prev-'));
    const summary = (name: string, status: 'ok' | 'failed', durationS: number) => writeFileSync(join(out, `${name}.run.json`),
      JSON.stringify({ name, notebook: `nb/${name}.ipynb`, status, startTime: '', durationS, parameters: {}, records: {} }));
    summary('a', 'ok', 12.5);
    summary('b', 'failed', 99);
    writeFileSync(join(out, 'c.run.json'), '{ not json');
    expect([...previousDurations(out)]).toEqual([[resolve('nb/a.ipynb'), 12.5]]);
    expect(previousDurations(join(out, 'missing')).size).toBe(0);
  });

  it('runs two notebooks at once, each in a fresh kernel, the longest expected first, and keeps the given order in its answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pool-two-'));
    const dist = join(REPO_ROOT, 'dist', 'notebook');
    const cells = (v: number) => [`import { record } from '${dist}';`, `record('v', ${v});\nconsole.log(process.pid);`];
    const nbs = [1, 2, 3].map((v) => notebookOf(dir, `n${v}.ipynb`, cells(v)));
    const out = join(dir, 'out');
    const starts: string[] = [];
    const summaries = await runReports(nbs, {
      outDir: out, ensureBuild: false, startTimeoutMs: 600_000, workers: 2, expectedS: new Map([[nbs[0], 1], [nbs[2], 50]]),
      onProgress: (p) => void (p.kind === 'start' && starts.push(basename(p.task))),
    });
    expect(starts).toEqual(['n2.ipynb', 'n3.ipynb', 'n1.ipynb']); // n2 has no history, then n3 (50 s), then n1 (1 s)
    expect(summaries.map((s) => [s.name, s.status, s.records.v])).toEqual([['n1', 'ok', 1], ['n2', 'ok', 2], ['n3', 'ok', 3]]);
    const executed = (name: string) => JSON.parse(readFileSync(join(out, `${name}.ipynb`), 'utf8')) as Notebook & { metadata: { quantbook: RunInfo } };
    const runs = ['n1', 'n2', 'n3'].map(executed);
    const pids = runs.map((nb) => String((nb.cells[1].outputs?.find((o) => o.output_type === 'stream') as { text: string } | undefined)?.text).trim());
    expect(new Set(pids).size).toBe(3); // a fresh kernel each
    // n2 and n3 ran at the same time: each started before the other ended.
    const [q2, q3] = [runs[1].metadata.quantbook, runs[2].metadata.quantbook];
    expect(Date.parse(q2.startTime)).toBeLessThan(Date.parse(q3.endTime));
    expect(Date.parse(q3.startTime)).toBeLessThan(Date.parse(q2.endTime));
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/n1[\s\S]*n2[\s\S]*n3/);
  }, 900_000);
});
