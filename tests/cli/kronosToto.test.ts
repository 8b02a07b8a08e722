/**
 * The Kronos (and Toto) fixture cards through the commands a quant uses: forecast, eval,
 * eval --compare and backtest, on recorded real data. The cards hold random weights: these
 * tests check the plumbing (bars reach the model, paths carry highs and lows, results are
 * written), not forecast skill.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktestCli } from '../../src/cli/backtest';
import { clearSessionCache } from '../../src/forecast/runtime';
import { runCli } from '../support/cli';
import { realData } from '../support/paths';

const KRONOS = join(__dirname, '..', '..', 'models', 'fixtures', 'kronos-tiny.json');
const TOTO = join(__dirname, '..', '..', 'models', 'fixtures', 'toto-tiny.json');
const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');
const ETH5 = realData('crypto-5m', 'ETH_BTC-5m.feather');
const PERP = realData('perp', 'XRP_USDT_USDT-5m-futures.feather');
const tmp = () => mkdtempSync(join(tmpdir(), 'qb-kronos-cli-'));

afterAll(() => clearSessionCache());

describe('Kronos through the CLI', () => {
  it('forecast: OHLCV bars in, paths with sampled highs and lows out', async () => {
    const out = tmp();
    const r = await runCli(['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', KRONOS, '--lookback', '48', '--samples', '20', '--seed', '5', '--no-png', '--json', '--out', out]);
    expect(r.err).toMatch(/^(|quantbook: kronos-tiny\/s1: CUDA unavailable[^\n]*running on CPU\n)$/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.model).toMatchObject({ family: 'kronos', pathSource: 'model' });
    expect(s.extremesFrom).toBe('highLow');
    expect(s.samples).toBe(20);
    expect(JSON.stringify(s)).toMatch(/sampled by the model bar by bar \(temperature 1, top-k off, top-p 0.9\); Kronos coarse then fine token per bar, decoded to OHLC; OHLCV bars/);
    const csv = readdirSync(out).find((f) => f.startsWith('paths_'))!;
    const rows = readFileSync(join(out, csv), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(21);
    expect(rows[0]).toMatch(/^path,close_1,.*,high_1,.*,low_30$/);
    const again = await runCli(['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', KRONOS, '--lookback', '48', '--samples', '20', '--seed', '5', '--no-png', '--json', '--out', tmp()]);
    expect(JSON.parse(again.out).pUp).toBe(s.pUp);
  });

  it('eval: walk-forward scores on real 5-minute bars', async () => {
    const r = await runCli(['eval', '--data', ETH5, '--model', KRONOS, '--horizon', '6', '--lookback', '48', '--every', '1000', '--samples', '10', '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out);
    // origins 47, 1047, ..., 5047 of 5,760 bars
    expect(m.n + m.skippedMissingFuture).toBe(6);
    expect(m.n).toBeGreaterThan(3);
    expect(m.crps).toBeGreaterThan(0);
    expect(m.fallbacks).toBe(0);
  });

  it('eval --compare: Kronos against the naive baseline on the same origins', async () => {
    const r = await runCli(['eval', '--data', ETH5, '--compare', `${KRONOS},naive`, '--horizon', '6', '--lookback', '48', '--every', '4000', '--samples', '10', '--json']);
    expect(r.code).toBe(0);
    const board = JSON.parse(r.out);
    expect(board.rows.map((x: { name: string }) => x.name).sort()).toEqual([KRONOS, 'naive'].sort());
  });

  it('backtest: Kronos signals drive the strategy on a real perpetual', async () => {
    const out = tmp();
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', forecaster: 'model', model: KRONOS, days: 1, horizon: 2, samples: 4, mc: 0, out });
    expect(runs).toHaveLength(1);
    expect(runs[0].forecaster).toBe('kronos-tiny');
    const record = JSON.parse(readFileSync(runs[0].file, 'utf8'));
    expect(JSON.stringify(record)).toMatch(/kronos-tiny/);
    expect(readdirSync(out)).toContain('backtest-kronos-tiny.json');
  });
});

describe('Toto through the CLI', () => {
  it('forecast: closes in, sampled close paths out, the same for the same seed', async () => {
    const args = ['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', TOTO, '--lookback', '64', '--samples', '20', '--seed', '5', '--no-png', '--json'];
    const out = tmp();
    const r = await runCli([...args, '--out', out]);
    expect(r.err).toMatch(/^(|quantbook: toto-tiny: CUDA unavailable[^\n]*running on CPU\n)$/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.model).toMatchObject({ family: 'toto', pathSource: 'model' });
    expect(s.samples).toBe(20);
    expect(JSON.stringify(s)).toMatch(/Toto Student-T mixture \(3 components\) per step, sampled, 8 patch\(es\) of 4/);
    const csv = readdirSync(out).find((f) => f.startsWith('paths_'))!;
    const rows = readFileSync(join(out, csv), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(21);
    expect(rows[0]).toMatch(/^path,close_1,.*,close_30/);
    const again = await runCli([...args, '--out', tmp()]);
    expect(JSON.parse(again.out).pUp).toBe(s.pUp);
  });

  it('eval: walk-forward scores on real 5-minute bars', async () => {
    const r = await runCli(['eval', '--data', ETH5, '--model', TOTO, '--horizon', '6', '--lookback', '64', '--every', '1000', '--samples', '10', '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out);
    expect(m.n + m.skippedMissingFuture).toBe(6);
    expect(m.n).toBeGreaterThan(3);
    expect(m.crps).toBeGreaterThan(0);
    expect(m.fallbacks).toBe(0);
  });

  it('eval --compare: Toto against Kronos and the naive baseline on the same origins', async () => {
    const r = await runCli(['eval', '--data', ETH5, '--compare', `${TOTO},${KRONOS},naive`, '--horizon', '6', '--lookback', '48', '--every', '4000', '--samples', '10', '--json']);
    expect(r.code).toBe(0);
    const board = JSON.parse(r.out);
    expect(board.rows.map((x: { name: string }) => x.name).sort()).toEqual([TOTO, KRONOS, 'naive'].sort());
  });

  it('backtest: Toto signals drive the strategy on a real perpetual', async () => {
    const out = tmp();
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', forecaster: 'model', model: TOTO, days: 1, horizon: 2, samples: 4, mc: 0, out });
    expect(runs).toHaveLength(1);
    expect(runs[0].forecaster).toBe('toto-tiny');
    expect(readdirSync(out)).toContain('backtest-toto-tiny.json');
  });
});

