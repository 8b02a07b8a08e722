import { describe, expect, it } from 'vitest';
import { REGIME, classifyMarketRegimes, classifyRegimes } from '../../src/backtest/regime';
import { simulateMarket } from '../../src/data/synthetic';
import { market } from './fixtures';

describe('regime classifier', () => {
  it('labels a steady drift trend, a flat wiggle chop, a volatility burst highVol and a jump shock', () => {
    const n = 400;
    const c = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const wiggle = 0.002 * (t % 2 === 0 ? 1 : -1);
      if (t < 200) c[t] = 100 * Math.exp(wiggle); // chop
      else if (t < 300) c[t] = 100 * Math.exp(0.003 * (t - 200) + wiggle); // trend
      else if (t < 350) c[t] = c[299] * Math.exp(4 * wiggle); // high volatility, no direction
      else c[t] = c[349] * (t >= 380 ? 0.8 : 1) * Math.exp(wiggle); // a 20% jump at 380
    }
    const { labels, warmupBars } = classifyRegimes(c);
    expect(warmupBars).toBe(100);
    expect(labels[50]).toBe(REGIME.chop);
    expect(labels[150]).toBe(REGIME.chop);
    expect(labels[290]).toBe(REGIME.trend);
    expect(labels[320]).toBe(REGIME.highVol);
    expect(Array.from(labels.subarray(380, 393))).toEqual(new Array(13).fill(REGIME.shock));
    expect(labels[393]).not.toBe(REGIME.shock);
  });

  it('recovers the synthetic market\'s hidden regimes better than chance', () => {
    const regimes = [
      { name: 'calm', driftAnnual: 0, volMultiplier: 1, jumpsPerDay: 0, volumeMultiplier: 1, meanDurationDays: 2 },
      { name: 'trend', driftAnnual: 60, volMultiplier: 1, jumpsPerDay: 0, volumeMultiplier: 1, meanDurationDays: 1 },
      { name: 'turbulent', driftAnnual: 0, volMultiplier: 3, jumpsPerDay: 0, volumeMultiplier: 1, meanDurationDays: 0.5 },
    ];
    const m = simulateMarket({ seed: 3, session: '24x7', barMs: 300_000, start: '2024-01-01', end: '2024-02-01', symbols: [{ symbol: 'X', price: 100, annualVol: 0.5 }], regimes, garch: { alpha: 0, beta: 0 } });
    const s = m.series[0];
    const { labels } = classifyRegimes(s.close);
    const share = (hidden: number, mine: number[]): number => {
      let n = 0;
      let hit = 0;
      for (let i = 0; i < labels.length; i++) if (s.regime[i] === hidden) (n++, mine.includes(labels[i]) && hit++);
      return hit / n;
    };
    expect(share(0, [REGIME.chop])).toBeGreaterThan(0.65);
    expect(share(1, [REGIME.trend])).toBeGreaterThan(0.6);
    expect(share(2, [REGIME.highVol, REGIME.shock])).toBeGreaterThan(0.65);
  });

  it('classifies each symbol of a grid on its own bars and repeats the label over gaps', () => {
    const up = Array.from({ length: 150 }, (_, t) => 100 * Math.exp(0.01 * t));
    const gappy = up.map((p, t) => (t === 120 ? NaN : p));
    const m = market({ A: { open: up, close: up }, B: { open: gappy, close: gappy } });
    const { labels } = classifyMarketRegimes(m);
    expect(labels[120 * 2]).toBe(REGIME.trend);
    expect(labels[120 * 2 + 1]).toBe(labels[119 * 2 + 1]);
  });
});
