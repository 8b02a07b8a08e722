/**
 * Outputs of every command: names that would leave --out, an unwritable --out found before any
 * work, and a real full disk (a small tmpfs, where this machine lets a test mount one).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli';
import { realData, REPO_ROOT } from '../support/paths';
import { mountTmpfs } from '../support/tmpfs';

const bin = join(REPO_ROOT, 'bin', 'quantbook.js');
const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');
const PERP = realData('perp', 'XRP_USDT_USDT-5m-futures.feather');
const NOTEBOOK = join(REPO_ROOT, 'notebooks', '00-pipeline-sample.ipynb');
const tmp = () => mkdtempSync(join(tmpdir(), 'qb-outputs-'));

/** Runs the CLI in this process (the shared runner); returns the exit code and what it printed. */
const cli = (...args: string[]) => runCli(args);

/** File name -> sha256 of every file in `dir`. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

afterEach(() => vi.restoreAllMocks());

describe('output names stay inside --out', () => {
  it('run --name ../notebooks/01-data is refused before any kernel starts; the notebook is untouched', async () => {
    const root = tmp();
    mkdirSync(join(root, 'notebooks'));
    const nb = join(root, 'notebooks', '00-pipeline-sample.ipynb');
    const victim = join(root, 'notebooks', '01-data.ipynb');
    copyFileSync(NOTEBOOK, nb);
    writeFileSync(victim, '{"the": "source notebook"}\n');
    for (const [name, why] of [
      ['../notebooks/01-data', 'it contains a path separator ("/" or "\\")'],
      [victim.replace(/\.ipynb$/, ''), 'it is an absolute path'],
      ['..', 'it is ".."'],
    ] as const) {
      const r = await cli('run', nb, '--name', name, '-o', join(root, 'reports'), '--no-build', '-q');
      expect(r.code).toBe(1);
      expect(r.err).toBe(`quantbook: ConfigError: --name must be a bare file name that stays inside the output folder: ${why} (key "--name", value ${JSON.stringify(name)})\n`);
    }
    expect(readFileSync(victim, 'utf8')).toBe('{"the": "source notebook"}\n');
    expect(readdirSync(root).sort()).toEqual(['notebooks']); // not even the reports folder
    expect(readdirSync(join(root, 'notebooks')).sort()).toEqual(['00-pipeline-sample.ipynb', '01-data.ipynb']);
  });
});

describe('an unwritable or conflicting --out is found before any work', () => {
  const root = tmp();
  const file = join(root, 'a-file');
  writeFileSync(file, 'not a folder');
  const pairs = join(root, 'pairs.csv');
  writeFileSync(pairs, `p,y\n${Array.from({ length: 40 }, (_, i) => `${(i + 0.5) / 40},${i % 2}`).join('\n')}\n`);
  const line = (flag: string, path: string) => `quantbook: ConfigError: cannot write to ${flag} ${path}: it is a file, not a folder (key "${flag}")\n`;

  it.each([
    ['run', ['run', NOTEBOOK, '-o', file, '--no-build', '-q']],
    ['report', ['report', NOTEBOOK, '-o', file, '--no-build', '-q']],
    ['sweep', ['sweep', NOTEBOOK, '--grid', 'horizon=10,20', '-o', file, '--no-build', '-q']],
    ['forecast', ['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--no-png', '--out', file]],
    ['backtest', ['backtest', '--data', PERP, '--class', 'perp', '--days', '1', '--mc', '0', '--out', file]],
    ['calibrate', ['calibrate', '-i', pairs, '--out', file]],
  ])('%s: a file where the --out folder goes is one ConfigError line, exit 1', async (_, args) => {
    const r = await cli(...args);
    expect([r.code, r.err, r.out]).toEqual([1, line('--out', file), '']);
  });

  it('a folder below a file, and data resample to a folder: one line each, nothing written', async () => {
    const below = join(file, 'out');
    expect((await cli('forecast', '--data', BTC, '--symbol', 'BTC', '--model', 'historical', '--out', below)).err)
      .toBe(`quantbook: ConfigError: cannot write to --out ${below}: ${file} is a file, not a folder (key "--out")\n`);
    const folder = join(root, 'bars.parquet');
    mkdirSync(folder);
    const r = await cli('data', 'resample', BTC, folder, '--every', '5m');
    expect([r.code, r.err]).toEqual([1, `quantbook: ConfigError: cannot write to <out> ${folder}: it is a folder; name a file (key "<out>")\n`]);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('data resample to a folder prints no Rust panic or backtrace (a separate process: panics write to fd 2)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'qb-outputs-')) + '.csv';
    mkdirSync(folder);
    const r = spawnSync(process.execPath, [bin, 'data', 'resample', BTC, folder, '--every', '5m'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`quantbook: ConfigError: cannot write to <out> ${folder}: it is a folder; name a file (key "<out>")\n`);
  });
});

/** Fills the file system holding `dir` with one file, until it is full. */
function fillDisk(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Smaller writes take the last partial block.
    try {
      for (;;) writeSync(fd, block, 0, 512);
    } catch {
      /* full */
    }
  } finally {
    closeSync(fd);
  }
}

// The fan chart embeds plotly (about 3.6 MB): 16 MB holds one run's outputs and leaves room to fill.
const disk = mountTmpfs(['size=16m']);
afterAll(() => disk.unmount());

describe.skipIf(!disk.dir)(`a full disk (a 16 MB tmpfs)${disk.dir ? '' : ` (skipped: ${disk.reason})`}`, () => {
  const fullDiskLine = /^quantbook: OutputError: cannot write: no space left on device \(ENOSPC\); the previous file, if any, is unchanged \(file [^\n]+\)$/;

  // The second run writes more than the first: overwriting in place would truncate the old file,
  // free its space, and then run out of it midway (what the commands did before atomic writes).
  async function failsOnFullDisk(first: string[], second: string[], out: string): Promise<void> {
    const ok = await cli(...first);
    expect(ok.code).toBe(0);
    const before = snapshot(out);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    fillDisk(disk.dir!);
    try {
      const r = await cli(...second);
      expect(snapshot(out)).toEqual(before); // byte-identical, and no temporary file left
      expect(r.code).toBe(1);
      // One error line (backtest prints progress lines before it), and no stack trace.
      const lines = r.err.trimEnd().split('\n');
      expect(lines.filter((l) => l.startsWith('quantbook:'))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(fullDiskLine);
      expect(r.err).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(join(disk.dir!, 'filler'));
    }
  }

  it('data resample keeps the previous output intact', async () => {
    const out = join(disk.dir!, 'resample');
    const target = join(out, 'btc.csv');
    await failsOnFullDisk(['data', 'resample', BTC, target, '--every', '15m'], ['data', 'resample', BTC, target, '--every', '5m'], out);
  });

  it('forecast --out keeps the previous summary, paths CSV and chart intact', async () => {
    const out = join(disk.dir!, 'forecast');
    const args = (samples: string) => ['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', samples, '--no-png', '--out', out];
    await failsOnFullDisk(args('20'), args('50'), out);
  });

  it('backtest --out keeps the previous results intact', async () => {
    const out = join(disk.dir!, 'backtest');
    const args = (days: string) => ['backtest', '--data', PERP, '--class', 'perp', '--days', days, '--mc', '0', '--out', out];
    await failsOnFullDisk(args('1'), args('2'), out);
  });
});
