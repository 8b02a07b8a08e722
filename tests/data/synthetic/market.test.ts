import { describe, expect, it } from 'vitest';
import { simulateMarket, syntheticSeries, simulateFunding, marketToBars, DEFAULT_REGIMES } from '../../../src/data/synthetic';
import { sessionIndex } from '../../../src/data/sessions';
import { barsToArraysBySymbol } from '../../../src/data/bars';

const logReturns = (a: Float64Array): Float64Array => {
  const o = new Float64Array(a.length - 1);
  for (let i = 1; i < a.length; i++) o[i - 1] = Math.log(a[i] / a[i - 1]);
  return o;
};
const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
};
const corr = (x: Float64Array, y: Float64Array): number => {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sx += (x[i] - mx) ** 2;
    sy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sx * sy);
};

describe('simulateMarket: US equities, 1-minute RTH bars across the March 2024 DST change', () => {
  const m = simulateMarket({
    seed: 42,
    session: 'us-rth',
    barMs: 60_000,
    start: '2024-03-04',
    end: '2024-03-16',
    symbols: [
      { symbol: 'AAA', price: 150, annualVol: 0.25, factorLoading: 0.8 },
      { symbol: 'BBB', price: 50, annualVol: 0.4, factorLoading: 0.8 },
    ],
  });
  const [a, b] = m.series;

  it('has 390 bars per trading day, opening 09:30 New York on both sides of the change', () => {
    expect(a.ts.length).toBe(10 * 390);
    expect(new Date(a.ts[0]).toISOString()).toBe('2024-03-04T14:30:00.000Z'); // EST
    expect(new Date(a.ts[5 * 390]).toISOString()).toBe('2024-03-11T13:30:00.000Z'); // EDT
    expect(Array.from(sessionIndex(a.ts, 'us-rth').sessionId).every((id) => id > 0)).toBe(true);
  });

  it('keeps OHLC consistent, prices on the tick, the next open at the last close within a day', () => {
    for (let t = 0; t < a.ts.length; t++) {
      expect(a.high[t]).toBeGreaterThanOrEqual(Math.max(a.open[t], a.close[t]));
      expect(a.low[t]).toBeLessThanOrEqual(Math.min(a.open[t], a.close[t]));
      expect(Math.abs(a.close[t] * 100 - Math.round(a.close[t] * 100))).toBeLessThan(1e-6);
      if (t % 390 !== 0 && t > 0) expect(a.open[t]).toBe(a.close[t - 1]);
    }
  });

  it('correlates the symbols through the common factor (loadings 0.8 x 0.8 = 0.64 before jumps and gaps)', () => {
    const c = corr(logReturns(a.close), logReturns(b.close));
    expect(c).toBeGreaterThan(0.45);
    expect(c).toBeLessThan(0.75);
  });

  it('clusters volatility: |r| is autocorrelated while r is not', () => {
    const r = logReturns(a.close);
    const abs = r.map(Math.abs);
    expect(corr(abs.subarray(1), abs.subarray(0, -1))).toBeGreaterThan(0.15);
    expect(Math.abs(corr(r.subarray(1), r.subarray(0, -1)))).toBeLessThan(0.1);
  });

  it('has U-shaped intraday volume: the first and last 30 minutes trade more than midday', () => {
    const byBar = new Float64Array(390);
    for (let t = 0; t < a.ts.length; t++) byBar[t % 390] += a.volume[t];
    const open = mean(byBar.subarray(0, 30));
    const mid = mean(byBar.subarray(180, 210));
    const close = mean(byBar.subarray(360, 390));
    expect(open / mid).toBeGreaterThan(2);
    expect(close / mid).toBeGreaterThan(2);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = simulateMarket({ seed: 42, session: 'us-rth', barMs: 60_000, start: '2024-03-04', end: '2024-03-16', symbols: [{ symbol: 'AAA', price: 150, annualVol: 0.25, factorLoading: 0.8 }, { symbol: 'BBB', price: 50, annualVol: 0.4, factorLoading: 0.8 }] });
    expect(Array.from(again.series[1].close)).toEqual(Array.from(b.close));
    const other = simulateMarket({ seed: 43, session: 'us-rth', barMs: 60_000, start: '2024-03-04', end: '2024-03-16', symbols: [{ symbol: 'AAA', price: 150, annualVol: 0.25 }] });
    expect(other.series[0].close[1000]).not.toBe(a.close[1000]);
  });
});

describe('syntheticSeries and regimes', () => {
  const s = syntheticSeries({ seed: 5, n: 50_000 });

  it('visits every regime with the regime volatility ordering calm < turbulent', () => {
    const r = logReturns(s.close);
    const sq = [0, 0, 0, 0];
    const cnt = [0, 0, 0, 0];
    for (let i = 0; i < r.length; i++) {
      sq[s.regime[i + 1]] += r[i] * r[i];
      cnt[s.regime[i + 1]]++;
    }
    expect(cnt.every((c) => c > 1000)).toBe(true);
    const vol = sq.map((x, k) => Math.sqrt(x / cnt[k]));
    expect(vol[3] / vol[0]).toBeGreaterThan(2); // 2.2 / 0.7 = 3.1 in the model
    expect(s.regime.length).toBe(50_000);
    expect(DEFAULT_REGIMES.map((x) => x.name)).toEqual(['calm', 'trend-up', 'trend-down', 'turbulent']);
  });

  it('has fat tails (kurtosis well above the normal 3)', () => {
    const r = logReturns(s.close);
    const m = mean(r);
    const v = mean(r.map((x) => (x - m) ** 2));
    expect(mean(r.map((x) => (x - m) ** 4)) / (v * v)).toBeGreaterThan(5);
  });

  it('exposes the conditional volatility used for each bar', () => {
    expect(s.sigma.length).toBe(50_000);
    expect(Math.min(...s.sigma)).toBeGreaterThan(0);
  });
});

describe('crypto, funding and frames', () => {
  const m = simulateMarket({ seed: 9, session: '24x7', barMs: 300_000, start: '2024-03-01', end: '2024-03-08', symbols: [{ symbol: 'PERP', price: 1, annualVol: 0.8, tick: 0.0001, volumeStep: 0.001 }], missingBarProbability: 0.01 });

  it('runs 24x7 and can drop bars at random to exercise gap handling', () => {
    const n = m.series[0].ts.length;
    expect(n).toBeLessThan(7 * 288);
    expect(n).toBeGreaterThan(7 * 288 * 0.97);
  });

  it('funding every 8 hours at 00/08/16 UTC, following the perp trend, capped', () => {
    const f = simulateFunding(m.series[0], { seed: 1 });
    expect(f.ts.length).toBe(20); // 08:00 on day 1 .. 16:00 on day 7
    expect(f.ts.every((t) => t % (8 * 3_600_000) === 0)).toBe(true);
    expect(Math.max(...f.rate.map(Math.abs))).toBeLessThanOrEqual(0.0075);
    const noNoise = simulateFunding(m.series[0], { seed: 1, noise: 0, trendSensitivity: 0 });
    expect(Array.from(noNoise.rate).every((r) => r === 0.0001)).toBe(true);
  });

  it('marketToBars gives a multi-symbol Bars frame with the regime label on request', () => {
    const bars = marketToBars(m, true);
    expect(bars.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'regime']);
    expect(barsToArraysBySymbol(bars).get('PERP')!.close).toEqual(m.series[0].close);
  });
});
