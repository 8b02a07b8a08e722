import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ModelError } from '../../../src/core/errors';
import { pathsToCalibration } from '../../../src/forecast/paths/calibration';
import { pricePathsOf, validatePricePaths, type PricePaths } from '../../../src/forecast/paths/pricePaths';
import { barrierStats, FLAT_TOLERANCE, pathStatistics, probAboveAtStep, sideOf, stepPercentiles } from '../../../src/forecast/paths/stats';
import type { Forecast } from '../../../src/forecast/types';

// Three paths of three steps from an entry close of 100 (values chosen for hand computation).
const close = Float64Array.of(101, 102, 103, 99, 98, 100, 100.5, 99.5, 97);
const high = Float64Array.of(101.5, 102.5, 104, 100.2, 99, 100.5, 101, 100.5, 99);
const low = Float64Array.of(100.5, 101, 102, 98.5, 97, 99, 99.8, 99, 96);
const closesOnly: PricePaths = { close, n: 3, horizon: 3 };
const withRanges: PricePaths = { close, high, low, n: 3, horizon: 3 };

describe('pathStatistics', () => {
  it('P(up), P(down), P(flat), expected return and their Monte-Carlo errors', () => {
    const s = pathStatistics(closesOnly, 100);
    expect([s.pUp, s.pDown, s.pFlat]).toEqual([1 / 3, 1 / 3, 1 / 3]); // ends 103, 100, 97
    expect(s.pUpStdError).toBeCloseTo(Math.sqrt((1 / 3) * (2 / 3) / 3), 15);
    expect(s.expReturn).toBeCloseTo(0, 15); // 0.03, 0, -0.03
    expect(s.expReturnStdError).toBeCloseTo(0.03 / Math.sqrt(3), 15);
    expect(Array.from(s.meanPath)).toEqual([100.16666666666667, 99.83333333333333, 100].map((x) => expect.closeTo(x, 12)));
    expect(s.extremesFrom).toBe('close');
  });

  it('agrees with the calibration area on pUp (same strict rule)', () => {
    const ref = pathsToCalibration({ paths: close, shape: [1, 3, 3], lastPrice: [100], realized: [100] });
    expect(pathStatistics(closesOnly, 100).pUp).toBe(ref.pUp[0]);
    expect(probAboveAtStep(close, 3, 3, 100)).toBe(ref.pUp[0]);
    expect(probAboveAtStep(close, 3, 3, 100, 0)).toBe(2 / 3); // step 1: 101, 99, 100.5
  });

  it('per-step percentiles are type 7', () => {
    const [p10, p50] = stepPercentiles(close, 3, 3, [0.1, 0.5]);
    expect(Array.from(p50)).toEqual([100.5, 99.5, 100]);
    expect(p10[0]).toBeCloseTo(99 + 0.2 * 1.5, 12); // sorted 99, 100.5, 101; h = 0.2
    const s = pathStatistics(closesOnly, 100, { percentiles: [0.1, 0.5] });
    expect(s.bands.levels).toEqual([0.1, 0.5]);
    expect(Array.from(s.bands.values[1])).toEqual([100.5, 99.5, 100]);
  });

  it('drawdown and favourable excursion from closes, and from sampled highs and lows', () => {
    const c = pathStatistics(closesOnly, 100, { excursionLevels: [0, 0.5, 1] });
    expect(c.drawdown.values.map((v) => +v.toFixed(12))).toEqual([0, 0.02, 0.03]); // mins 101, 98, 97
    expect(c.drawdown.mean).toBeCloseTo(0.05 / 3, 12);
    expect(c.favourableExcursion.values.map((v) => +v.toFixed(12))).toEqual([0, 0.005, 0.03]); // maxes 103, 100, 100.5
    const r = pathStatistics(withRanges, 100, { excursionLevels: [0, 0.5, 0.9] });
    expect(r.extremesFrom).toBe('highLow');
    expect(r.drawdown.values.map((v) => +v.toFixed(12))).toEqual([0, 0.03, 0.038]); // mins 100.5, 97, 96; 0.9 -> 0.03 + 0.8 * 0.01
    expect(r.favourableExcursion.values.map((v) => +v.toFixed(12))).toEqual([0.005, 0.01, 0.034]); // 104, 100.5, 101
  });

  it('barriers: side, touch probability, end beyond, median first touch; highs/lows catch touches inside bars', () => {
    const above = { name: 'r', price: 101 };
    const below = { name: 's', price: 98.5 };
    expect(barrierStats(closesOnly, 100, above)).toMatchObject({ side: 'above', pHit: 1 / 3, pEndBeyond: 1 / 3, medianFirstHitStep: 1 });
    expect(barrierStats(withRanges, 100, above)).toMatchObject({ pHit: 2 / 3, medianFirstHitStep: 1 });
    expect(barrierStats(closesOnly, 100, below)).toMatchObject({ side: 'below', pHit: 2 / 3, pEndBeyond: 1 / 3, medianFirstHitStep: 2.5 });
    expect(barrierStats(withRanges, 100, below)).toMatchObject({ pHit: 2 / 3, medianFirstHitStep: 2 });
    expect(barrierStats(closesOnly, 100, { name: 'at', price: 100 })).toMatchObject({ side: 'at', pHit: 1, medianFirstHitStep: 0 });
    expect(barrierStats(closesOnly, 100, { name: 'far', price: 120 })).toMatchObject({ pHit: 0, medianFirstHitStep: null, pHitStdError: 0 });
    const b = barrierStats(closesOnly, 100, above);
    expect(b.distance).toBeCloseTo(0.01, 15);
    expect(b.pHitStdError).toBeCloseTo(Math.sqrt((1 / 3) * (2 / 3) / 3), 15);
    expect(pathStatistics(withRanges, 100, { barriers: [above, below] }).barriers.map((x) => x.name)).toEqual(['r', 's']);
  });

  it('rejects bad levels, entry closes and barrier prices', () => {
    expect(() => pathStatistics(closesOnly, 100, { percentiles: [0] })).toThrow(ConfigError);
    expect(() => pathStatistics(closesOnly, 100, { excursionLevels: [1.5] })).toThrow(ConfigError);
    expect(() => pathStatistics(closesOnly, NaN)).toThrow(DataError);
    expect(() => barrierStats(closesOnly, 100, { name: 'vwap', price: NaN })).toThrow(/vwap/);
  });
});

describe('price paths', () => {
  it('pricePathsOf views a window of a [B, N, H] forecast without copying', () => {
    const data = Float64Array.from({ length: 2 * 3 * 3 }, (_, i) => 100 + i);
    const hl = { high: { data: data.map((x) => x + 1), dims: [2, 3, 3] as [number, number, number] },
      low: { data: data.map((x) => x - 1), dims: [2, 3, 3] as [number, number, number] } };
    const f = { samples: { data, dims: [2, 3, 3] }, samplesHighLow: hl, meta: { model: 'x' } } as unknown as Forecast;
    const p = pricePathsOf(f, 1);
    expect(p.close.buffer).toBe(data.buffer);
    expect(p.close.byteOffset).toBe(9 * 8);
    expect([p.n, p.horizon, p.close[0], p.high![0], p.low![0]]).toEqual([3, 3, 109, 110, 108]);
    expect(() => pricePathsOf(f, 2)).toThrow(ModelError);
    expect(() => pricePathsOf({ meta: { model: 'q' } } as unknown as Forecast)).toThrow(/no sampled paths/);
  });

  it('validation names the path and step of NaN, non-positive and out-of-range prices, and bad shapes', () => {
    expect(() => validatePricePaths(withRanges)).not.toThrow();
    expect(() => validatePricePaths({ close: Float64Array.of(1, NaN), n: 1, horizon: 2 })).toThrow(/path 0, step 2: close NaN/);
    expect(() => validatePricePaths({ close: Float64Array.of(1, 2, 3, 0), n: 2, horizon: 2 })).toThrow(/path 1, step 2/);
    expect(() => validatePricePaths({ ...withRanges, low: Float64Array.from(low, (x, i) => (i === 4 ? 98.5 : x)) })).toThrow(/path 1, step 2: close 98 is outside its bar's range/);
    expect(() => validatePricePaths({ close, n: 2, horizon: 3 })).toThrow(/shape \(2, 3\) needs 6/);
    expect(() => validatePricePaths({ close, high, n: 3, horizon: 3 })).toThrow(/together/);
  });
});

describe('up / down / flat without float noise', () => {
  it('a path ending within 1e-9 of the entry close is flat, not up or down', () => {
    const entry = 11.27;
    // Float noise of a price rebuilt from log returns (about 4e-15 relative), and a real one-tick move.
    const noisy: PricePaths = { close: Float64Array.of(entry * (1 + 4e-15), entry * (1 - 4e-15), entry, 11.28), n: 4, horizon: 1 };
    const s = pathStatistics(noisy, entry);
    expect([s.pUp, s.pDown, s.pFlat]).toEqual([0.25, 0, 0.75]);
    expect(probAboveAtStep(noisy.close, 4, 1, entry)).toBe(0.25);
    expect(sideOf(entry * (1 + 2 * FLAT_TOLERANCE), entry)).toBe(1);
    expect(sideOf(entry * (1 - 2 * FLAT_TOLERANCE), entry)).toBe(-1);
    expect(sideOf(entry * (1 + FLAT_TOLERANCE / 2), entry)).toBe(0);
  });

  it('calibration outcomes use the same rule as pUp', () => {
    const r = pathsToCalibration({ paths: Float64Array.of(100, 100.5), shape: [1, 2, 1], lastPrice: [100], realized: [100 * (1 + 1e-15)] });
    expect(r.outcome[0]).toBe(0);
    expect(r.pUp[0]).toBe(0.5);
  });
});
