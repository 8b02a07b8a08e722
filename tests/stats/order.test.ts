import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { lowerBound, orderStatistics, quantileSorted, quantilesOf, radixSortFloat64, upperBound } from '../../src/stats/order';

describe('radixSortFloat64', () => {
  it('orders mixed-sign values of every magnitude like a numeric sort, stably', () => {
    const rng = new Rng(5);
    const x = new Float64Array(20_000);
    for (let i = 0; i < x.length; i++) {
      const kind = rng.int(5);
      x[i] = kind === 0 ? rng.int(10) - 5 : kind === 1 ? rng.normal() * 1e-300 : kind === 2 ? rng.normal() * 1e300 : rng.normal();
    }
    x[7] = -0;
    x[8] = 0;
    x[9] = Number.MIN_VALUE;
    x[10] = -Number.MAX_VALUE;
    const { order, sorted } = radixSortFloat64(x);
    const expected = Float64Array.from(x).sort();
    expect(Array.from(sorted)).toEqual(Array.from(expected));
    expect(Array.from(order, (i) => x[i])).toEqual(Array.from(sorted));
    // Stable: equal values keep input order.
    let unstable = 0;
    for (let k = 1; k < x.length; k++) if (Object.is(sorted[k], sorted[k - 1]) && order[k] < order[k - 1]) unstable++;
    expect(unstable).toBe(0);
    expect(new Set(order).size).toBe(x.length);
    expect(x[7]).toBe(-0); // input untouched
  });

  it('handles empty, single and constant arrays (all passes skipped)', () => {
    expect(radixSortFloat64(new Float64Array(0)).order.length).toBe(0);
    expect(Array.from(radixSortFloat64(Float64Array.of(3)).order)).toEqual([0]);
    const c = radixSortFloat64(Float64Array.of(2, 2, 2));
    expect(Array.from(c.order)).toEqual([0, 1, 2]);
    expect(Array.from(c.sorted)).toEqual([2, 2, 2]);
  });
});

describe('quantileSorted and bounds', () => {
  it('interpolates linearly like numpy', () => {
    const s = Float64Array.of(1, 2, 3, 4);
    expect(quantileSorted(s, 0.5)).toBe(2.5);
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 1)).toBe(4);
    expect(quantileSorted(s, 0.25)).toBe(1.75);
  });

  it('finds lower and upper bounds', () => {
    const a = Float64Array.of(0, 0.5, 0.5, 1);
    expect(lowerBound(a, 0.5)).toBe(1);
    expect(upperBound(a, 0.5)).toBe(3);
    expect(lowerBound(a, 2)).toBe(4);
    expect(upperBound(a, -1)).toBe(0);
  });
});

describe('orderStatistics and quantilesOf', () => {
  it('returns the order statistics of spread, tied, clustered and small inputs', () => {
    const rng = new Rng(8);
    const cases: Array<[string, Float64Array]> = [
      ['normal', Float64Array.from({ length: 20_000 }, () => rng.normal())],
      ['three values', Float64Array.from({ length: 20_000 }, () => rng.int(3))],
      ['one huge cluster and outliers', Float64Array.from({ length: 20_000 }, (_, i) => (i % 1000 === 0 ? 1e6 * rng.normal() : 0.5 + 1e-12 * rng.uniform()))],
      ['skewed', Float64Array.from({ length: 20_000 }, () => rng.uniform() ** 12)],
      ['constant', new Float64Array(10_000).fill(0.25)],
      ['small', Float64Array.of(5, 1, 4, 2, 3)],
    ];
    for (const [name, x] of cases) {
      const n = x.length;
      const sorted = Float64Array.from(x).sort();
      const ranks = [0, Math.floor(n / 3), Math.floor(n / 2), n - 1, Math.min(n - 1, 7), Math.floor(n / 2)];
      expect(Array.from(orderStatistics(x, ranks)), name).toEqual(ranks.map((r) => sorted[r]));
    }
  });

  it('gives the same quantiles as a full sort', () => {
    const rng = new Rng(9);
    const x = Array.from({ length: 20_001 }, () => rng.uniform() ** 3);
    const levels = [0, 0.1, 0.25, 0.5, 0.7, 0.999, 1];
    const sorted = Float64Array.from(x).sort();
    expect(Array.from(quantilesOf(x, levels))).toEqual(levels.map((q) => quantileSorted(sorted, q)));
    expect(Array.from(quantilesOf([4, 1, 3, 2], [0, 0.5, 1]))).toEqual([1, 2.5, 4]);
    expect(Array.from(quantilesOf([7], [0, 0.3, 1]))).toEqual([7, 7, 7]);
  });
});
