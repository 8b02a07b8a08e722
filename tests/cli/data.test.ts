import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { barsToArraysBySymbol } from '../../src/data/bars';
import { loadBars } from '../../src/data/load';
import { resample } from '../../src/data/resample';
import { fillGaps } from '../../src/data/gaps';
import { realData } from '../support/paths';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'qb-cli-'));

describe('quantbook data', () => {
  it('every command has help', () => {
    for (const args of [['data', '--help'], ['data', 'inspect', '--help'], ['data', 'resample', '--help']]) {
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
});
