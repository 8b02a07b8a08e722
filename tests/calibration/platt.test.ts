import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { fitPlatt, predictPlatt, type PlattModel } from '../../src/calibration/platt';
import { sklearn } from './reference';

/** Gradient of the smoothed-target cross-entropy (sum over points) at (a, b). */
function gradient(s: number[], y: number[], a: number, b: number): [number, number] {
  const nPos = y.reduce((u, v) => u + v, 0);
  const nNeg = y.length - nPos;
  let g1 = 0;
  let g2 = 0;
  s.forEach((v, i) => {
    const t = y[i] === 1 ? (nPos + 1) / (nPos + 2) : 1 / (nNeg + 2);
    const p = 1 / (1 + Math.exp(a * v + b));
    g1 += (t - p) * v;
    g2 += t - p;
  });
  return [g1, g2];
}

describe('fitPlatt', () => {
  it('matches scikit-learn _sigmoid_calibration (same loss, same targets) and sits at a stationary point', () => {
    expect(sklearn.platt.map((c) => c.name)).toEqual(['scores', 'scaledBy1000', 'probabilities']);
    for (const c of sklearn.platt) {
      const m = fitPlatt(c.scores, c.y);
      expect(m.converged, c.name).toBe(true);
      // scikit-learn's BFGS stops at a gradient norm of about 1e-5; Newton goes further.
      expect(Math.abs(m.a - c.a) / Math.abs(c.a), c.name).toBeLessThan(1e-5);
      expect(Math.abs(m.b - c.b), c.name).toBeLessThan(1e-5 * Math.max(1, Math.abs(c.b)));
      const [g1, g2] = gradient(c.scores, c.y, m.a, m.b);
      expect(Math.abs(g2), c.name).toBeLessThan(1e-6);
      expect(Math.abs(g1) / Math.max(...c.scores.map(Math.abs)), c.name).toBeLessThan(1e-6);
    }
  });

  it('uses Platt targets: a constant score gives A = 0 and B = -logit of the mean target', () => {
    const y = [1, 1, 1, 0];
    const m = fitPlatt([0.3, 0.3, 0.3, 0.3], y);
    const tPos = 4 / 5;
    const tNeg = 1 / 3;
    const meanT = (3 * tPos + tNeg) / 4;
    expect(m.a).toBe(0);
    expect(m.b).toBeCloseTo(-Math.log(meanT / (1 - meanT)), 10);
  });

  it('stays finite on separable data (the smoothed targets), and on scores of 1e6 or 1e-6 spread', () => {
    const s = [-3, -2, -1, 1, 2, 3];
    const y = [0, 0, 0, 1, 1, 1];
    const m = fitPlatt(s, y);
    expect(m.converged).toBe(true);
    expect(Number.isFinite(m.a) && m.a < 0).toBe(true);
    // The fit is equivariant in the score scale: A scales by 1/c, B is unchanged.
    for (const c of [1e6, 1e-6]) {
      const mc = fitPlatt(s.map((v) => v * c), y);
      expect(mc.converged).toBe(true);
      expect(mc.a * c).toBeCloseTo(m.a, 8);
      expect(mc.b).toBeCloseTo(m.b, 8);
    }
    // And invariant to a shift up to B.
    const shifted = fitPlatt(s.map((v) => v + 1e4), y);
    expect(shifted.a).toBeCloseTo(m.a, 6);
    expect(shifted.b + shifted.a * 1e4).toBeCloseTo(m.b, 6);
  });

  it('recovers the generating logistic map on a large sample', () => {
    const rng = new Rng(3);
    const n = 20_000;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = rng.normal() * 2;
      y[i] = rng.bernoulli(1 / (1 + Math.exp(0.8 * s[i] - 0.3))) ? 1 : 0;
    }
    const m = fitPlatt(s, y);
    expect(m.a).toBeCloseTo(0.8, 1);
    expect(m.b).toBeCloseTo(-0.3, 1);
    expect(m.iterations).toBeLessThan(15);
  });

  it('rejects bad input', () => {
    expect(() => fitPlatt([1, NaN], [0, 1])).toThrow(/scores is NaN \(row 1/);
    expect(() => fitPlatt([1, 2], [0, 3])).toThrow(/outcome must be 0 or 1/);
    expect(() => fitPlatt([1, 2], [0])).toThrow(/lengths differ/);
    expect(() => fitPlatt([], [])).toThrow(DataError);
  });
});

describe('predictPlatt', () => {
  const model: PlattModel = { kind: 'platt', a: -1, b: 0, iterations: 0, converged: true, loss: 0 };

  it('is the logistic map without overflow for huge scores', () => {
    expect(Array.from(predictPlatt(model, [0, 1000, -1000]))).toEqual([0.5, 1, 0]);
    expect(predictPlatt(model, [2])[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(() => predictPlatt(model, [NaN])).toThrow(DataError);
  });
});
