import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { realData } from '../support/paths';

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
});
