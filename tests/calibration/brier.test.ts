import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { brierDecomposition, brierScore } from '../../src/calibration/brier';
import { close, sklearn } from './reference';

function sample(n: number, seed: number): { p: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.uniform();
    y[i] = rng.bernoulli(p[i] ** 1.5) ? 1 : 0;
  }
  return { p, y };
}

describe('brierScore', () => {
  it('is the mean squared error of the probabilities, by hand', () => {
    expect(brierScore([0.9, 0.2], [1, 0])).toBeCloseTo(0.025, 15);
    expect(brierScore([0.5, 0.5, 0.5], [1, 0, 1])).toBe(0.25);
    expect(brierScore([1, 0], [1, 0])).toBe(0);
  });

  it('matches scikit-learn brier_score_loss', () => {
    const s = sklearn.scores;
    expect(close(brierScore(s.p, s.y), s.brier, 1e-14)).toBe(true);
  });
});

describe('brierDecomposition', () => {
  it('gives the hand-computed terms of a small example', () => {
    // Bins [0, 0.5] and (0.5, 1]: {0.1 -> 0, 0.3 -> 1} and {0.6 -> 0, 0.8 -> 1}.
    const d = brierDecomposition([0.1, 0.3, 0.6, 0.8], [0, 1, 0, 1], { bins: 2 });
    expect(d.brier).toBeCloseTo(0.225, 15);
    // pbar = 0.2, 0.7; obar = 0.5, 0.5; base rate 0.5.
    expect(d.reliability).toBeCloseTo((2 * 0.3 ** 2 + 2 * 0.2 ** 2) / 4, 15);
    expect(d.resolution).toBe(0);
    expect(d.uncertainty).toBe(0.25);
    expect(d.withinBinVariance).toBeCloseTo((4 * 0.1 ** 2) / 4, 15);
    // (y - obar)(p - pbar): (-0.5)(-0.1) + (0.5)(0.1) twice = 0.2; times 2/N.
    expect(d.withinBinCovariance).toBeCloseTo((2 * 0.2) / 4, 15);
  });

  it('reduces to Murphy (no within-bin terms) when forecasts in a bin are equal', () => {
    const p = [0.2, 0.2, 0.2, 0.2, 0.7, 0.7, 0.7];
    const y = [0, 0, 1, 0, 1, 1, 0];
    const d = brierDecomposition(p, y, { bins: 5 });
    // Zero up to the rounding of the bin mean 0.7 = 2.1 / 3.
    expect(d.withinBinVariance).toBeLessThan(1e-30);
    expect(Math.abs(d.withinBinCovariance)).toBeLessThan(1e-15);
    expect(d.reliability - d.resolution + d.uncertainty).toBeCloseTo(d.brier, 15);
  });

  it('sums exactly for continuous forecasts, any bins or strategy (Stephenson et al. 2008)', () => {
    const { p, y } = sample(5000, 11);
    for (const strategy of ['uniform', 'quantile'] as const) {
      for (const bins of [1, 3, 10, 37]) {
        const d = brierDecomposition(p, y, { bins, strategy });
        const sum = d.reliability - d.resolution + d.uncertainty + d.withinBinVariance - d.withinBinCovariance;
        expect(Math.abs(sum - d.brier), `${strategy} ${bins}`).toBeLessThan(1e-14);
        expect(d.brier).toBeCloseTo(brierScore(p, y), 15);
        // Murphy's three terms alone are off by WBV - WBC, which is not negligible here.
        expect(Math.abs(d.reliability - d.resolution + d.uncertainty - d.brier)).toBeGreaterThan(1e-6);
      }
    }
  });

  it('one bin: no resolution, reliability is the squared bias', () => {
    const d = brierDecomposition([0.2, 0.4, 0.9], [0, 1, 1], { bins: 1 });
    expect(d.resolution).toBe(0);
    expect(d.reliability).toBeCloseTo((0.5 - 2 / 3) ** 2, 15);
  });
});
