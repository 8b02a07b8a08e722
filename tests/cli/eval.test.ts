import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realData } from '../support/paths';
import { PROTOTYPE_SYMBOLS, walkRows, writeCsv } from '../support/csv';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const code = await main(['node', 'quantbook', ...args]);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('quantbook eval', () => {
  const file = realData('crypto-5m', 'ETH_BTC-5m.feather');

  it('prints one JSON object with the scores, on a real series', async () => {
    const r = await run(['eval', '--data', file, '--model', 'naive', '--horizon', '6', '--every', '400', '--samples', '20', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['n', 'pctReturnMae', 'mae', 'mase', 'wql', 'crps', 'coverage80', 'latencyMsP50', 'latencyMsP95', 'device', 'fallbacks']) expect(j).toHaveProperty(k);
    // 5,760 bars, origins 511, 911, ... while t + 6 < 5760: 14 origins (less any with a missing future bar)
    expect(j.n + j.skippedMissingFuture).toBe(14);
    expect(j).toMatchObject({ device: 'none', fallbacks: 0 });
    expect(j.pctReturnMae).toBeGreaterThan(0);
    expect(j.coverage80).toBeGreaterThan(0.5);
    expect(Object.keys(j.series)).toEqual(['ETH_BTC']);
  });

  it('prints a table by default and the oracle scores zero error', async () => {
    const r = await run(['eval', '--data', file, '--model', 'oracle', '--horizon', '3', '--every', '1000']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^model oracle, horizon 3, every 1000/);
    expect(r.out).toMatch(/\nall +\d+ +0\.000000 +0\.000/);
  });

  it('bad flags are one line and exit 1', async () => {
    const bad = await run(['eval', '--data', file, '--model', 'arima', '--horizon', '3']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^quantbook: ConfigError: unknown model or baseline "arima": give a model card \(.json\) or one of naive, trend/);
    const zero = await run(['eval', '--data', file, '--model', 'naive', '--horizon', '0']);
    expect(zero.err).toMatch(/ConfigError: invalid option: .*key "--horizon"/);
    const agg = await run(['eval', '--data', file, '--model', 'naive', '--horizon', '3', '--aggregate', 'avg']);
    expect(agg.err).toMatch(/unknown aggregate/);
  });

  it('validates its input as every command does: Inf and negative prices are a DataError, not NaN scores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-eval-'));
    const inf = walkRows(60, 5);
    inf[30][2] = Infinity;
    inf[30][4] = Infinity;
    const a = await run(['eval', '--data', writeCsv(join(dir, 'inf.csv'), inf), '--model', 'naive', '--horizon', '1', '--lookback', '10', '--samples', '5', '--json']);
    expect([a.code, a.out]).toEqual([1, '']);
    expect(a.err).toMatch(/^quantbook: DataError: price must be finite and positive \(file .*inf\.csv, row 30, column "high", value Infinity\)/);
    const neg = walkRows(60, 5);
    neg[40][4] = -2;
    const b = await run(['eval', '--data', writeCsv(join(dir, 'neg.csv'), neg), '--model', 'naive', '--horizon', '1', '--lookback', '10', '--samples', '5', '--json']);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/row 40, column "close", value -2/);
  });

  it('a bar a century off is a DataError naming both timestamps, not a 3 GB grid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-eval-'));
    const rows = walkRows(3, 6);
    rows[2][0] = '2124-01-01T00:02:00.000Z';
    const r = await run(['eval', '--data', writeCsv(join(dir, 'far.csv'), rows), '--model', 'naive', '--horizon', '1', '--lookback', '2']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^quantbook: DataError: refusing to fill 52594560 missing bars into 3 .*between 2024-01-01T00:01:00\.000Z and 2124-01-01T00:02:00\.000Z.*file .*far\.csv/);
  });

  it('symbols named like Object.prototype members are ordinary series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-eval-'));
    PROTOTYPE_SYMBOLS.forEach((s, k) => writeCsv(join(dir, `${s}-1m.csv`), walkRows(80, 10 + k)));
    const r = await run(['eval', '--data', dir, '--model', 'naive', '--horizon', '2', '--lookback', '20', '--every', '10', '--samples', '5', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(Object.keys(j.series).sort()).toEqual([...PROTOTYPE_SYMBOLS].sort());
    for (const s of PROTOTYPE_SYMBOLS) expect(j.series[s].n).toBe(6);
  });
});
