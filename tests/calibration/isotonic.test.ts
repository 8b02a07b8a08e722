import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { fitIsotonic, predictIsotonic } from '../../src/calibration/isotonic';
import { close, sklearn } from './reference';

/**
 * Independent characterisation of the weighted isotonic fit (Barlow et al. 1972):
 * f(x_i) = max over j <= i of min over k >= i of the weighted mean of y over the
 * distinct x values j..k. O(m^3); only for small inputs.
 */
function minMaxFit(x: number[], y: number[], w: number[]): Map<number, number> {
  const xs = [...new Set(x)].sort((a, b) => a - b);
  const sw = xs.map(() => 0);
  const swy = xs.map(() => 0);
  x.forEach((v, i) => {
    const k = xs.indexOf(v);
    sw[k] += w[i];
    swy[k] += w[i] * y[i];
  });
  const fit = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) {
    let best = -Infinity;
    for (let j = 0; j <= i; j++) {
      let inner = Infinity;
      for (let k = i; k < xs.length; k++) {
        let a = 0;
        let b = 0;
        for (let t = j; t <= k; t++) {
          a += swy[t];
          b += sw[t];
        }
        inner = Math.min(inner, a / b);
      }
      best = Math.max(best, inner);
    }
    fit.set(xs[i], best);
  }
  return fit;
}

function weightedSse(x: number[], y: number[], w: number[], f: (v: number) => number): number {
  return x.reduce((s, v, i) => s + w[i] * (y[i] - f(v)) ** 2, 0);
}

describe('fitIsotonic', () => {
  it('pools adjacent violators, by hand', () => {
    const m = fitIsotonic([1, 2, 3, 4], [1, 3, 2, 4]);
    expect(Array.from(m.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(m.y)).toEqual([1, 2.5, 2.5, 4]);
    const d = fitIsotonic([1, 2, 3], [3, 2, 1]);
    expect(Array.from(d.y)).toEqual([2, 2]); // one block: knots at both ends only
    expect(Array.from(d.x)).toEqual([1, 3]);
  });

  it('pools tied x into their weighted mean and summed weight', () => {
    // x = 1 twice: weighted mean (1 * 0 + 3 * 1) / 4 = 0.75 with weight 4, then x = 2: 0.
    const m = fitIsotonic([1, 2, 1], [0, 0, 1], { weights: [1, 4, 3] });
    // 0.75 (w 4) > 0 (w 4): pooled to 0.375.
    expect(Array.from(m.y)).toEqual([0.375, 0.375]);
    expect(m.nUnique).toBe(2);
    expect(m.nPoints).toBe(3);
  });

  it('matches scikit-learn IsotonicRegression: thresholds and predictions (ties, weights, decreasing, bounds)', () => {
    expect(sklearn.isotonic.map((c) => c.name)).toEqual(['plain', 'weighted', 'decreasing', 'bounded', 'binaryOutcomes']);
    for (const c of sklearn.isotonic) {
      const m = fitIsotonic(c.x, c.y, {
        ...(c.weights ? { weights: c.weights } : {}),
        increasing: c.increasing,
        ...(c.yMin !== null ? { yMin: c.yMin } : {}),
        ...(c.yMax !== null ? { yMax: c.yMax } : {}),
      });
      expect(Array.from(m.x), c.name).toEqual(c.thresholdsX);
      expect(Array.from(m.y).every((v, i) => close(v, c.thresholdsY[i], 1e-12)), c.name).toBe(true);
      const pred = predictIsotonic(m, c.grid);
      expect(Array.from(pred).every((v, i) => close(v, c.predicted[i], 1e-12)), c.name).toBe(true);
    }
  });

  it('equals the min-max formula and beats monotone perturbations on random small inputs', () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 40; trial++) {
      const n = 2 + rng.int(12);
      const x = Array.from({ length: n }, () => rng.int(6)); // many ties
      const y = Array.from({ length: n }, () => rng.normal());
      const w = Array.from({ length: n }, () => 0.1 + rng.uniform() * 2);
      const m = fitIsotonic(x, y, { weights: w });
      const expected = minMaxFit(x, y, w);
      const fitted = predictIsotonic(m, [...expected.keys()]);
      [...expected.values()].forEach((v, k) => expect(fitted[k]).toBeCloseTo(v, 12));
      // Monotone (non-decreasing) knot values.
      for (let i = 1; i < m.y.length; i++) expect(m.y[i]).toBeGreaterThanOrEqual(m.y[i - 1]);
      // No other monotone fit has lower weighted squared error: try shifted and blended ones.
      const xs = [...expected.keys()];
      const base = weightedSse(x, y, w, (v) => expected.get(v)!);
      for (let k = 0; k < 5; k++) {
        const noise = xs.map(() => rng.normal() * 0.3).sort((a, b) => a - b); // sorted: still monotone when added
        const alt = new Map(xs.map((v, i) => [v, expected.get(v)! + noise[i]]));
        expect(weightedSse(x, y, w, (v) => alt.get(v)!)).toBeGreaterThanOrEqual(base - 1e-12);
      }
    }
  });

  it('gives the same fit on the native-sort path (unweighted 0/1 outcomes) and the radix path (weights)', () => {
    const rng = new Rng(21);
    const n = 3000;
    const x = Array.from({ length: n }, () => (rng.uniform() < 0.2 ? Math.round(rng.uniform() * 20) / 20 : rng.normal()));
    x[3] = -0;
    x[4] = 0;
    const y = x.map((v) => (rng.bernoulli(1 / (1 + Math.exp(-2 * v))) ? 1 : 0));
    for (const opts of [{}, { increasing: false }, { yMin: 0.1, yMax: 0.9 }]) {
      const native = fitIsotonic(x, y, opts);
      const radix = fitIsotonic(x, y, { ...opts, weights: new Float64Array(n).fill(1) });
      expect(Array.from(native.x, (v) => v + 0)).toEqual(Array.from(radix.x, (v) => v + 0));
      expect(Array.from(native.y).every((v, i) => Math.abs(v - radix.y[i]) < 1e-12)).toBe(true);
      expect(native.nUnique).toBe(radix.nUnique);
    }
  });

  it('keeps every block of an already monotone fit (the block stack grows past its first size)', () => {
    const n = 10_000;
    const x = Float64Array.from({ length: n }, (_, i) => (i * 7919) % n); // a permutation of 0..n-1
    const m = fitIsotonic(x, Float64Array.from(x, (v) => v * v));
    expect(m.x.length).toBe(n);
    expect(m.x.every((v, i) => v === i)).toBe(true);
    expect(m.y.every((v, i) => v === i * i)).toBe(true);
    const binary = fitIsotonic(x, Float64Array.from(x, (v) => (v % 2 === 1 ? 1 : 0))); // 0,1,0,1,...
    // each 0 after a 1 pools with it: blocks of 1/2 from x = 1 on, 0 at x = 0
    expect(Array.from(binary.y.subarray(0, 3))).toEqual([0, 0.5, 0.5]);
    expect(binary.x[binary.x.length - 1]).toBe(n - 1);
  });

  it('fits a non-increasing function when asked', () => {
    const m = fitIsotonic([1, 2, 3, 4], [4, 2, 3, 1], { increasing: false });
    expect(Array.from(m.y)).toEqual([4, 2.5, 2.5, 1]);
    expect(m.increasing).toBe(false);
  });

  it('clips to bounds', () => {
    const m = fitIsotonic([1, 2, 3], [-1, 0.5, 2], { yMin: 0, yMax: 1 });
    expect(Array.from(m.y)).toEqual([0, 0.5, 1]);
  });

  it('leaves zero-weight points out of the fit and its x range', () => {
    const m = fitIsotonic([0, 1, 2, 3], [5, 0, 1, 9], { weights: [0, 1, 1, 0] });
    expect(Array.from(m.x)).toEqual([1, 2]);
    expect(m.nPoints).toBe(2);
  });

  it('handles negative x, -0 and +0 as one tie, and huge magnitudes', () => {
    const m = fitIsotonic([-1e300, -0, 0, 1e300, -5], [0, 1, 3, 4, 0.5]);
    // The tie keeps its first value, -0; adding 0 normalises it for the comparison.
    expect(Array.from(m.x, (v) => v + 0)).toEqual([-1e300, -5, 0, 1e300]);
    expect(Array.from(m.y)).toEqual([0, 0.5, 2, 4]);
  });

  it('fits typed and plain inputs alike, 0/1 outcomes and others', () => {
    const x = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5000) / 5000);
    for (const y of [x.map((v, i) => (((i * 31) % 97) / 97 < v ? 1 : 0)), x.map((v, i) => v + ((i * 13) % 7) / 7)]) {
      const plain = fitIsotonic(x, y, { yMin: 0, yMax: 1 });
      const typed = fitIsotonic(Float64Array.from(x), Float64Array.from(y), { yMin: 0, yMax: 1 });
      expect(Array.from(typed.x)).toEqual(Array.from(plain.x));
      expect(Array.from(typed.y)).toEqual(Array.from(plain.y));
      expect(typed.nUnique).toBe(plain.nUnique);
    }
  });

  it('rejects bad input with the row', () => {
    expect(() => fitIsotonic([1, NaN], [0, 1])).toThrow(/x is NaN \(row 1/);
    expect(() => fitIsotonic([1, 2], [0, Infinity])).toThrow(/y must be finite \(row 1/);
    // typed inputs take the one-pass check: the same errors, naming the same rows
    expect(() => fitIsotonic(Float64Array.of(1, 2, NaN), Float64Array.of(0, 1, 1))).toThrow(/x is NaN \(row 2/);
    expect(() => fitIsotonic(Float64Array.of(1, 2, 3), Float64Array.of(0, -Infinity, 1))).toThrow(/y must be finite \(row 1/);
    expect(() => fitIsotonic(Float64Array.of(1, Infinity), Float64Array.of(0, 0.5))).toThrow(/x must be finite \(row 1/);
    expect(() => fitIsotonic([1, 2], [0])).toThrow(/lengths differ/);
    expect(() => fitIsotonic([1, 2], [0, 1], { weights: [1, -1] })).toThrow(/weight must be >= 0 \(row 1/);
    expect(() => fitIsotonic([1, 2], [0, 1], { weights: [0, 0] })).toThrow(DataError);
    expect(() => fitIsotonic([], [])).toThrow(DataError);
    expect(() => fitIsotonic([1], [1], { yMin: 2, yMax: 1 })).toThrow(ConfigError);
  });
});

describe('predictIsotonic', () => {
  const m = fitIsotonic([0, 1, 2], [0, 1, 4]);

  it('interpolates linearly between knots and clips outside', () => {
    expect(Array.from(predictIsotonic(m, [0.25, 1, 1.5, -3, 7]))).toEqual([0.25, 1, 2.5, 0, 4]);
  });

  it('returns NaN outside the range when fitted with outOfBounds nan', () => {
    const mn = fitIsotonic([0, 1, 2], [0, 1, 4], { outOfBounds: 'nan' });
    const out = predictIsotonic(mn, [-0.1, 0, 2, 2.1]);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBe(0);
    expect(out[2]).toBe(4);
    expect(Number.isNaN(out[3])).toBe(true);
  });

  it('is constant for a single knot and rejects NaN', () => {
    expect(Array.from(predictIsotonic(fitIsotonic([3, 3], [1, 2]), [0, 3, 9]))).toEqual([1.5, 1.5, 1.5]);
    expect(() => predictIsotonic(m, [NaN])).toThrow(/NaN \(row 0/);
  });
});
