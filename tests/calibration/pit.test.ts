import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { pitFromQuantiles, pitFromSamples, pitHistogram } from '../../src/calibration/pit';

/** n forecasts of M normal samples with sd `forecastSd`, realised values with sd 1. */
function normalForecasts(n: number, m: number, forecastSd: number, seed: number): { samples: Float64Array; realized: Float64Array } {
  const rng = new Rng(seed);
  const samples = new Float64Array(n * m);
  const realized = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mu = rng.normal();
    for (let j = 0; j < m; j++) samples[i * m + j] = mu + forecastSd * rng.normal();
    realized[i] = mu + rng.normal();
  }
  return { samples, realized };
}

describe('pitFromSamples', () => {
  it('is the share of samples at or below the realised value', () => {
    expect(Array.from(pitFromSamples([1, 2, 3, 4, 10, 20, 30, 40], 4, [2.5, 5]))).toEqual([0.5, 0]);
    expect(Array.from(pitFromSamples([1, 2, 2, 4], 4, [2]))).toEqual([0.75]); // ties count as at-or-below
    expect(Array.from(pitFromSamples(Float32Array.of(1, 2), 2, [9]))).toEqual([1]);
  });

  it('is uniform for calibrated forecasts and U-shaped for too narrow ones', () => {
    const ok = normalForecasts(4000, 100, 1, 1);
    const hOk = pitHistogram(pitFromSamples(ok.samples, 100, ok.realized, { kind: 'randomized', seed: 1 }), 10);
    // Each bin holds ~400 of 4000: density 1 +- 0.15 (about 3 standard deviations).
    for (const d of hOk.density) expect(Math.abs(d - 1)).toBeLessThan(0.15);
    const narrow = normalForecasts(4000, 100, 0.5, 1);
    const hNarrow = pitHistogram(pitFromSamples(narrow.samples, 100, narrow.realized), 10);
    expect(hNarrow.density[0]).toBeGreaterThan(2);
    expect(hNarrow.density[9]).toBeGreaterThan(2);
    expect(hNarrow.density[5]).toBeLessThan(0.7);
  });

  it('randomized PIT spreads ties uniformly and is reproducible', () => {
    // Every sample equals the realised value (flat bars): fraction PIT is always 1, randomized is uniform.
    const n = 3000;
    const samples = new Float64Array(n * 5).fill(100);
    const realized = new Float64Array(n).fill(100);
    expect(pitFromSamples(samples, 5, realized).every((u) => u === 1)).toBe(true);
    const u = pitFromSamples(samples, 5, realized, { kind: 'randomized', seed: 4 });
    const h = pitHistogram(u, 4);
    for (const d of h.density) expect(Math.abs(d - 1)).toBeLessThan(0.15);
    expect(Array.from(pitFromSamples(samples, 5, realized, { kind: 'randomized', seed: 4 }))).toEqual(Array.from(u));
  });

  it('rejects a wrong length or non-finite samples, naming the forecast row', () => {
    expect(() => pitFromSamples([1, 2, 3], 2, [1, 2])).toThrow(/expected 2 forecasts x 2 samples = 4/);
    expect(() => pitFromSamples([1, 2, 3, NaN], 2, [1, 2])).toThrow(/sample 1 of the forecast is not finite \(row 1, column "samples"/);
    expect(() => pitFromSamples([1, 2], 2, [NaN])).toThrow(/realized is NaN/);
    expect(() => pitFromSamples([1, 2], 2, [1], { kind: 'mid' } as never)).toThrow(ConfigError);
  });
});

describe('pitFromQuantiles', () => {
  const levels = [0.1, 0.5, 0.9];

  it('interpolates the CDF between quantiles and puts tails at their middle', () => {
    const q = [0, 1, 2];
    const u = pitFromQuantiles(levels, [...q, ...q, ...q, ...q, ...q], [1.5, 0.5, -7, 9, 1]);
    expect(u[0]).toBeCloseTo(0.7, 15);
    expect(u[1]).toBeCloseTo(0.3, 15);
    expect(u[2]).toBe(0.05);
    expect(u[3]).toBeCloseTo(0.95, 15);
    expect(u[4]).toBe(0.5);
  });

  it('takes the middle of the jump at tied quantiles', () => {
    // Quantiles 0.1 and 0.5 both at 1: the CDF jumps from 0.1 to 0.5 there.
    expect(pitFromQuantiles(levels, [1, 1, 2], [1])[0]).toBeCloseTo(0.3, 15);
  });

  it('is uniform on bins aligned with the levels when the quantiles are right', () => {
    const rng = new Rng(8);
    const lv = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    // Standard normal quantiles at 0.1..0.9.
    const z = [-1.2815516, -0.8416212, -0.5244005, -0.2533471, 0, 0.2533471, 0.5244005, 0.8416212, 1.2815516];
    const n = 5000;
    const values = new Float64Array(n * 9);
    const realized = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const mu = rng.normal() * 3;
      z.forEach((v, k) => (values[i * 9 + k] = mu + v));
      realized[i] = mu + rng.normal();
    }
    const h = pitHistogram(pitFromQuantiles(lv, values, realized), 10);
    // Sampling sd of a bin's density: sqrt(500 * 0.9) / 500 = 0.042; allow 4 sd.
    for (const d of h.density) expect(Math.abs(d - 1)).toBeLessThan(0.17);
  });

  it('rejects crossing quantiles, bad levels and wrong lengths', () => {
    expect(() => pitFromQuantiles(levels, [0, 1, 2, 0, 3, 2], [1, 1])).toThrow(/quantiles cross: level 2 is below level 1 \(row 1/);
    expect(() => pitFromQuantiles([0.5, 0.1], [0, 1], [1])).toThrow(/strictly increasing/);
    expect(() => pitFromQuantiles([0, 0.5], [0, 1], [1])).toThrow(/in \(0, 1\)/);
    expect(() => pitFromQuantiles(levels, [0, 1], [1])).toThrow(DataError);
  });
});

describe('pitHistogram', () => {
  it('counts right-closed bins and gives density', () => {
    const h = pitHistogram([0, 0.05, 0.5, 0.55, 0.95, 1], 2);
    expect(Array.from(h.counts)).toEqual([3, 3]);
    expect(Array.from(h.density)).toEqual([1, 1]);
    expect(Array.from(h.edges)).toEqual([0, 0.5, 1]);
  });

  it('rejects values outside [0, 1]', () => {
    expect(() => pitHistogram([0.5, 1.5])).toThrow(/PIT value must be in \[0, 1\] \(row 1/);
    expect(() => pitHistogram([])).toThrow(DataError);
  });
});
