import { describe, expect, it } from 'vitest';
import { bootstrapTrades, summarizeDistribution, monteCarloOfRun, optimalBlockLength, stationaryBootstrap, stationaryBootstrapIndices } from '../../src/backtest/montecarlo';
import { runBacktest } from '../../src/backtest/engine';
import { Rng } from '../../src/core/random';
import { ConfigError, DataError } from '../../src/core/errors';
import { cfg, constSignals, market } from './fixtures';

describe('trade bootstrap', () => {
  it('compounds drawn trade returns: one value gives (1 + r)^n exactly', () => {
    const r = bootstrapTrades([-0.2, -0.2, -0.2, -0.2], { simulations: 10, startEquity: 100 });
    expect(r.finalEquity.p50).toBeCloseTo(100 * 0.8 ** 4, 9);
    expect(r.maxDrawdownPct.mean).toBeCloseTo(100 * (1 - 0.8 ** 4), 9);
    expect(r.ruinProbability).toBe(1); // 0.8^4 = 0.41 < 0.5
    expect(bootstrapTrades([-0.1, -0.1], { simulations: 10 }).ruinProbability).toBe(0); // 0.81 > 0.5
  });

  it('is seeded and its mean final equity converges to the product of means', () => {
    const returns = [0.05, -0.03, 0.02, -0.01, 0.04];
    const a = bootstrapTrades(returns, { simulations: 20_000, seed: 11 });
    expect(bootstrapTrades(returns, { simulations: 20_000, seed: 11 }).samples.finalEquity).toEqual(a.samples.finalEquity);
    expect(bootstrapTrades(returns, { simulations: 20_000, seed: 12 }).finalEquity.mean).not.toBe(a.finalEquity.mean);
    // E[prod(1 + r_i)] = (1 + mean r)^n for independent draws: 1.014^5 = 1.07207.
    expect(a.finalEquity.mean).toBeCloseTo(1.014 ** 5, 2);
  });

  it('rejects impossible returns and options', () => {
    expect(() => bootstrapTrades([])).toThrow(DataError);
    expect(() => bootstrapTrades([0.1, -1.2])).toThrow(/row 1/);
    expect(() => bootstrapTrades([0.1], { simulations: 0 })).toThrow(ConfigError);
    expect(() => bootstrapTrades([0.1], { ruinFraction: 1 })).toThrow(ConfigError);
  });
});

describe('stationary bootstrap (Politis-Romano)', () => {
  it('draws blocks of geometric length with the asked mean, wrapping around the end', () => {
    const idx = stationaryBootstrapIndices(50, 8, new Rng(5), new Int32Array(200_000));
    let blocks = 1;
    let wraps = 0;
    for (let k = 1; k < idx.length; k++) {
      if (idx[k] === idx[k - 1] + 1) continue;
      if (idx[k] === 0 && idx[k - 1] === 49) wraps++;
      else blocks++;
    }
    // A new start can land on i+1 by chance (prob 1/50), so runs look slightly longer than 8.
    expect(idx.length / blocks).toBeGreaterThan(7.7);
    expect(idx.length / blocks).toBeLessThan(8.6);
    expect(wraps).toBeGreaterThan(0);
  });

  it('keeps a path\'s steps equal to the returns it resamples, seeded', () => {
    const rets = Float64Array.from({ length: 300 }, (_, i) => 0.001 * Math.sin(i));
    const a = stationaryBootstrap(rets, { simulations: 50, seed: 2, meanBlockLength: 10 });
    expect(a.steps).toBe(300);
    expect(a.meanBlockLength).toBe(10);
    expect(stationaryBootstrap(rets, { simulations: 50, seed: 2, meanBlockLength: 10 }).samples.finalEquity).toEqual(a.samples.finalEquity);
  });

  it('chooses short blocks for white noise and long ones for persistent series', () => {
    const rng = new Rng(9);
    const noise = Float64Array.from({ length: 5000 }, () => rng.normal());
    const ar = new Float64Array(5000);
    for (let i = 1; i < ar.length; i++) ar[i] = 0.9 * ar[i - 1] + rng.normal();
    expect(optimalBlockLength(noise)).toBeLessThan(3);
    expect(optimalBlockLength(ar)).toBeGreaterThan(15);
  });
});

describe('distribution and runs', () => {
  it('interpolates percentiles like numpy', () => {
    const d = summarizeDistribution(Float64Array.of(5, 1, 4, 2, 3));
    expect(d).toEqual({ mean: 3, p05: 1.2, p25: 2, p50: 3, p75: 4, p95: 4.8 });
  });

  it('runs both methods on a backtest result from its capital', () => {
    const up = Array.from({ length: 60 }, (_, t) => 100 + (t % 7) - 3 + t * 0.1);
    const m = market({ A: { open: up, close: up } });
    const s = { ...constSignals(m, 0.01), entry: Int8Array.from({ length: 60 }, (_, t) => (t % 5 === 0 ? 1 : 0)) };
    const r = runBacktest(m, s, cfg({ rule: { kind: 'entryExit', horizonBars: 3 } }));
    const mc = monteCarloOfRun(r, { simulations: 100, seed: 1 });
    expect(mc.trades!.steps).toBe(r.trades.filter((t) => t.exitReason !== 'end').length);
    expect(mc.bars.steps).toBe(60);
    expect(mc.bars.finalEquity.p50).toBeGreaterThan(5_000);
  });
});
