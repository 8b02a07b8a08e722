import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBacktestCli } from '../../src/cli/backtest';
import { realData } from '../support/paths';
import { runCli } from '../support/cli';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

describe('volatility models by name, and --calibrate conformal, in the CLI', () => {
  it('eval --model garch scores on a recorded pair; the fit fallback is counted', async () => {
    const r = await run(['eval', '--data', realData('crypto-5m', 'ETH_BTC-5m.feather'), '--model', 'garch', '--horizon', '6', '--every', '600', '--samples', '50', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.model).toBe('garch');
    expect(j.n).toBeGreaterThan(5);
    expect(j.coverage80).toBeGreaterThan(0.6);
    expect(j.fallbacks).toBe(0);
    // a lookback too short for a fit: every window goes to EWMA, and eval counts each
    const short = await run(['eval', '--data', realData('crypto-5m', 'ETH_BTC-5m.feather'), '--model', 'gjr-garch', '--lookback', '40', '--horizon', '6', '--every', '600', '--samples', '20', '--json']);
    const s = JSON.parse(short.out);
    expect(s.fallbacks).toBe(s.n);
  });

  it('forecast --model gjr-garch writes an outlook whose paths say how they were simulated', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-vol-'));
    const r = await run(['forecast', '--data', realData('crypto-1m', 'XRP_ETH-1m.feather'), '--symbol', 'XRP_ETH', '--session', '24x7', '--model', 'gjr-garch', '--samples', '50', '--no-png', '--json', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.model).toMatchObject({ name: 'gjr-garch', pathSource: 'model', fallback: { count: 0, forecaster: 'ewma' } });
    expect(s.model.pathMethod).toMatch(/^gjr-garch recursion simulated forward with standardized t draws \(volatility clustering\); highs and lows by a Brownian bridge per step/);
    expect(s.model.calibration).toBeUndefined();
    const c = await run(['forecast', '--data', realData('crypto-1m', 'XRP_ETH-1m.feather'), '--symbol', 'XRP_ETH', '--session', '24x7', '--model', 'ewma', '--calibrate', 'conformal', '--samples', '50', '--no-png', '--json', '--out', out]);
    expect(c.code, c.err).toBe(0);
    const cs = JSON.parse(c.out);
    expect(cs.model.name).toBe('ewma+conformal');
    expect(cs.model.calibration).toMatchObject({ method: 'conformal (PIT + ACI)', gamma: 0.002, warmUp: 100 });
    expect(cs.model.calibration.updates).toBeGreaterThan(50);
  });

  it('backtest --forecaster ewma and --compare garch run like the baselines', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-vol-'));
    const { runs } = await runBacktestCli({ data: realData('perp', 'XRP_USDT_USDT-5m-futures.feather'), class: 'perp', compare: 'ewma,garch', days: 1, mc: 0, out });
    expect(runs.map((x) => x.forecaster)).toEqual(['ewma', 'garch']);
    expect(runs[1].record.forecast).toMatchObject({ forecaster: 'garch' });
    const cal = await runBacktestCli({ data: realData('perp', 'XRP_USDT_USDT-5m-futures.feather'), class: 'perp', forecaster: 'ewma', calibrate: 'conformal', days: 1, mc: 0, out });
    expect(cal.runs[0].record.forecast).toMatchObject({ forecaster: 'ewma+conformal', fallbackWindows: 0 });
    const ens = await runBacktestCli({ data: realData('perp', 'XRP_USDT_USDT-5m-futures.feather'), class: 'perp', forecaster: 'mixture:ewma+historical', days: 1, mc: 0, out });
    expect(ens.runs[0].record.forecast).toMatchObject({ forecaster: 'mixture:ewma*0.5+historical*0.5' });
  });

  it('eval --calibrate conformal says so in the table and the JSON', async () => {
    const args = ['eval', '--data', realData('crypto-5m', 'ETH_BTC-5m.feather'), '--model', 'naive', '--horizon', '3', '--every', '300', '--samples', '20', '--calibrate', 'conformal'];
    expect((await run(args)).out).toMatch(/^model naive, horizon 3, every 300, samples 20, aggregate median, device none, calibrate conformal\n/);
    expect(JSON.parse((await run([...args, '--json'])).out)).toMatchObject({ calibrate: 'conformal' });
    expect((await run([...args.slice(0, -1), 'isotonic'])).err).toMatch(/ConfigError: invalid option/);
  });
});
