import { describe, expect, it } from 'vitest';
import { importanceShares } from '../../src/signal/importance';

describe('importanceShares', () => {
  it('shares of each series\' total, ordered by their mean over series; a missing feature counts 0', () => {
    const s = importanceShares([
      { name: 'A', importance: { rvol: 6, hour: 2, f_pUp: 2 } },
      { name: 'B', importance: { hour: 3, rvol: 1 } },
    ]);
    // A: rvol 60, hour 20, f_pUp 20; B: hour 75, rvol 25, f_pUp 0. Means: hour 47.5, rvol 42.5, f_pUp 10.
    expect(s.features).toEqual([{ feature: 'hour', meanPct: 47.5 }, { feature: 'rvol', meanPct: 42.5 }, { feature: 'f_pUp', meanPct: 10 }]);
    expect(s.bySeries).toEqual([{ name: 'A', pct: [20, 60, 20] }, { name: 'B', pct: [75, 25, 0] }]);
    for (const b of s.bySeries) expect(b.pct.reduce((x, y) => x + y, 0)).toBeCloseTo(100, 12);
  });

  it('keeps first-seen order for ties and refuses no series', () => {
    expect(importanceShares([{ name: 'A', importance: { b: 1, a: 1 } }]).features.map((f) => f.feature)).toEqual(['b', 'a']);
    expect(() => importanceShares([])).toThrow(RangeError);
  });
});
