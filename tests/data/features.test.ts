import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { arraysToBars, barsToArrays } from '../../src/data/bars';
import { bollinger, contextWindow, lastBars, logReturns, rollingMean, sessionVwapArrays, simpleReturns, withReturns, withSessionVwap, withSma } from '../../src/data/features';
import { loadBars } from '../../src/data/load';
import type { SessionLike } from '../../src/data/sessions';
import { realData } from '../support/paths';
import { randomBars, referenceVwap, shuffledSome } from './per-bar-reference';

const M = 60_000;

describe('session VWAP', () => {
  it('A-share: typical-price VWAP resets each trading day (pandas groupby-cumsum reference)', () => {
    const bars = loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 });
    const vwap = withSessionVwap(bars, 'cn-a').getColumn('vwap').toArray() as number[];
    const expected: [number, number][] = [[0, 11.27], [1, 11.271408], [27, 11.300449], [28, 11.346667], [29, 11.339458], [100, 11.078251], [2499, 9.841262]];
    for (const [row, v] of expected) expect(vwap[row]).toBeCloseTo(v, 6);
  });

  it('hand-computed: (sum of typical x volume) / (sum of volume), NaN until volume trades', () => {
    const ts = Float64Array.from([0, 60_000, 120_000, 86_400_000]);
    const v = sessionVwapArrays({ ts, high: Float64Array.from([11, 12, 13, 20]), low: Float64Array.from([9, 10, 11, 18]), close: Float64Array.from([10, 11, 12, 19]), volume: Float64Array.from([0, 1, 3, 2]) }, '24x7');
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v[1]).toBeCloseTo(11, 12);
    expect(v[2]).toBeCloseTo((11 * 1 + 12 * 3) / 4, 12);
    expect(v[3]).toBeCloseTo(19, 12); // new UTC day, new session
  });
});

describe('returns, SMA, Bollinger, context', () => {
  const x = Float64Array.from([100, 110, 99, 99, 108.9]);
  it('simple and log returns', () => {
    expect(Array.from(simpleReturns(x)).slice(1).map((r) => +r.toFixed(12))).toEqual([0.1, -0.1, 0, 0.1]);
    expect(logReturns(x)[1]).toBeCloseTo(Math.log(1.1), 14);
    expect(Number.isNaN(logReturns(x)[0])).toBe(true);
  });
  it('rolling mean and bands', () => {
    expect(Array.from(rollingMean(Float64Array.from([1, 2, 3, 4]), 2)).slice(1)).toEqual([1.5, 2.5, 3.5]);
    const b = bollinger(Float64Array.from([1, 3, 5]), 2, 2);
    expect([b.middle[1], b.upper[1], b.lower[1]]).toEqual([2, 4, 0]);
    expect(() => rollingMean(x, 0)).toThrow(/positive integer/);
  });
  it('rolling mean stays exact over a long series (no drift)', () => {
    const long = new Float64Array(100_000).map((_, i) => 1e6 + (i % 7) * 0.1);
    const m = rollingMean(long, 7);
    expect(m[99_999]).toBeCloseTo(1e6 + 0.3, 9);
  });
  it('context window: the last L values, or an error', () => {
    expect(Array.from(contextWindow(x, 2))).toEqual([99, 108.9]);
    expect(Array.from(contextWindow(x, 2, 3))).toEqual([110, 99]);
    expect(() => contextWindow(x, 6)).toThrow(/need 6 bars/);
  });
  it('frame wrappers work per symbol', () => {
    const bars = loadBars(realData('crypto-5m'));
    const eth = barsToArrays(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather')));
    const ethRows = (df: typeof bars): typeof bars => df.filter(pl.col('symbol').eq(pl.lit('ETH_BTC')));
    const r = ethRows(withReturns(bars, 'log')).getColumn('ret').toArray() as number[];
    expect(Number.isNaN(r[0])).toBe(true); // each symbol starts afresh
    expect(r[1]).toBeCloseTo(Math.log(eth.close[1] / eth.close[0]), 14);
    const sma = ethRows(withSma(bars, 3)).getColumn('sma').toArray() as number[];
    expect(sma[2]).toBeCloseTo((eth.close[0] + eth.close[1] + eth.close[2]) / 3, 14);
    expect(lastBars(bars, 10).height).toBe(80);
    expect(() => lastBars(bars, 6000)).toThrow(/need 6000 bars, have 5720.*ADA_BTC/);
  });
});

describe('session VWAP agrees with the per-bar reference', () => {
  const cases: [SessionLike, number, string, string][] = [
    ['us-rth', M, '2024-03-07T08:00Z', '2024-03-13T02:00Z'],
    ['cn-a', 5 * M, '2024-06-17T00:00Z', '2024-06-22T00:00Z'],
    ['24x7', 5 * M, '2024-01-01T00:00Z', '2024-01-04T00:00Z'],
  ];
  for (const [session, barMs, from, to] of cases) {
    it(`${session}: sorted and unsorted bars, both prices`, () => {
      const sorted = randomBars(31, from, to, barMs, 0.9);
      for (const a of [sorted, shuffledSome(sorted, 32, 40)]) {
        for (const price of ['typical', 'close'] as const) expect(Array.from(sessionVwapArrays(a, session, price))).toEqual(Array.from(referenceVwap(a, session, price)));
      }
    });
  }

  it('writes into a given buffer; withSessionVwap gives each symbol its own values', () => {
    const a = randomBars(33, '2024-03-11T12:00Z', '2024-03-12T22:00Z', M, 0.9, 'A');
    const b = randomBars(34, '2024-03-11T13:00Z', '2024-03-11T18:00Z', M, 0.9, 'B'); // shorter than A
    const out = new Float64Array(a.ts.length);
    expect(sessionVwapArrays(a, 'us-rth', 'typical', out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(referenceVwap(a, 'us-rth')));
    const vwap = withSessionVwap(arraysToBars([a, b]), 'us-rth').getColumn('vwap').toArray() as number[];
    expect(vwap).toEqual([...referenceVwap(a, 'us-rth'), ...referenceVwap(b, 'us-rth')]);
  });

  it('per-symbol columns come out the same whether the symbols are contiguous or interleaved', () => {
    const a = randomBars(35, '2024-03-11T13:00Z', '2024-03-11T19:00Z', M, 0.9, 'A');
    const b = randomBars(36, '2024-03-11T13:00Z', '2024-03-11T19:00Z', M, 0.9, 'B');
    const contiguous = arraysToBars([a, b]);
    const interleaved = contiguous.sort('ts'); // rows of A and B alternate: no symbol runs
    const byRows = (df: typeof contiguous, col: string): number[] => df.sort(['symbol', 'ts']).getColumn(col).toArray() as number[];
    const expected = {
      vwap: [...referenceVwap(a, 'us-rth'), ...referenceVwap(b, 'us-rth')],
      ret: [...simpleReturns(a.close), ...simpleReturns(b.close)],
      sma: [...rollingMean(a.close, 5), ...rollingMean(b.close, 5)],
    };
    for (const frame of [contiguous, interleaved]) {
      expect(byRows(withSessionVwap(frame, 'us-rth'), 'vwap')).toEqual(expected.vwap);
      expect(byRows(withReturns(frame), 'ret')).toEqual(expected.ret);
      expect(byRows(withSma(frame, 5), 'sma')).toEqual(expected.sma);
    }
    // contiguous symbols keep the frame's row order
    expect(withReturns(contiguous).getColumn('ret').toArray()).toEqual(expected.ret);
    expect(withSma(contiguous, 5).select('ts', 'close').frameEqual(contiguous.select('ts', 'close'))).toBe(true);
  });
});
