import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { fitIsotonic } from '../../src/calibration/isotonic';

// The unweighted 0/1 path (two-level bucket sort per class, runs of one class) and the weighted path (radix argsort)
// are two independent poolings; with unit weights they must give the same fit, bit for bit.
function bothPaths(x: Float64Array, y: Float64Array): void {
  const fast = fitIsotonic(x, y, { yMin: 0, yMax: 1 });
  const general = fitIsotonic(x, y, { yMin: 0, yMax: 1, weights: new Float64Array(x.length).fill(1) });
  expect(fast.nUnique).toBe(general.nUnique);
  expect(Array.from(fast.x)).toEqual(Array.from(general.x));
  expect(Array.from(fast.y)).toEqual(Array.from(general.y));
}

describe('isotonic pooling of 0/1 outcomes', () => {
  const rng = new Rng(11);
  const outcomes = (x: Float64Array, pow: number): Float64Array => x.map((v) => (rng.bernoulli(Math.min(1, Math.max(0, v)) ** pow) ? 1 : 0));

  it('matches the weighted pooling on spread-out probabilities', () => {
    const x = new Float64Array(50_000).map(() => rng.uniform());
    bothPaths(x, outcomes(x, 1.3));
  });

  it('matches on heavily tied, clustered and skewed data (crowded buckets)', () => {
    const tied = new Float64Array(40_000).map(() => rng.int(37) / 36);
    bothPaths(tied, outcomes(tied, 0.7));
    const clustered = new Float64Array(40_000).map((_, i) => (i % 1000 === 0 ? rng.uniform() : 0.5 + rng.normal() * 1e-9));
    bothPaths(clustered, outcomes(clustered, 1));
    const skewed = new Float64Array(40_000).map(() => rng.uniform() ** 12);
    bothPaths(skewed, outcomes(skewed, 1));
  });

  it('matches on scores of any sign and magnitude, and on small inputs', () => {
    const scores = new Float64Array(30_000).map(() => rng.normal() * 1e6);
    bothPaths(scores, scores.map(() => (rng.bernoulli(0.4) ? 1 : 0)));
    const small = new Float64Array(500).map(() => rng.uniform());
    bothPaths(small, outcomes(small, 2));
  });

  it('matches on signed zeros, one-value buckets and a wide spread, past the small-input path', () => {
    const n = 20_000;
    const zeros = new Float64Array(n).map(() => (rng.bernoulli(0.3) ? (rng.bernoulli(0.5) ? 0 : -0) : rng.uniform() - 0.5));
    bothPaths(zeros, zeros.map(() => (rng.bernoulli(0.5) ? 1 : 0)));
    const twoValues = new Float64Array(n).map(() => (rng.bernoulli(0.5) ? 1 : 2));
    bothPaths(twoValues, twoValues.map((v) => (rng.bernoulli(v / 3) ? 1 : 0)));
    const wide = new Float64Array(n).map(() => (rng.uniform() - 0.5) * 1e300);
    bothPaths(wide, wide.map(() => (rng.bernoulli(0.5) ? 1 : 0)));
  });

  it('matches on tight clusters each beside an outlier (a crowded sub-bucket goes to the native sort)', () => {
    const x = new Float64Array(60_000).map((_, i) => {
      const centre = (rng.int(40) * 10 + 3) / 4096;
      return i % 1500 === 0 ? centre + 1e-5 : centre + rng.normal() * 1e-12;
    });
    bothPaths(x, x.map(() => (rng.bernoulli(0.5) ? 1 : 0)));
  });

  it('gives equal pooled frequencies one value, whatever order their blocks merged in', () => {
    // Block means are ratios of whole counts: two adjacent blocks whose frequencies are equal
    // ratios (1/3 and 2/6) are one run of equal values with one knot pair, not two that differ
    // in the last bit. Adjacent knot values therefore differ by more than rounding.
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = new Rng(seed);
      const x = new Float64Array(4096).map(() => r.uniform());
      const m = fitIsotonic(x, x.map((v) => (r.bernoulli(v ** 1.3) ? 1 : 0)));
      for (let k = 1; k < m.y.length; k++) {
        const d = m.y[k] - m.y[k - 1];
        expect(d === 0 || d > 1e-12, `seed ${seed} knot ${k}`).toBe(true);
      }
      // each value is held by at most two knots (the ends of its block)
      for (let k = 2; k < m.y.length; k++) expect(m.y[k] === m.y[k - 2]).toBe(false);
    }
  });
});
