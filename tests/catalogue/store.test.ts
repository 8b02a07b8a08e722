import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRows, comparisonHtml, comparisonText } from '../../src/catalogue/compare';
import { appendRuns, catalogueRow, getRuns, lastNotebookDurations, listRuns, queryCatalogue, widenNames, type CatalogueRow } from '../../src/catalogue/store';
import { ConfigError } from '../../src/core/errors';
import { REPO_ROOT, realData } from '../support/paths';

const BIN = join(REPO_ROOT, 'bin/quantbook.js');

/** The error an async call rejects with (the test fails when it resolves). */
async function rejected(f: () => Promise<unknown>): Promise<Error> {
  try {
    await f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, the call resolved');
}

function row(i: number, over: Partial<CatalogueRow> = {}): CatalogueRow {
  return catalogueRow({
    id: `r-test-${String(i).padStart(3, '0')}`,
    time: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(),
    command: 'run', argv: ['run', 'nb.ipynb'], notebook: '/x/05-sweep.ipynb', notebookSha256: 'ab'.repeat(32),
    parameters: { symbol: i % 2 ? 'ETH_BTC' : 'ADA_BTC', samples: 64 * (i + 1) },
    records: { val_mae: 0.01 + i / 1000, label: `run ${i}` },
    status: 'ok', error: null, durationS: i, gitCommit: 'c0ffee', gitDirty: false, data: [], outputs: [], sweepId: null,
    ...over,
  });
}

describe('the run catalogue', () => {
  it('appends rows and lists them with --where and --sort on typed parameter and record columns', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qb-cat-')), 'sub', 'catalogue.duckdb');
    expect(await appendRuns(path, [0, 1, 2, 3].map((i) => row(i)))).toEqual({ written: 4, spooled: null });
    // The same id twice is skipped, not duplicated.
    expect((await appendRuns(path, [row(3), row(4)])).written).toBe(1);
    const eth = await listRuns(path, { where: "param.symbol = 'ETH_BTC'", sort: 'record.val_mae desc' });
    expect(eth.rows.map((r) => r.id)).toEqual(['r-test-003', 'r-test-001']);
    // Numbers compare as numbers (64 * 5 = 320 > 128 as a number, not as text).
    const big = await listRuns(path, { where: 'param.samples > 128', sort: 'param.samples' });
    expect(big.rows.map((r) => r['param.samples'])).toEqual([192, 256, 320]);
    expect((await listRuns(path, { notebook: '05-sweep.ipynb', limit: 2 })).rows.map((r) => r.id)).toEqual(['r-test-004', 'r-test-003']);
    const bad = await rejected(() => listRuns(path, { where: 'param.nope = 1' }));
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).toMatch(/rejected the query: .*param\.nope/);
  });

  it('gives each notebook the duration of its latest passing run or report, for quantbook report\'s order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-cat-'));
    expect((await lastNotebookDurations(join(dir, 'none.duckdb'))).size).toBe(0); // no file: no hints, no DuckDB
    const path = join(dir, 'catalogue.duckdb');
    await appendRuns(path, [
      row(1, { durationS: 10 }), row(2, { durationS: 20, command: 'report' }), // the later one wins: 20
      row(3, { durationS: 99, status: 'failed' }), row(4, { durationS: 77, command: 'sweep' }), // neither counts
      row(5, { notebook: '/x/00-sample.ipynb', durationS: 3.5 }), row(6, { notebook: '/x/01-data.ipynb', durationS: NaN }),
    ]);
    expect([...(await lastNotebookDurations(path))].sort()).toEqual([['/x/00-sample.ipynb', 3.5], ['/x/05-sweep.ipynb', 20]]);
  });

  it('shows a run by id prefix, compares runs with differences marked, and answers SQL read-only', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qb-cat-')), 'catalogue.duckdb');
    await appendRuns(path, [row(1), row(2)]);
    const [one] = await getRuns(path, ['r-test-001']);
    expect(one.parameters).toEqual({ symbol: 'ETH_BTC', samples: 128 });
    expect((await rejected(() => getRuns(path, ['r-test-00']))).message).toMatch(/matches several runs/);
    expect((await rejected(() => getRuns(path, ['zzz']))).message).toMatch(/no run in the catalogue has this id/);
    const c = compareRows(await getRuns(path, ['r-test-001', 'r-test-002']));
    expect(c.lines.filter((l) => l.differs).map((l) => l.field)).toEqual(['time', 'duration_s', 'param.samples', 'param.symbol', 'record.label', 'record.val_mae']);
    expect(comparisonText(c)).toMatch(/^\* param\.samples\s+128\s+192$/m);
    const html = comparisonHtml(c);
    expect(html).toContain('<tr class="diff"><th>param.symbol</th><td>ETH_BTC</td><td>ADA_BTC</td></tr>');
    expect(html).not.toMatch(/<script|https?:\/\//);
    const q = await queryCatalogue(path, 'SELECT "param.symbol" AS s, round(avg("record.val_mae"), 4) AS m FROM runs_wide GROUP BY 1 ORDER BY 1');
    expect(q.rows).toEqual([{ s: 'ADA_BTC', m: 0.012 }, { s: 'ETH_BTC', m: 0.011 }]);
    expect((await rejected(() => queryCatalogue(path, 'DELETE FROM runs'))).message).toMatch(/read-only/i);
    expect((await queryCatalogue(join(tmpdir(), 'qb-no-such-catalogue.duckdb'), 'SELECT count(*) AS n FROM runs')).rows).toEqual([{ n: 0 }]);
  });

  it('widens param.X and record.X outside quotes only', () => {
    expect(widenNames("param.symbol = 'param.x' AND record.val_mae < 1")).toBe(`"param.symbol" = 'param.x' AND "record.val_mae" < 1`);
    expect(widenNames('"param.symbol" = 1 AND xparam.y = 2')).toBe('"param.symbol" = 1 AND xparam.y = 2');
  });

  it('parallel writers (and a reader holding the file) lose no row and write none twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-cat-'));
    const path = join(dir, 'catalogue.duckdb');
    await appendRuns(path, [row(0)]);
    const writer = (w: number) => `
      const { appendRuns, catalogueRow } = require(${JSON.stringify(join(REPO_ROOT, 'dist/catalogue/store'))});
      (async () => {
        for (let i = 0; i < 10; i++) {
          const r = catalogueRow({ id: 'w${w}-' + i, time: new Date().toISOString(), command: 'run', argv: [], notebook: null, notebookSha256: null,
            parameters: { w: ${w}, i }, records: {}, status: 'ok', error: null, durationS: 0, gitCommit: null, gitDirty: null, data: [], outputs: [], sweepId: null });
          await appendRuns(${JSON.stringify(path)}, [r], { waitMs: 300 });
        }
      })().catch((e) => { console.error(e); process.exit(1); });`;
    // A reader that keeps the file open for a while, so some writers must wait or spool.
    const reader = spawn(process.execPath, ['-e', `
      const { DuckDBInstance } = require(${JSON.stringify(join(REPO_ROOT, 'node_modules/@duckdb/node-api'))});
      DuckDBInstance.create(${JSON.stringify(path)}, { access_mode: 'READ_ONLY' }).then(() => setTimeout(() => process.exit(0), 1500));`]);
    await new Promise((r) => setTimeout(r, 300));
    const codes = await Promise.all([1, 2, 3, 4, 5, 6].map((w) => new Promise<number | null>((resolve) => {
      spawn(process.execPath, ['-e', writer(w)], { stdio: 'inherit' }).on('exit', resolve);
    })));
    await new Promise<void>((r) => (reader.exitCode !== null ? r() : reader.on('exit', () => r())));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    // One more append ingests whatever the busy moments spooled.
    await appendRuns(path, [row(99)]);
    expect(existsSync(`${path}.pending`) ? readdirSync(`${path}.pending`) : []).toEqual([]);
    const q = await queryCatalogue(path, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM runs');
    expect(q.rows[0]).toEqual({ n: 62, d: 62 });
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 120_000);
});

describe('commands record what they did', () => {
  it('quantbook run and eval append rows with hashes, parameters, records and outputs; runs list / show / compare / sql read them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-cat-cli-'));
    const env = { ...process.env, QUANTBOOK_CATALOGUE: join(dir, 'cat.duckdb') };
    const qb = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, cwd: REPO_ROOT });
    const nb = join(REPO_ROOT, 'tests/notebook/fixtures/params.ipynb');
    for (const h of ['15', '30']) expect(qb('run', nb, '-o', join(dir, 'out'), '--name', `p${h}`, '-q', '--no-build', '-p', 'horizon', h).status).toBe(0);
    const data = realData('crypto-5m', 'ETH_BTC-5m.feather');
    const ev = qb('eval', '--data', data, '--model', 'naive', '--horizon', '3', '--every', '500');
    expect(ev.status, ev.stderr).toBe(0);

    const list = JSON.parse(qb('runs', 'list', '--json', '--sort', 'time').stdout) as Array<Record<string, unknown>>;
    expect(list.map((r) => r.command)).toEqual(['run', 'run', 'eval']);
    const [r15, r30, e] = list;
    expect(r15.notebook_sha256).toBe(createHash('sha256').update(readFileSync(nb)).digest('hex'));
    expect(r15.parameters).toEqual({ horizon: 15 });
    expect(r15.records).toMatchObject({ horizon: 15, score: 32, label: 'base' });
    expect(r15.data).toEqual([expect.objectContaining({ path: join(REPO_ROOT, 'tests/notebook/fixtures/data.csv'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(r15.outputs).toEqual(['p15.html', 'p15.ipynb', 'p15.run.json'].map((f) => join(dir, 'out', f)));
    expect(r15.git_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(e.data).toEqual([{ path: data, sha256: createHash('sha256').update(readFileSync(data)).digest('hex'), bytes: readFileSync(data).length }]);
    expect(e.records).toHaveProperty('crps');

    const where = qb('runs', 'list', '--where', 'record.score > 40');
    expect(where.stdout).toContain(String(r30.id));
    expect(where.stdout).not.toContain(String(r15.id));
    expect(JSON.parse(qb('runs', 'show', String(r30.id).slice(0, -2)).stdout)).toMatchObject({ id: r30.id, status: 'ok' });
    const cmp = qb('runs', 'compare', String(r15.id), String(r30.id), '--out', join(dir, 'cmp.html'));
    expect(cmp.stdout).toMatch(/^\* param\.horizon\s+15\s+30$/m);
    expect(readFileSync(join(dir, 'cmp.html'), 'utf8')).toContain('<tr class="diff"><th>record.score</th><td>32</td><td>62</td></tr>');
    const sql = qb('runs', 'sql', "SELECT command, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1", '--json');
    expect(JSON.parse(sql.stdout)).toEqual([{ command: 'eval', n: 1 }, { command: 'run', n: 2 }]);
  }, 240_000);
});
