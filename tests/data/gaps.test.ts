import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { arraysToBars, barsToArrays, barsToArraysBySymbol, type BarArrays } from '../../src/data/bars';
import { countGaps, fillGaps, fillGapsArrays, MAX_FILL_FACTOR } from '../../src/data/gaps';
import { inspectBars } from '../../src/data/inspect';
import { DataError } from '../../src/core/errors';
import { thrownBy } from '../support/errors';
import { loadBars } from '../../src/data/load';
import type { SessionLike } from '../../src/data/sessions';
import { realData } from '../support/paths';
import { onlyInside, randomBars, referenceFillGaps, referenceSessionIndex } from './per-bar-reference';

const M = 60_000;
const at = (iso: string): number => Date.parse(iso);
function series(ts: number[], close: number[]): BarArrays {
  const c = Float64Array.from(close);
  return { ts: Float64Array.from(ts), open: c.slice(), high: c.map((x) => x + 1), low: c.map((x) => x - 1), close: c,
    volume: new Float64Array(ts.length).fill(7) };
}

describe('fillGapsArrays', () => {
  it('fills inside a window with the last close and volume 0, and marks the rows', () => {
    const a = series([at('2024-03-11T13:30Z'), at('2024-03-11T13:33Z'), at('2024-03-11T13:34Z')], [10, 12, 13]);
    const f = fillGapsArrays(a, M, 'us-rth');
    expect(Array.from(f.ts).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['13:30', '13:31', '13:32', '13:33', '13:34']);
    expect(Array.from(f.close)).toEqual([10, 10, 10, 12, 13]);
    expect(Array.from(f.high)).toEqual([11, 10, 10, 13, 14]);
    expect(Array.from(f.volume)).toEqual([7, 0, 0, 7, 7]);
    expect(Array.from(f.filled)).toEqual([0, 1, 1, 0, 0]);
    expect(f.counts.filled).toBe(2);
    expect(f.counts.edgeMissing).toBe(390 - 5); // the rest of the day is not recorded and not invented
  });

  it('never fills across the overnight break, a weekend, or the A-share lunch', () => {
    const us = series([at('2024-03-08T20:59Z'), at('2024-03-11T13:30Z')], [10, 11]); // Fri 15:59 EST -> Mon 09:30 EDT
    expect(fillGapsArrays(us, M, 'us-rth').counts.filled).toBe(0);
    const cn = series([at('2024-06-18T03:25Z'), at('2024-06-18T05:00Z'), at('2024-06-18T05:10Z')], [10, 11, 12]); // 11:25, 13:00, 13:10 local
    const f = fillGapsArrays(cn, 5 * M, 'cn-a');
    expect(f.counts.filled).toBe(1); // 13:05 only
    expect(new Date(f.ts[2]).toISOString()).toBe('2024-06-18T05:05:00.000Z');
  });

  it('24x7 fills across midnight; bars outside a calendar are kept and counted, not filled', () => {
    const c = series([at('2024-01-01T23:55Z'), at('2024-01-02T00:10Z')], [1, 2]);
    expect(fillGapsArrays(c, 5 * M, '24x7').counts.filled).toBe(2);
    const pre = series([at('2024-03-11T13:00Z'), at('2024-03-11T13:28Z'), at('2024-03-11T13:31Z')], [1, 2, 3]);
    const f = fillGapsArrays(pre, M, 'us-rth');
    expect(f.counts).toEqual({ filled: 0, edgeMissing: 389, outsideSession: 2 });
    // a window, after-hours bars, the next day's window: both windows are counted
    const two = series([at('2024-03-11T19:58Z'), at('2024-03-11T20:30Z'), at('2024-03-12T13:30Z')], [1, 2, 3]);
    expect(fillGapsArrays(two, M, 'us-rth').counts).toEqual({ filled: 0, edgeMissing: 389 + 389, outsideSession: 1 });
  });
});

describe('fillGaps on a frame without rows', () => {
  const e = new Float64Array(0);
  it('gives a frame without rows, with or without a symbol column', () => {
    for (const symbol of [undefined, 'A']) {
      const r = fillGaps(arraysToBars({ ts: e, open: e, high: e, low: e, close: e, volume: e, symbol }), '24x7', { barMs: M });
      expect(r.bars.height).toBe(0);
      expect(r.bars.columns).toEqual(symbol ? ['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'filled'] : ['ts', 'open', 'high', 'low', 'close', 'volume', 'filled']);
      expect(r.bars.getColumn('filled').dtype.equals(pl.Bool)).toBe(true);
      expect(r.filled).toBe(0);
      expect(r.bySymbol).toEqual(symbol ? {} : { '': { filled: 0, edgeMissing: 0, outsideSession: 0 } });
    }
  });
});

describe('fillGaps on real crypto data', () => {
  it('fills the recorded holes of the crypto-5m pairs and no more', () => {
    const bars = loadBars(realData('crypto-5m'));
    const r = fillGaps(bars, '24x7');
    expect(r.bySymbol.ETH_BTC.filled).toBe(0);
    expect(r.bySymbol.ADA_BTC.filled).toBe(5760 - 5720);
    expect(r.bySymbol.ETC_BTC.filled).toBe(5759 - 5759); // its missing bar is the last one: nothing after it to fill up to
    expect(r.bySymbol.TRX_BTC.filled).toBe(6);
    expect(r.filled).toBe(46);
    const ada = barsToArraysBySymbol(r.bars).get('ADA_BTC')!;
    for (let i = 1; i < ada.ts.length; i++) expect(ada.ts[i] - ada.ts[i - 1]).toBe(5 * M);
    expect(r.bars.getColumn('filled').cast(pl.Int32).sum()).toBe(46);
    const single = fillGaps(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather')), '24x7');
    expect(single.bars.columns).toEqual(['ts', 'open', 'high', 'low', 'close', 'volume', 'filled']);
    expect(barsToArrays(single.bars).ts.length).toBe(5760);
  });
});

describe('fillGaps with the intervals validateBars found', () => {
  // Two symbols at different intervals: ts 0, 3, 4 minutes; the interval decides what is a gap.
  const frame = (): ReturnType<typeof arraysToBars> =>
    arraysToBars([{ ...series([0, 3 * M, 4 * M], [1, 2, 3]), symbol: 'A' }, { ...series([0, 2 * M, 6 * M, 8 * M], [4, 5, 6, 7]), symbol: 'constructor' }]);
  const rows = (bars: ReturnType<typeof arraysToBars>): unknown[] => bars.toRecords();
  it('uses each symbol\'s own interval from the record, as inferred would', () => {
    const inferred = fillGaps(frame(), '24x7');
    const given = fillGaps(frame(), '24x7', { barMs: { A: M, constructor: 2 * M } });
    expect(inferred.bySymbol).toEqual({ A: { filled: 2, edgeMissing: 0, outsideSession: 0 }, constructor: { filled: 1, edgeMissing: 0, outsideSession: 0 } });
    expect(given.bySymbol).toEqual(inferred.bySymbol);
    expect(rows(given.bars)).toEqual(rows(inferred.bars));
  });
  it('takes the record\'s interval over the inferred one, and infers a symbol the record lacks', () => {
    const r = fillGaps(frame(), '24x7', { barMs: { A: 3 * M } });
    // A at 3 minutes: 0 -> 3 is one step, 3 -> 4 is shorter than a bar: nothing to fill; the other symbol still inferred (2 minutes).
    expect(r.bySymbol).toEqual({ A: { filled: 0, edgeMissing: 0, outsideSession: 0 }, constructor: { filled: 1, edgeMissing: 0, outsideSession: 0 } });
  });
});

it('fillGaps refuses unsorted input', () => {
  const a = series([2 * M, M, 3 * M], [1, 2, 3]);
  expect(() => fillGaps(arraysToBars(a), '24x7', { barMs: M })).toThrow(/strictly increasing.*row 1/);
});

describe('fillGapsArrays agrees with the per-bar reference', () => {
  const cases: [string, SessionLike, number, string, string][] = [
    ['us-rth 1m over both 2024 DST changes, with pre- and after-hours bars', 'us-rth', M, '2024-03-07T08:00Z', '2024-03-13T02:00Z'],
    ['us-rth 5m over a month with holidays', 'us-rth', 5 * M, '2024-11-01T00:00Z', '2024-12-01T00:00Z'],
    ['cn-a 1m with its lunch break', 'cn-a', M, '2024-06-17T00:00Z', '2024-06-20T00:00Z'],
    ['24x7 5m across midnights', '24x7', 5 * M, '2024-01-01T00:00Z', '2024-01-05T00:00Z'],
  ];
  for (const [name, session, barMs, from, to] of cases) {
    it(name, () => {
      for (const keep of [0.97, 0.6]) {
        const all = randomBars(11, from, to, barMs, keep, 'X');
        for (const a of [all, onlyInside(all, session)]) {
          const f = fillGapsArrays(a, barMs, session);
          const ref = referenceFillGaps(a, barMs, session);
          expect(f.counts).toEqual(ref.counts);
          expect(f.counts.filled).toBeGreaterThan(0);
          for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume', 'filled'] as const) expect(Array.from(f[c])).toEqual(Array.from(ref[c]));
          expect(f.symbol).toBe('X');
          // counting without filling gives the same counts, and the sessions the filled bars fall in
          const ids = referenceSessionIndex(ref.ts, session).sessionId;
          const sessionsWithGaps = new Set(Array.from(ref.filled).flatMap((x, i) => (x ? [ids[i]] : []))).size;
          expect(countGaps(a, barMs, session)).toEqual({ ...ref.counts, sessionsWithGaps });
        }
      }
    });
  }

  it('names the first row out of order', () => {
    const a = randomBars(3, '2024-03-11T13:30Z', '2024-03-11T15:00Z', M);
    a.ts[40] = a.ts[38];
    expect(() => fillGapsArrays(a, M, 'us-rth')).toThrow(/strictly increasing.*row 40/);
    expect(() => referenceFillGaps(a, M, 'us-rth')).toThrow(/row 40/);
  });
});

describe('gaps of absurd spans cost memory in proportion to the bars', () => {
  const three = (last: number): BarArrays => series([at('2024-01-01T00:00Z'), at('2024-01-01T00:01Z'), last], [10, 11, 12]);

  it('counts a century-long gap arithmetically: one bar in 2124 after two in 2024', () => {
    const a = three(at('2124-01-01T00:02Z'));
    const minutes = (at('2124-01-01T00:02Z') - at('2024-01-01T00:01Z')) / M - 1;
    expect(countGaps(a, M, '24x7')).toEqual({ filled: minutes, edgeMissing: 0, outsideSession: 0, sessionsWithGaps: 36525 });
    const [x] = inspectBars(arraysToBars({ ...a, symbol: 'X' }), '24x7').symbols;
    expect([x.missingBars, x.sessionsWithGaps]).toEqual([minutes, 36525]);
  });

  it('a fill larger than the documented multiple of the rows is a DataError naming both timestamps', () => {
    const e = thrownBy(() => fillGapsArrays(three(at('2124-01-01T00:02Z')), M, '24x7'), DataError);
    expect(e.problem).toMatch(/^refusing to fill 52594560 missing bars into 3 .*between 2024-01-01T00:01:00\.000Z and 2124-01-01T00:02:00\.000Z/);
    expect(e.row).toBe(2);
    expect(() => fillGaps(arraysToBars({ ...three(at('2124-01-01T00:02Z')), symbol: 'X' }), '24x7')).toThrow(/refusing to fill .*\(symbol X, row 2/);
    // at the limit it still fills: 3 rows may gain 3 x MAX_FILL_FACTOR bars
    const ok = three(at('2024-01-01T00:01Z') + (3 * MAX_FILL_FACTOR + 1) * M);
    expect(fillGapsArrays(ok, M, '24x7').counts.filled).toBe(3 * MAX_FILL_FACTOR);
    expect(() => fillGapsArrays(three(at('2024-01-01T00:01Z') + (3 * MAX_FILL_FACTOR + 2) * M), M, '24x7')).toThrow(DataError);
  });

  it('bars stamped 1900 and 9999 are counted, not a RangeError', () => {
    const a = series([at('1900-01-01T00:00Z'), at('1900-01-01T00:01Z'), at('1900-01-01T00:02Z'), at('9999-01-01T00:02Z')], [1, 2, 3, 4]);
    const g = countGaps(a, M, '24x7');
    expect(g.filled).toBe((at('9999-01-01T00:02Z') - at('1900-01-01T00:02Z')) / M - 1);
    expect(g.filled).toBeGreaterThan(2 ** 31);
    expect(inspectBars(arraysToBars({ ...a, symbol: 'X' }), 'us-rth').symbols[0].rows).toBe(4);
    expect(() => fillGapsArrays(a, M, '24x7')).toThrow(/between 1900-01-01T00:02:00\.000Z and 9999-01-01T00:02:00\.000Z/);
  });
});
