import { describe, expect, it } from 'vitest';
import { normalCdf, normalPdf, normalQuantile } from '../../src/stats/normal';

// Reference values: Python 3 `0.5 * math.erfc(-x / math.sqrt(2))` (libm erfc, double precision).
const REFERENCE: [number, number][] = [
  [-20, 2.7536241186063314e-89],
  [-8, 6.220960574271819e-16],
  [-3, 0.0013498980316300957],
  [-1.2815515655446004, 0.10000000000000003],
  [-1, 0.15865525393145707],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1.959963984540054, 0.975],
];

describe('normalCdf', () => {
  it('matches erfc to 1e-8 relative, including far tails', () => {
    for (const [x, p] of REFERENCE) expect(Math.abs(normalCdf(x) - p) / p).toBeLessThan(1e-8);
  });

  it('is symmetric and inverts normalQuantile', () => {
    for (const x of [-6, -2.5, -0.3, 0.7, 3.1]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 14);
    for (const u of [1e-6, 0.01, 0.1, 0.37, 0.5, 0.9, 0.999]) expect(normalCdf(normalQuantile(u)) / u).toBeCloseTo(1,
      7) // Acklam's quantile is good to ~1e-9 in z;
    expect(normalCdf(40)).toBe(1);
    expect(normalCdf(-40)).toBe(0);
  });

  it('density at 0 and 1', () => {
    expect(normalPdf(0)).toBeCloseTo(0.3989422804014327, 15);
    expect(normalPdf(1)).toBeCloseTo(0.24197072451914337, 15);
  });
});
