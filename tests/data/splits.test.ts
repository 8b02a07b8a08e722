import { describe, expect, it } from 'vitest';
import { purgedKFold, purgedTrainRanges, rangesToIndices, timeSplit, walkForward } from '../../src/data/splits';

describe('time splits', () => {
  it('consecutive blocks by fraction, purged by the label horizon', () => {
    expect(timeSplit(100, { train: 0.6, validation: 0.2 })).toEqual({ train: { start: 0, end: 60 }, validation: { start: 60, end: 80 },
      test: { start: 80, end: 100 } });
    expect(timeSplit(100, { train: 0.6, validation: 0.2, labelHorizon: 5 })).toEqual({ train: { start: 0, end: 55 }, validation: { start: 60, end: 75 },
      test: { start: 80, end: 100 } });
    expect(() => timeSplit(100, { train: 0.8, validation: 0.2 })).toThrow(/leave room/);
  });
});

describe('purging and embargo (López de Prado)', () => {
  it('drops training rows whose label interval overlaps the test block, and the embargo after it', () => {
    // test [40, 60), horizon 5: rows 35..39 have labels reaching 40..44 -> purged; embargo 3: rows 60..62 dropped
    expect(purgedTrainRanges(100, [{ start: 40, end: 60 }], 5, 3)).toEqual([{ start: 0, end: 35 }, { start: 63, end: 100 }]);
    // a brute-force check of the definition on every row
    const h = 4;
    const e = 2;
    const test = { start: 30, end: 50 };
    const kept = new Set(rangesToIndices(purgedTrainRanges(80, [test], h, e)));
    for (let i = 0; i < 80; i++) {
      const overlaps = i + h >= test.start && i < test.end;
      const embargoed = i >= test.end && i < test.end + e;
      expect(kept.has(i)).toBe(!overlaps && !embargoed);
    }
  });

  it('purged k-fold covers every row once as test', () => {
    const folds = purgedKFold(100, { k: 5, labelHorizon: 2, embargo: 1 });
    expect(folds[1]).toEqual({ test: { start: 20, end: 40 }, train: [{ start: 0, end: 18 }, { start: 41, end: 100 }] });
    expect(folds.reduce((s, f) => s + f.test.end - f.test.start, 0)).toBe(100);
  });

  it('walk-forward: rolling and expanding, train strictly before test minus the horizon', () => {
    const roll = walkForward(100, { trainSize: 50, testSize: 10, labelHorizon: 2 });
    expect(roll.length).toBe(5);
    expect(roll[0]).toEqual({ train: [{ start: 0, end: 48 }], test: { start: 50, end: 60 } });
    expect(roll[4]).toEqual({ train: [{ start: 40, end: 88 }], test: { start: 90, end: 100 } });
    const exp = walkForward(100, { trainSize: 50, testSize: 20, window: 'expanding', step: 25 });
    expect(exp.map((f) => [f.train[0].end, f.test.start, f.test.end])).toEqual([[50, 50, 70], [75, 75, 95]]);
    expect(() => walkForward(10, { trainSize: 8, testSize: 5 })).toThrow(/need at least/);
  });
});
