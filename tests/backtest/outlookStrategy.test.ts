import { describe, expect, it } from 'vitest';
import { meanReversionZ, outlookSignals, pUpFromQuantiles, runOutlook } from '../../src/backtest/outlookStrategy';
import { probAboveAtStep } from '../../src/forecast/paths/stats';
import { cfg, market } from './fixtures';

describe('outlook harness', () => {
  // A saw-tooth: 10 bars down from 110 to 101, then back to 110; buying the dip pays.
  const c = Array.from({ length: 120 }, (_, t) => 110 - (t % 10));
  const m = market({ A: { open: c, close: c } });
  const T = c.length;
  const forecasts = { mu: new Float64Array(T).fill(0.01), sigma: new Float64Array(T).fill(0.05), pUp: new Float64Array(T).fill(0.7) };

  it('computes the mean-reversion z-score over the last window closes (ddof 1)', () => {
    const z = meanReversionZ(m, 5);
    expect(Number.isNaN(z[3])).toBe(true);
    // Closes 110..106 at t = 4: mean 108, sd sqrt(2.5).
    expect(z[4]).toBeCloseTo((106 - 108) / Math.sqrt(2.5), 12);
  });

  it('enters on pUp >= 0.6 with a stretched z-score, holds for the horizon, and reports pUp and outcome', () => {
    const o = runOutlook(m, forecasts, cfg({ classes: { crypto: { feeBps: 0, slippageBps: 0 } } }), { horizonBars: 3, zWindow: 10, zMax: -1, stopLoss: null });
    expect(o.trades.length).toBeGreaterThan(5);
    for (const t of o.trades) {
      expect(t.z).toBeLessThanOrEqual(-1);
      expect(t.pUp).toBe(0.7);
      expect(t.exitReason).toBe('horizon');
      const s = t.decisionBar;
      expect(t.up).toBe(s + 3 < T ? c[s + 3] > c[s] : null);
    }
    // Every bar with a known outcome is a calibration sample.
    expect(o.predictions.pUp.length).toBe(T - 3);
    expect(o.predictions.up[0]).toBe(0);
  });

  it('does not enter when pUp is below the threshold', () => {
    const low = { ...forecasts, pUp: new Float64Array(T).fill(0.59) };
    expect(outlookSignals(m, low).entry!.every((e) => e === 0)).toBe(true);
    expect(runOutlook(m, low, cfg()).trades).toHaveLength(0);
  });

  it('stops out a losing entry', () => {
    const crash = [100, 100, 100, 100, 100, 99, 99, 90, 85, 85, 85, 85];
    const mc = market({ A: { open: crash, close: crash } });
    const n = crash.length;
    const f = { mu: new Float64Array(n).fill(0.01), sigma: new Float64Array(n).fill(0.05), pUp: new Float64Array(n).fill(0.9) };
    const o = runOutlook(mc, f, cfg(), { horizonBars: 5, zWindow: 5, zMax: 0, stopLoss: 0.05 });
    expect(o.trades[0].exitReason).toBe('stop');
    expect(o.trades[0].win).toBe(false);
  });

  it('computes pUp from paths and from quantiles', () => {
    expect(probAboveAtStep(Float64Array.of(101, 99, 102, 98, 103, 104), 3, 2, 100)).toBeCloseTo(1 / 3, 15);
    expect(pUpFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 100)).toBeCloseTo(0.58, 15);
    expect(pUpFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 97)).toBeCloseTo(0.9, 15);
    expect(pUpFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 104)).toBeCloseTo(0.1, 15);
  });

  it('rejects pUp outside [0, 1] and arrays that do not line up', () => {
    expect(() => outlookSignals(m, { ...forecasts, pUp: new Float64Array(T).fill(1.2) })).toThrow(/probability/);
    expect(() => outlookSignals(m, { ...forecasts, pUp: new Float64Array(3) })).toThrow(/do not line up/);
  });
});
