import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { ece, eceEqualMass, mce } from '../../src/calibration/ece';
import { reliabilityTable } from '../../src/calibration/reliability';

function synthetic(n: number, seed: number, distort: (p: number) => number): { p: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.uniform();
    y[i] = rng.bernoulli(distort(p[i])) ? 1 : 0;
  }
  return { p, y };
}

describe('ECE and MCE', () => {
  it('are count-weighted mean and max |observed - mean forecast|, by hand', () => {
    const t = reliabilityTable([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], { bins: 2 });
    expect(ece(t)).toBeCloseTo(0.5 * 0.35 + 0.5 * 0.15, 15);
    expect(mce(t)).toBeCloseTo(0.35, 15);
  });

  it('weigh bins by count and skip empty bins', () => {
    const t = reliabilityTable([0.05, 0.05, 0.05, 0.95], [0, 0, 1, 1], { bins: 4 });
    // Bin 1: 3 forecasts, observed 1/3 vs 0.05; bin 4: 1 forecast, observed 1 vs 0.95; bins 2, 3 empty.
    expect(Array.from(t.count)).toEqual([3, 0, 0, 1]);
    expect(ece(t)).toBeCloseTo((3 * (1 / 3 - 0.05) + 0.05) / 4, 15);
    expect(mce(t)).toBeCloseTo(1 / 3 - 0.05, 15);
  });

  it('is near 0 for perfectly calibrated synthetic forecasts and large for miscalibrated ones', () => {
    const good = synthetic(100_000, 3, (p) => p);
    const tGood = reliabilityTable(good.p, good.y);
    // Sampling noise only: about sqrt(p(1-p)/n_b) * sqrt(2/pi) per bin, ~0.003 here.
    expect(ece(tGood)).toBeLessThan(0.008);
    expect(eceEqualMass(good.p, good.y)).toBeLessThan(0.008);
    const bad = synthetic(100_000, 3, (p) => p * p);
    expect(ece(reliabilityTable(bad.p, bad.y))).toBeGreaterThan(0.15); // E|p - p^2| = 1/6
    expect(mce(reliabilityTable(bad.p, bad.y))).toBeGreaterThan(0.2);
  });

  it('equal-mass ECE uses quantile bins', () => {
    // Overconfident forecasts: the gap changes sign at 0.5 (with one sign, any binning gives |mean y - mean p|).
    const { p, y } = synthetic(2000, 5, (q) => (q < 0.5 ? 0.2 + 0.6 * q : 0.5 + 0.6 * (q - 0.5)));
    expect(eceEqualMass(p, y, 7)).toBeCloseTo(ece(reliabilityTable(p, y, { bins: 7, strategy: 'quantile' })), 15);
    expect(eceEqualMass(p, y, 7)).not.toBeCloseTo(ece(reliabilityTable(p, y, { bins: 7 })), 6);
  });
});
