import { describe, expect, it } from 'vitest';
import { mergeConfig, walkForwardBacktest, type Candidate } from '../../src/backtest/walkforward';
import { ConfigError } from '../../src/core/errors';
import { walkForward } from '../../src/data/splits';
import { cfg, market } from './fixtures';

/** A zig-zag market and a perfect one-bar forecast of it (the next close over this close). */
function zigzag(n: number) {
  const c = Array.from({ length: n }, (_, t) => 100 * (1 + 0.02 * Math.sin(t / 3)));
  const m = market({ A: { open: c, close: c } });
  const mu = Float64Array.from({ length: n }, (_, t) => (t + 1 < n ? c[t + 1] / c[t] - 1 : 0));
  return { m, signals: { mu, sigma: new Float64Array(n).fill(0.05), horizonBars: 1 } };
}

describe('walk-forward', () => {
  const { m, signals } = zigzag(300);
  const candidates: Candidate[] = [0.05, 1].map((f) => ({ label: `kelly ${f}`, config: { sizing: { kind: 'kelly', fraction: f } } }));
  const folds = walkForward(300, { trainSize: 100, testSize: 50, labelHorizon: 1 });

  it('chooses by the objective on each training window and stitches the tests', () => {
    const wf = walkForwardBacktest({ market: m, signals, baseConfig: cfg(), candidates, folds, objective: (s) => s.totalReturnPct });
    expect(folds.map((f) => [f.train[0].start, f.train[0].end, f.test.start])).toEqual([[0, 99, 100], [50, 149, 150], [100, 199, 200], [150, 249, 250]]);
    expect(wf.folds.map((f) => f.chosen)).toEqual(['kelly 1', 'kelly 1', 'kelly 1', 'kelly 1']);
    expect(wf.folds[0].trainScores[1]).toBeGreaterThan(wf.folds[0].trainScores[0]);
    expect(wf.ts.length).toBe(200);
    expect(wf.ts[0]).toBe(m.ts[100]);
    // Each test block starts with the equity the previous one ended with.
    expect(wf.folds[1].testStats.startEquity).toBeCloseTo(wf.equity[49], 9);
    expect(wf.stats.totalReturnPct).toBeCloseTo(100 * (wf.equity[199] / 10_000 - 1), 9);
    const careful = walkForwardBacktest({ market: m, signals, baseConfig: cfg(), candidates, folds, objective: (s) => -s.annualVolPct });
    expect(careful.folds.every((f) => f.chosen === 'kelly 0.05')).toBe(true);
  });

  it('rejects overlapping test blocks and ranges outside the data', () => {
    const spec = { market: m, signals, baseConfig: cfg(), candidates, objective: (s: { sharpe: number }) => s.sharpe };
    expect(() => walkForwardBacktest({ ...spec, folds: walkForward(300, { trainSize: 100, testSize: 50, step: 25 }) })).toThrow(/overlap/);
    expect(() => walkForwardBacktest({ ...spec, folds: [{ train: [{ start: 0, end: 10 }], test: { start: 290, end: 310 } }] })).toThrow(ConfigError);
    expect(() => walkForwardBacktest({ ...spec, folds: [] })).toThrow(/at least one fold/);
  });

  it('merges config overrides, replacing unions of another kind', () => {
    expect(mergeConfig({ limits: { perSymbolCap: 0.6 }, sizing: { kind: 'kelly', fraction: 0.5 } }, { limits: { minTradeFraction: 0 }, sizing: { kind: 'targetWeight', weight: 0.1 } })).toEqual({
      limits: { perSymbolCap: 0.6, minTradeFraction: 0 },
      sizing: { kind: 'targetWeight', weight: 0.1 },
    });
  });
});
