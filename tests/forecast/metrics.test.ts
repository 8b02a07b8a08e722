import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { crpsSamples, maseScale, percentile, quantileLoss } from '../../src/forecast/metrics';

function crpsPairwise(xs: number[], y: number, fair: boolean): number {
  const m = xs.length;
  let a = 0;
  let pair = 0;
  for (const x of xs) a += Math.abs(x - y);
  for (const x of xs) for (const z of xs) pair += Math.abs(x - z);
  return a / m - pair / (fair ? 2 * m * (m - 1) : 2 * m * m);
}

describe('forecast metrics', () => {
  it('quantile loss follows 2|(y - q)(1{q >= y} - tau)|', () => {
    expect(quantileLoss(10, 12, 0.9)).toBeCloseTo(0.4, 12);
    expect(quantileLoss(10, 8, 0.9)).toBeCloseTo(3.6, 12);
    expect(quantileLoss(10, 10, 0.5)).toBe(0);
  });

  it('CRPS in the sorted O(M log M) form equals the O(M^2) definition', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 37 }, () => rng.normal() * 2 + 1);
    for (const fair of [false, true]) {
      expect(crpsSamples(Float64Array.from(xs), 0.7, fair)).toBeCloseTo(crpsPairwise(xs, 0.7, fair), 10);
    }
    expect(crpsSamples(new Float64Array([1, 3]), 2)).toBeCloseTo(0.5, 12);
    // a point forecast: CRPS = absolute error
    expect(crpsSamples(new Float64Array([5, 5, 5]), 2)).toBeCloseTo(3, 12);
  });

  it('CRPS of many normal samples approaches the closed form sigma (z(2Phi(z)-1) + 2phi(z) - 1/sqrt(pi))', () => {
    const rng = new Rng(9);
    const xs = rng.fillNormal(new Float64Array(20_000));
    // y = 0 for N(0,1): 2 phi(0) - 1/sqrt(pi) = 0.2336949
    expect(crpsSamples(xs, 0)).toBeCloseTo(0.2337, 2);
  });

  it('MASE scale and percentiles', () => {
    expect(maseScale(new Float64Array([1, 2, 4, NaN, 5]))).toBeCloseTo(1.5, 12);
    expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 12);
    expect(percentile([1, 2, 3, 4, 5], 95)).toBeCloseTo(4.8, 12);
  });
});
