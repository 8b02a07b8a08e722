import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { stableOrder } from '../../src/stats/order';

/** The reference: a comparator sort of the indices, ties by index. */
const bySort = (keys: ArrayLike<number>): number[] => Array.from({ length: keys.length }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);

describe('stableOrder', () => {
  it('orders by key, ties by index', () => {
    expect([...stableOrder(5, (i) => [2, 1, 2, 0, 1][i])]).toEqual([3, 1, 4, 0, 2]);
    expect([...stableOrder(0, () => 0)]).toEqual([]);
  });

  it('matches a comparator sort on draws with many ties, 0 and -0, and with a key given pre-sorted', () => {
    const rng = new Rng(7);
    for (const n of [1, 2, 17, 100, 1000]) {
      // keys on a coarse grid so that runs of equal keys are common
      const keys = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 4) / 4);
      keys[0] = -0;
      if (n > 1) keys[n - 1] = 0;
      const want = bySort(keys);
      expect([...stableOrder(n, (i) => keys[i])]).toEqual(want);
      expect([...stableOrder(n, (i) => keys[i], keys.slice().sort())]).toEqual(want);
    }
  });

  it('falls back to the comparator sort when a key is not finite', () => {
    const keys = [3, Infinity, 1, -Infinity, 1];
    expect([...stableOrder(keys.length, (i) => keys[i])]).toEqual(bySort(keys));
  });
});
