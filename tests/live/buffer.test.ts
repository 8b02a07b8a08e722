import { describe, expect, it } from 'vitest';
import { BarBuffer } from '../../src/live/buffer';
import { Histogram } from '../../src/live/histogram';

const bar = (i: number) => ({ ts: i * 60_000, open: 100 + i, high: 101 + i, low: 99 + i, close: 100.5 + i, volume: i });

describe('BarBuffer', () => {
  it('keeps the last `capacity` bars in order across many compactions', () => {
    const b = new BarBuffer(5);
    for (let i = 0; i < 23; i++) b.append(bar(i));
    const s = b.snapshot('X');
    expect(b.length).toBe(5);
    expect(Array.from(s.ts)).toEqual([18, 19, 20, 21, 22].map((i) => i * 60_000));
    expect(Array.from(s.close)).toEqual([18, 19, 20, 21, 22].map((i) => 100.5 + i));
    expect(s.symbol).toBe('X');
    expect(b.lastTs).toBe(22 * 60_000);
  });

  it('snapshots are copies: later appends do not change them', () => {
    const b = new BarBuffer(3);
    for (let i = 0; i < 3; i++) b.append(bar(i));
    const s = b.snapshot();
    for (let i = 3; i < 10; i++) b.append(bar(i));
    expect(Array.from(s.open)).toEqual([100, 101, 102]);
  });

  it('appendArrays keeps the tail; bad capacities throw', () => {
    const b = new BarBuffer(4);
    const ts = Float64Array.from({ length: 10 }, (_, i) => i);
    b.appendArrays({ ts, open: ts.map((x) => x + 1), high: ts.map((x) => x + 2), low: ts.map((x) => x + 0.5), close: ts.map((x) => x + 1), volume: ts });
    expect(Array.from(b.snapshot().ts)).toEqual([6, 7, 8, 9]);
    expect(new BarBuffer(2).lastTs).toBeNaN();
    expect(() => new BarBuffer(1)).toThrow(RangeError);
    expect(() => new BarBuffer(2.5)).toThrow(RangeError);
  });
});

describe('Histogram', () => {
  it('counts into le buckets, cumulative like Prometheus, with sum and count', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 2, 3]) h.observe(v);
    expect(Array.from(h.counts)).toEqual([2, 1, 2]);
    expect(h.cumulative()).toEqual([2, 3, 5]);
    expect([h.count, h.sum]).toEqual([5, 5.65]);
    expect(() => new Histogram([1, 1])).toThrow(RangeError);
  });
});
