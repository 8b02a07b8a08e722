import { describe, expect, it } from 'vitest';
import { alignSeries, medianBarMs } from '../../src/backtest/market';
import { Z90, checkSignals, muSigmaFromQuantiles, muSigmaFromSamples } from '../../src/backtest/signals';
import { DataError } from '../../src/core/errors';
import { constSignals, flat, market } from './fixtures';

describe('forecast to (mu, sigma)', () => {
  it('takes mu from the median and sigma from the quantile half-range, floored', () => {
    const out = { mu: new Float64Array(3), sigma: new Float64Array(3) };
    muSigmaFromQuantiles([101, 99, 100], [98, 98.9, 99.9], [106, 99.2, 100.1], [100, 100, 100], out);
    expect(Array.from(out.mu)).toEqual([101 / 100 - 1, 99 / 100 - 1, 0]);
    expect(out.sigma[0]).toBeCloseTo(0.04, 15);
    expect(out.sigma[1]).toBe(0.005); // half-range 0.0015 floored
    muSigmaFromQuantiles([100], [90], [110], [100], out, { spread: 'normal', sigmaFloor: 0.001 });
    expect(out.sigma[0]).toBeCloseTo(0.1 / Z90, 15);
  });

  it('takes mu and sigma (ddof 1) from sampled paths at the last step', () => {
    const r = muSigmaFromSamples(Float64Array.of(101, 103, 99, 97, 100, 106), 3, 2, 100);
    // Last-step returns 0.03, -0.03, 0.06: mean 0.02, sample std 0.0458258.
    expect(r.mu).toBeCloseTo(0.02, 15);
    expect(r.sigma).toBeCloseTo(Math.sqrt(((0.01 ** 2) + (0.05 ** 2) + (0.04 ** 2)) / 2), 12);
  });

  it('rejects bad forecasts and prices with the row', () => {
    const out = { mu: new Float64Array(2), sigma: new Float64Array(2) };
    expect(() => muSigmaFromQuantiles([1, 1], [1, 1], [1, 1], [1, 0], out)).toThrow(/price must be positive.*row 1/);
    expect(() => muSigmaFromQuantiles([NaN], [1], [2], [1], out)).toThrow(/NaN or crossed.*row 0/);
    expect(() => muSigmaFromQuantiles([1], [2], [1], [1], out)).toThrow(DataError);
    expect(() => muSigmaFromSamples([1, NaN], 2, 1, 1)).toThrow(/NaN in sampled paths.*row 1/);
  });

  it('checks that signals line up with the bars', () => {
    const m = market({ A: flat(4), B: flat(4) });
    const s = constSignals(m, 0.01);
    expect(() => checkSignals(m, s)).not.toThrow();
    expect(() => checkSignals(m, { ...s, sigma: new Float64Array(7) })).toThrow(/sigma has 7 values but the bars need 8/);
    expect(() => checkSignals(m, { ...s, horizonBars: 0 })).toThrow(/horizonBars/);
    expect(() => checkSignals(m, { ...s, regime: new Uint8Array(8).fill(9) })).toThrow(/unknown regime code/);
  });
});

describe('aligning symbols on one grid', () => {
  it('takes the union of times, leaves gaps NaN and counts them', () => {
    const m = alignSeries([
      { symbol: 'A', ts: [0, 60_000, 120_000], open: [1, 2, 3], high: [1, 2, 3], low: [1, 2, 3], close: [1, 2, 3] },
      { symbol: 'B', ts: [60_000, 180_000], open: [5, 6], high: [5, 6], low: [5, 6], close: [5, 6] },
    ]);
    expect(Array.from(m.ts)).toEqual([0, 60_000, 120_000, 180_000]);
    expect(Array.from(m.close)).toEqual([1, NaN, 2, 5, 3, NaN, NaN, 6]);
    expect(m.missingBars).toEqual([1, 2]);
    expect(Array.from(m.sessionEnd)).toEqual([0, 0, 0, 1]);
    expect(medianBarMs(m.ts)).toBe(60_000);
  });

  it('marks the last bar of each US regular session', () => {
    const t = (h: number, mi: number, d = 2) => Date.UTC(2024, 0, d, h, mi);
    const ts = [t(20, 58), t(20, 59), t(14, 30, 3), t(14, 31, 3)];
    const m = alignSeries([{ symbol: 'A', ts, open: [1, 1, 1, 1], high: [1, 1, 1, 1], low: [1, 1, 1, 1], close: [1, 1, 1, 1] }], 'us-rth');
    expect(Array.from(m.sessionEnd)).toEqual([0, 1, 0, 1]);
  });

  it('rejects non-positive prices, unordered times and duplicate symbols', () => {
    const ok = { symbol: 'A', ts: [0, 1], open: [1, 1], high: [1, 1], low: [1, 1], close: [1, 1], file: 'a.csv' };
    expect(() => alignSeries([{ ...ok, low: [1, 0] }])).toThrow(/price must be positive.*file a.csv, symbol A, row 1, column "low"/);
    expect(() => alignSeries([{ ...ok, ts: [1, 1] }])).toThrow(/strictly increasing/);
    expect(() => alignSeries([ok, ok])).toThrow(/duplicate symbol A/);
  });
});
