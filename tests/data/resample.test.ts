// Reference values come from pandas 1.5 (`resample('30min', label='left', closed='left')` on the
// kline JSON; a groupby on window-anchored buckets for the A-share file).
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { barsToArrays, arraysToBars, type BarArrays } from '../../src/data/bars';
import { resample, resampleArrays } from '../../src/data/resample';
import { loadBars } from '../../src/data/load';
import type { SessionLike } from '../../src/data/sessions';
import { realData } from '../support/paths';
import { onlyInside, randomBars, referenceResample, shuffledSome } from './per-bar-reference';

const M = 60_000;
const iso = (t: number): string => new Date(t).toISOString();

describe('resample: UTC epoch-aligned buckets, label left, closed left', () => {
  const k = loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.json'));

  it('1m -> 30m matches pandas', () => {
    const r = resample(k, '30m').bars;
    const a = barsToArrays(r);
    const count = r.getColumn('count').toArray() as number[];
    expect(a.ts.length).toBe(480);
    expect([iso(a.ts[0]), a.open[0], a.high[0], a.low[0], a.close[0], count[0]]).toEqual(['2017-11-04T23:00:00.000Z', 0.00162008, 0.00162008, 0.00158752, 0.00158785, 21]);
    expect(a.volume[0]).toBeCloseTo(1145.049317, 5);
    expect([a.open[100], a.high[100], a.low[100], a.close[100], count[100]]).toEqual([0.00200799, 0.00204395, 0.002004, 0.00204389, 30]);
    expect(a.volume[100]).toBeCloseTo(5661.70619516, 7);
    expect(a.volume.reduce((s, x) => s + x, 0)).toBeCloseTo(8177281.909042029, 5);
    expect(a.high.reduce((s, x) => s + x, 0)).toBeCloseTo(1.06929004, 9);
  });

  it('1m -> 4h: 61 buckets, the first starting 20:00 UTC with 39 bars', () => {
    const r = resample(k, '4h').bars;
    const a = barsToArrays(r);
    expect(a.ts.length).toBe(61);
    expect([iso(a.ts[0]), r.getColumn('count').get(0), iso(a.ts[1]), r.getColumn('count').get(1)]).toEqual(['2017-11-04T20:00:00.000Z', 39, '2017-11-05T00:00:00.000Z', 136]);
  });

  it('the target must be a whole multiple of the bar interval', () => {
    expect(() => resample(k, '90s')).toThrow(/whole multiple/);
    expect(() => resample(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather')), '7m')).toThrow(/cannot resample 5m bars to 7m/);
    expect(() => resample(k, '30 minutes')).toThrow(/duration must be/);
    // the interval validateBars found, per symbol, is the one checked (no second scan of ts)
    expect(() => resample(k, '30m', { barMs: { '': 7 * M } })).toThrow(/cannot resample 7m bars to 30m/);
    expect(resample(k, '30m', { barMs: { '': M } }).bars.toRecords()).toEqual(resample(k, '30m').bars.toRecords());
  });
});

describe('resample with a calendar session', () => {
  const cn = loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 5 * M });

  it('A-share 5m -> 1h anchors at 09:30 and 13:00 and never spans the lunch break (pandas reference)', () => {
    const r = resample(cn, '1h', { session: 'cn-a' });
    const a = barsToArrays(r.bars);
    expect(a.ts.length).toBe(209);
    expect(r.outsideSession).toBe(0);
    // local 10:30, 13:00, 14:00, next day 09:30, 10:30, 13:00
    expect(Array.from(a.ts.slice(0, 6)).map(iso)).toEqual(['2024-06-18T02:30:00.000Z', '2024-06-18T05:00:00.000Z', '2024-06-18T06:00:00.000Z', '2024-06-19T01:30:00.000Z', '2024-06-19T02:30:00.000Z', '2024-06-19T05:00:00.000Z']);
    expect(Array.from(a.volume.slice(0, 6))).toEqual([1797, 16706, 9811, 20344, 8073, 11571]);
    expect(Array.from(a.high.slice(0, 6))).toEqual([11.28, 11.33, 11.33, 11.37, 11.27, 11.24]);
    expect(Array.from(a.close.slice(0, 6))).toEqual([11.27, 11.29, 11.32, 11.25, 11.22, 11.2]);
    expect(r.bars.getColumn('count').toArray().slice(0, 3)).toEqual([4, 12, 12]);
  });

  it('1d gives one bar per session labelled at the session open', () => {
    const a = barsToArrays(resample(cn, '1d', { session: 'cn-a' }).bars);
    expect(iso(a.ts[1])).toBe('2024-06-19T01:30:00.000Z');
    expect(a.ts.length).toBe(53);
  });

  it('US RTH 1m -> 1h: 09:30 ... 15:30 with a 30-minute last bucket; pre-market bars are counted and left out', () => {
    const day = Date.parse('2024-03-11T13:30:00Z');
    const n = 390;
    const ts = new Float64Array(n + 1);
    ts[0] = day - 10 * M; // 09:20 pre-market
    for (let i = 0; i < n; i++) ts[i + 1] = day + i * M;
    const ones = new Float64Array(n + 1).fill(1);
    const a: BarArrays = { ts, open: ones, high: ones, low: ones, close: ones, volume: ones };
    const r = resampleArrays(a, 60 * M, 'us-rth');
    expect(r.outsideSession).toBe(1);
    expect(Array.from(r.ts).map((t) => iso(t).slice(11, 16))).toEqual(['13:30', '14:30', '15:30', '16:30', '17:30', '18:30', '19:30']);
    expect(Array.from(r.count)).toEqual([60, 60, 60, 60, 60, 60, 30]);
  });

  it('multi-symbol frames resample per symbol', () => {
    const one = (symbol: string, px: number): BarArrays => ({ symbol, ts: Float64Array.from([0, M, 2 * M]), open: new Float64Array(3).fill(px),
      high: Float64Array.from([px, px + 2, px]), low: new Float64Array(3).fill(px - 1), close: Float64Array.from([px, px, px + 1]),
      volume: Float64Array.from([1, 2, 3]) });
    const r = resample(arraysToBars([one('A', 10), one('B', 20)]), '3m').bars;
    expect(r.toRecords().map((x) => [x.symbol, x.high, x.close, x.volume, x.count])).toEqual([['A', 12, 11, 6, 3], ['B', 22, 21, 6, 3]]);
  });

  it('a frame without rows gives one without rows, with or without a symbol column', () => {
    const e = new Float64Array(0);
    for (const symbol of [undefined, 'A']) {
      const r = resample(arraysToBars({ ts: e, open: e, high: e, low: e, close: e, volume: e, symbol }), '5m', { session: 'us-rth' });
      expect(r.bars.height).toBe(0);
      expect(r.bars.columns).toEqual(symbol ? ['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'count'] : ['ts', 'open', 'high', 'low', 'close', 'volume', 'count']);
      expect(r.bars.getColumn('count').dtype.equals(pl.Int32)).toBe(true);
      expect(r.outsideSession).toBe(0);
    }
  });
});

describe('resampleArrays agrees with the per-bar reference', () => {
  const cases: [string, SessionLike | undefined, number, number, string, string][] = [
    ['no session, 1m -> 30m (epoch-aligned)', undefined, M, 30 * M, '2024-03-08T00:00Z', '2024-03-12T00:00Z'],
    ['24x7, 5m -> 4h', '24x7', 5 * M, 240 * M, '2024-01-01T00:00Z', '2024-01-08T00:00Z'],
    ['us-rth 1m -> 30m, DST and bars outside the session', 'us-rth', M, 30 * M, '2024-03-07T08:00Z', '2024-03-13T02:00Z'],
    ['us-rth 1m -> 1h (short last bucket)', 'us-rth', M, 60 * M, '2024-11-01T00:00Z', '2024-11-07T00:00Z'],
    ['us-rth 5m -> 1d', 'us-rth', 5 * M, 1440 * M, '2024-11-01T00:00Z', '2024-12-01T00:00Z'],
    ['cn-a 1m -> 1h (lunch ends the morning buckets)', 'cn-a', M, 60 * M, '2024-06-17T00:00Z', '2024-06-20T00:00Z'],
    ['cn-a 5m -> 1d (two windows, one bar)', 'cn-a', 5 * M, 1440 * M, '2024-06-17T00:00Z', '2024-06-22T00:00Z'],
  ];
  for (const [name, session, barMs, everyMs, from, to] of cases) {
    it(name, () => {
      const sorted = randomBars(21, from, to, barMs, 0.9, 'X');
      // the kernel itself accepts any order (resample() refuses it): unsorted bars must agree too
      for (const a of [sorted, shuffledSome(sorted, 22, 30), ...(session ? [onlyInside(sorted, session)] : [])]) {
        const r = resampleArrays(a, everyMs, session);
        const ref = referenceResample(a, everyMs, session);
        expect(r.outsideSession).toBe(ref.outsideSession);
        for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume', 'count'] as const) expect(Array.from(r[c])).toEqual(Array.from(ref[c]));
        expect(r.ts.length).toBeGreaterThan(3);
      }
    });
  }

  it('without a calendar, bars with a NaN time belong to no bucket', () => {
    const a = randomBars(5, '2024-01-01T00:00Z', '2024-01-01T06:00Z', M);
    a.ts[10] = Number.NaN;
    const r = resampleArrays(a, 30 * M);
    expect(Array.from(r.count)).toEqual(Array.from(referenceResample(a, 30 * M).count));
    expect(r.count.reduce((s, x) => s + x, 0)).toBe(a.ts.length - 1);
  });

  it('resample() names the first row out of order', () => {
    const a = randomBars(6, '2024-01-01T00:00Z', '2024-01-01T06:00Z', M);
    a.ts[20] = a.ts[21];
    expect(() => resample(arraysToBars(a), '30m')).toThrow(/strictly increasing to resample.*row 21/);
  });
});
