import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors';
import { normalPdf, normalQuantile } from '../../../src/stats/normal';
import { probAboveFromQuantiles, QuantileCurve, rearrangeQuantiles } from '../../../src/forecast/paths/quantileCurve';

const LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
// A log-normal forecast: log price ~ N(ln 100 + 0.001, 0.02^2).
const MU = Math.log(100) + 0.001;
const SIGMA = 0.02;
const LOGNORMAL = LEVELS.map((u) => Math.exp(MU + SIGMA * normalQuantile(u)));

describe('QuantileCurve', () => {
  it('passes through every knot, for both interpolations', () => {
    for (const interpolation of ['normalScore', 'level'] as const) {
      const c = new QuantileCurve(LEVELS, LOGNORMAL, { interpolation });
      LEVELS.forEach((u, k) => {
        expect(c.quantile(u)).toBeCloseTo(LOGNORMAL[k], 9);
        expect(c.quantileAtScore(normalQuantile(u))).toBeCloseTo(LOGNORMAL[k], 7);
        expect(c.cdf(LOGNORMAL[k])).toBeCloseTo(u, 9);
      });
    }
  });

  it('normalScore with normal tails reproduces a log-normal exactly, inside and beyond the knots', () => {
    const c = new QuantileCurve(LEVELS, LOGNORMAL, { tails: 'normal' });
    for (const u of [0.001, 0.03, 0.15, 0.42, 0.77, 0.95, 0.9999]) {
      expect(c.quantile(u)).toBeCloseTo(Math.exp(MU + SIGMA * normalQuantile(u)), 8);
    }
  });

  it('level interpolation with clamp tails is the backtest convention (hand-computed)', () => {
    const opts = { interpolation: 'level', tails: 'clamp' } as const;
    const c = new QuantileCurve([0.1, 0.5, 0.9], [98, 100.5, 103], opts);
    expect(c.cdf(100)).toBeCloseTo(0.1 + (0.4 * 2) / 2.5, 14); // 0.42
    expect(c.cdf(97)).toBe(0.1);
    expect(c.cdf(104)).toBe(0.9);
    expect(c.quantile(0.3)).toBeCloseTo(98 + 0.5 * 2.5, 14);
    expect(c.quantile(0.01)).toBe(98);
    expect(probAboveFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 100, opts)).toBeCloseTo(0.58, 14);
  });

  it('exponential tails: y0 + slope u0 ln(u / u0), density continuous at the knot', () => {
    const values = [98, 99, 100, 101, 102.5];
    const levels = [0.1, 0.3, 0.5, 0.7, 0.9];
    const c = new QuantileCurve(levels, values, { interpolation: 'level', tails: 'exponential' });
    const slopeLo = (99 - 98) / 0.2;
    const slopeHi = (102.5 - 101) / 0.2;
    expect(c.quantile(0.01)).toBeCloseTo(98 + slopeLo * 0.1 * Math.log(0.01 / 0.1), 12);
    expect(c.quantile(0.999)).toBeCloseTo(102.5 - slopeHi * 0.1 * Math.log(0.001 / 0.1), 12);
    // derivative just below the knot equals the outer segment's slope
    const eps = 1e-7;
    expect((c.quantile(0.1) - c.quantile(0.1 - eps)) / eps).toBeCloseTo(slopeLo, 4);
  });

  it('normal-score exponential tail: slope in u is the z-slope over phi(z0)', () => {
    const c = new QuantileCurve(LEVELS, LOGNORMAL, { tails: 'exponential' });
    const z0 = normalQuantile(0.1);
    const dydu = (SIGMA * 1) / normalPdf(z0); // log-price slope per unit u at the knot
    expect(Math.log(c.quantile(0.001))).toBeCloseTo(Math.log(LOGNORMAL[0]) + dydu * 0.1 * Math.log(0.01), 10);
    // heavier than normal: the 0.1% quantile sits lower than the log-normal's
    expect(c.quantile(0.001)).toBeLessThan(Math.exp(MU + SIGMA * normalQuantile(0.001)));
  });

  it('cdf inverts quantile for every tail rule', () => {
    for (const interpolation of ['normalScore', 'level'] as const) {
      for (const tails of ['exponential', 'normal'] as const) {
        const c = new QuantileCurve(LEVELS, LOGNORMAL, { interpolation, tails });
        for (const u of [0.0005, 0.02, 0.1, 0.25, 0.5, 0.83, 0.9, 0.97, 0.9995]) expect(c.cdf(c.quantile(u))).toBeCloseTo(u, 8);
        for (const z of [-5, -1.5, 0.2, 2.4, 6]) expect(c.quantileAtScore(z)).toBeCloseTo(c.quantile(normalQuantileSafe(z)), 6);
      }
    }
  });

  it('a point forecast (all knots equal): nothing strictly above it', () => {
    const c = new QuantileCurve([0.1, 0.5, 0.9], [100, 100, 100]);
    expect(c.cdf(100)).toBe(1);
    expect(c.cdf(99.99)).toBe(0);
    expect(c.quantile(0.001)).toBeCloseTo(100, 12);
    expect(probAboveFromQuantiles([0.1, 0.5, 0.9], [100, 100, 100], 100)).toBe(0);
  });

  it('refuses crossing quantiles, bad levels and non-positive prices; rearrangement sorts and says so', () => {
    expect(() => new QuantileCurve([0.1, 0.5, 0.9], [100, 99, 101])).toThrow(ModelError);
    expect(() => new QuantileCurve([0.5, 0.1], [99, 100])).toThrow(/strictly increasing/);
    expect(() => new QuantileCurve([0.1, 0.9], [0, 1])).toThrow(/positive price/);
    expect(() => new QuantileCurve([0.1, 0.9], [-1, 1], { interpolation: 'level' })).not.toThrow();
    const v = Float64Array.of(100, 99, 101);
    expect(rearrangeQuantiles(v)).toBe(true);
    expect(Array.from(v)).toEqual([99, 100, 101]);
    expect(rearrangeQuantiles(v)).toBe(false);
  });
});

/** u from z without the library (a tail-safe erfc-free route): bisection on normalQuantile. */
function normalQuantileSafe(z: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalQuantile(mid) < z) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
