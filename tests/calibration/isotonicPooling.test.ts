import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { fitIsotonic } from '../../src/calibration/isotonic';

// The unweighted 0/1 path (bucketed, per-class native sorts) and the weighted path (radix argsort)
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
});
