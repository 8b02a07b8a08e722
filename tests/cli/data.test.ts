import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { barsToArraysBySymbol } from '../../src/data/bars';
import { loadBars } from '../../src/data/load';
import { resample } from '../../src/data/resample';
import { fillGaps } from '../../src/data/gaps';
import { realData } from '../support/paths';
import { PROTOTYPE_SYMBOLS, walkRows, writeCsv } from '../support/csv';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'qb-cli-'));

/** The CLI in this process (no node start per call): exit code, stdout and stderr. */
async function runIn(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  const status = await main(['node', 'quantbook', ...args]);
  process.exitCode = undefined;
  vi.restoreAllMocks();
  return { status, stdout, stderr };
}

afterEach(() => vi.restoreAllMocks());

describe('quantbook data', () => {
  it('every command has help', () => {
    for (const args of [['data', '--help'], ['data', 'inspect', '--help'], ['data', 'validate', '--help'], ['data', 'resample', '--help']]) {
      const r = run(...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: quantbook data/);
    }
  });

  it('inspect --json reports rows, symbols, span, interval, gaps and problems', () => {
    const r = run('data', 'inspect', realData('crypto-5m'), '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows).toBe(46033);
    expect(report.symbols).toHaveLength(8);
    expect(report.first).toBe('2018-01-10T04:55:00.000Z');
    const ada = report.symbols.find((s: { symbol: string }) => s.symbol === 'ADA_BTC');
    expect([ada.interval, ada.missingBars, ada.sessions]).toEqual(['5m', 40, 21]);
    expect(report.problems).toEqual([]);
  });

  it('inspect with a calendar: the A-share file in Shanghai time', () => {
    const r = run('data', 'inspect', realData('a-share-5m.csv'), '--session', 'cn-a', '--time-zone', 'Asia/Shanghai', '--stamped-at', 'end', '--bar', '5m');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rows\s+2500/);
    expect(r.stdout).toMatch(/span\s+2024-06-18T03:10:00.000Z \.\. 2024-08-29T03:25:00.000Z/);
    expect(r.stdout).toMatch(/validation: ok/);
  });

  it('inspect lists validation problems with counts', () => {
    const r = run('data', 'inspect', realData('perp', 'XRP_USDT_USDT-1h-mark.feather'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/validation: 100 volume/);
    expect(r.stdout).toMatch(/row 0, column volume, value null/);
  });

  it('resample --fill writes what the library computes', () => {
    const out = join(dir, 'c-1h.parquet');
    const r = run('data', 'resample', realData('crypto-5m'), out, '--every', '1h', '--fill');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/filled 46 missing bars/);
    const expected = resample(fillGaps(loadBars(realData('crypto-5m')), '24x7').bars.drop('filled'), '1h').bars;
    const got = loadBars(out, { keep: ['count'] });
    expect(got.frameEqual(expected)).toBe(true);
    expect(barsToArraysBySymbol(got).get('ETH_BTC')!.ts.length).toBe(481);
  });

  it('bad input: one readable line, exit 1, no stack unless --debug', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'date,open,high,low,close,volume\n2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:01,1,0.5,1,1,1\n');
    const r = run('data', 'resample', bad, join(dir, 'x.parquet'), '--every', '5m');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`quantbook: DataError: high below max(open, close) (file ${bad}, row 1, column "high", value 0.5)`);
    const dbg = run('data', 'resample', bad, join(dir, 'x.parquet'), '--every', '5m', '--debug');
    expect(dbg.stderr).toMatch(/    at /);
    const fixed = run('data', 'resample', bad, join(dir, 'x.parquet'), '--every', '5m', '--repair', 'dropInvalid');
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toMatch(/dropInvalid 1/);
    expect(run('data', 'inspect', join(dir, 'missing.csv')).stderr.trim()).toMatch(/^quantbook: DataError: no such file or folder/);
    const mixed = run('data', 'inspect', realData('crypto-1m'), '--symbol', 'x');
    expect(mixed.status).toBe(1);
    const session = run('data', 'resample', bad, join(dir, 'x.parquet'), '--every', '5m', '--session', 'nyse');
    expect(session.stderr.trim()).toMatch(/ConfigError: .*key "--session", value "nyse"/);
    expect(run('data', 'resample', realData('crypto-5m'), join(dir, 'y.parquet'), '--every', '7m').stderr).toMatch(/cannot resample 5m bars to 7m/);
  });

  it('validate: the problems as inspect lists them, exit 1; clean data exits 0; inspect --strict exits the same way', async () => {
    const mark = realData('perp', 'XRP_USDT_USDT-1h-mark.feather');
    const v = await runIn('data', 'validate', mark);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/^.*XRP_USDT_USDT-1h-mark\.feather: 100 rows, 1 symbol\n  validation: 100 volume \(first ones below\)\n    volume    row 0, column volume, value null: volume must be finite and >= 0/);
    const clean = await runIn('data', 'validate', realData('crypto-5m'));
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/46033 rows, 8 symbols\n  validation: ok/);
    const json = await runIn('data', 'validate', mark, '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, rows: 100, problemCounts: { volume: 100, price: 0 } });
    expect((await runIn('data', 'inspect', mark)).status).toBe(0);
    const strict = await runIn('data', 'inspect', mark, '--strict');
    expect(strict.status).toBe(1);
    expect(strict.stdout).toMatch(/validation: 100 volume/);
    expect((await runIn('data', 'inspect', realData('crypto-5m'), '--strict')).status).toBe(0);
  });

  it('prints NaN and infinite values by name, not as "null" (the word for a missing value)', async () => {
    const f = join(dir, 'nan-inf.csv');
    writeFileSync(f, 'ts,open,high,low,close,volume\n2024-01-02T00:00Z,1,inf,1,1,1\n2024-01-02T00:01Z,1,1,1,NaN,1\n2024-01-02T00:02Z,1,1,1,1,-inf\n2024-01-02T00:03Z,1,1,1,1,\n');
    const r = await runIn('data', 'validate', f);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/row 0, column high, value Infinity: price/);
    expect(r.stdout).toMatch(/row 1, column close, value NaN: price/);
    expect(r.stdout).toMatch(/row 2, column volume, value -Infinity: volume/);
    expect(r.stdout).toMatch(/row 3, column volume, value null: volume/);
    const j = JSON.parse((await runIn('data', 'inspect', f, '--json')).stdout);
    expect(j.problems.map((p: { value: unknown }) => p.value)).toEqual(['Infinity', 'NaN', '-Infinity', null]);
  });

  it('messages name the flag: --timestamp epoch-s for epoch seconds, --ambiguous for a repeated wall time', async () => {
    const epoch = join(dir, 'epoch.csv');
    writeFileSync(epoch, 'ts,open,high,low,close,volume\n1704153600,1,1,1,1,1\n1704153660,1,1,1,1,1\n');
    const e = await runIn('data', 'inspect', epoch);
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/these look like epoch seconds, pass --timestamp epoch-s/);
    expect((await runIn('data', 'inspect', epoch, '--timestamp', 'epoch-s')).stdout).toMatch(/span\s+2024-01-02T00:00:00\.000Z \.\. 2024-01-02T00:01:00\.000Z/);
    const ms = join(dir, 'epoch-ms.csv');
    writeFileSync(ms, 'ts,open,high,low,close,volume\n1704153600000,1,1,1,1,1\n');
    expect((await runIn('data', 'inspect', ms)).stderr).toMatch(/epoch milliseconds, pass --timestamp epoch-ms/);
    const dst = join(dir, 'dst.csv');
    writeFileSync(dst, 'ts,open,high,low,close,volume\n2024-11-03 01:00,1,1,1,1,1\n2024-11-03 01:30,1,1,1,1,1\n');
    const amb = await runIn('data', 'inspect', dst, '--time-zone', 'America/New_York');
    expect(amb.status).toBe(1);
    expect(amb.stderr).toMatch(/occurs twice in America\/New_York .*pass --ambiguous earliest or --ambiguous latest/);
    expect((await runIn('data', 'inspect', dst, '--time-zone', 'America/New_York', '--ambiguous', 'earliest')).stdout).toMatch(/span\s+2024-11-03T05:00:00\.000Z \.\. 2024-11-03T05:30:00\.000Z/);
    expect((await runIn('data', 'inspect', dst, '--time-zone', 'America/New_York', '--ambiguous', 'latest')).stdout).toMatch(/span\s+2024-11-03T06:00:00\.000Z \.\. 2024-11-03T06:30:00\.000Z/);
    expect((await runIn('data', 'inspect', dst, '--ambiguous', 'middle')).stderr).toMatch(/ConfigError: .*key "--ambiguous"/);
  });

  it('a symbolic link loop is named as one, not as a missing file; --column ts= (pandas index) is accepted', async () => {
    const loop = join(dir, 'loop.csv');
    symlinkSync(loop, loop);
    const r = await runIn('data', 'inspect', loop);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`quantbook: DataError: symbolic link loop: the path leads back to itself (ELOOP) (file ${loop})`);
    const pandas = join(__dirname, '..', 'data', 'fixtures', 'pandas-daily-tz.csv');
    expect((await runIn('data', 'inspect', pandas, '--column', 'ts=')).stdout).toMatch(/rows\s+30/);
    expect((await runIn('data', 'inspect', pandas, '--column', 'open=')).stderr).toMatch(/ConfigError: use KEY=NAME/);
  });

  it('files named constructor, __proto__, toString, hasOwnProperty are symbols like any other', async () => {
    const syms = mkdtempSync(join(tmpdir(), 'qb-cli-syms-'));
    PROTOTYPE_SYMBOLS.forEach((s, k) => writeCsv(join(syms, `${s}-1m.csv`), walkRows(50, 40 + k)));
    const r = await runIn('data', 'inspect', syms, '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.symbols.map((s: { symbol: string; rows: number }) => [s.symbol, s.rows])).toEqual([...PROTOTYPE_SYMBOLS].sort().map((s) => [s, 50]));
    expect(report.problems).toEqual([]);
    expect((await runIn('data', 'validate', syms)).status).toBe(0);
  });
});
