// Every file under ../shared/data/real loads, with its row count, time span and a few known values.
// Known values were read from the files (feather via polars' own reader; CSV and JSON cross-checked with pandas).
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { loadBars, loadFundingRates, fundingCoverage, fundingToArrays } from '../../src/data/load';
import { barsToArrays, barsToArraysBySymbol } from '../../src/data/bars';
import { realData } from '../support/paths';

const iso = (ms: number): string => new Date(ms).toISOString();

describe('crypto-5m folder', () => {
  const bars = loadBars(realData('crypto-5m'));
  const bySymbol = barsToArraysBySymbol(bars);

  it('gives one multi-symbol frame with the symbol from each file name', () => {
    expect(bars.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
    expect([...bySymbol.keys()]).toEqual(['ADA_BTC', 'ETC_BTC', 'ETH_BTC', 'LTC_BTC', 'NXT_BTC', 'TRX_BTC', 'UNITTEST_BTC', 'XLM_BTC']);
    expect(bars.height).toBe(46033);
  });

  it.each([
    ['ADA_BTC', 5720, '2018-01-30T04:50:00.000Z'],
    ['ETC_BTC', 5759, '2018-01-30T04:45:00.000Z'],
    ['ETH_BTC', 5760, '2018-01-30T04:50:00.000Z'],
    ['TRX_BTC', 5754, '2018-01-30T04:50:00.000Z'],
  ])('%s has %d bars up to %s', (symbol, n, last) => {
    const a = bySymbol.get(symbol)!;
    expect(a.ts.length).toBe(n);
    expect(iso(a.ts[0])).toBe('2018-01-10T04:55:00.000Z');
    expect(iso(a.ts[n - 1])).toBe(last);
  });

  it('keeps known prices; UNITTEST_BTC is a copy of ETH_BTC', () => {
    const eth = bySymbol.get('ETH_BTC')!;
    expect(eth.open[0]).toBe(0.0984);
    expect(eth.high[0]).toBe(0.0994766);
    expect(eth.low[0]).toBe(0.09828605);
    expect(eth.volume[0]).toBe(1820.54447418);
    expect(eth.close.reduce((s, x) => s + x, 0)).toBeCloseTo(538.66992235, 6);
    expect(Array.from(bySymbol.get('UNITTEST_BTC')!.close)).toEqual(Array.from(eth.close));
  });
});

describe('crypto-1m', () => {
  it('UNITTEST_BTC-1m.feather and the kline JSON hold the same 13,681 bars', () => {
    const f = barsToArrays(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.feather')));
    const j = barsToArrays(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.json')));
    expect(f.ts.length).toBe(13681);
    expect(iso(f.ts[0])).toBe('2017-11-04T23:02:00.000Z');
    expect(iso(f.ts[13680])).toBe('2017-11-14T22:59:00.000Z');
    // The feather copy differs from the JSON by at most one ulp (float formatting on export).
    expect(Array.from(j.ts)).toEqual(Array.from(f.ts));
    for (const c of ['open', 'high', 'low', 'close', 'volume'] as const) {
      let worst = 0;
      for (let i = 0; i < f[c].length; i++) worst = Math.max(worst, Math.abs(j[c][i] - f[c][i]) / Math.abs(f[c][i] || 1));
      expect(worst).toBeLessThan(1e-15);
    }
    // pandas on the JSON: row 100, volume sum, max close, min low
    expect([j.ts[100], j.open[100], j.volume[100]]).toEqual([1509845040000, 0.00158274, 79.88815476]);
    expect(j.volume.reduce((s, x) => s + x, 0)).toBeCloseTo(8177281.909042029, 6);
    expect(Math.max(...j.close)).toBe(0.00366998);
    expect(Math.min(...j.low)).toBe(0.00157792);
  });

  it('UNITTEST_BTC-30m.feather: 1,920 bars', () => {
    const a = barsToArrays(loadBars(realData('crypto-1m', 'UNITTEST_BTC-30m.feather')));
    expect(a.ts.length).toBe(1920);
    expect(iso(a.ts[0])).toBe('2017-12-03T13:00:00.000Z');
    expect(iso(a.ts[1919])).toBe('2018-01-12T12:30:00.000Z');
    expect([iso(a.ts[500]), a.open[500], a.high[500], a.low[500], a.close[500], a.volume[500]]).toEqual([
      '2017-12-13T23:00:00.000Z', 0.04189999, 0.04265, 0.04166054, 0.04250019, 3297.13609972,
    ]);
  });

  it('XRP_ETH-1m.feather: 2,469 bars', () => {
    const a = barsToArrays(loadBars(realData('crypto-1m', 'XRP_ETH-1m.feather')));
    expect(a.ts.length).toBe(2469);
    expect(iso(a.ts[0])).toBe('2019-10-11T00:00:00.000Z');
    expect(iso(a.ts[2468])).toBe('2019-10-13T11:19:00.000Z');
    expect([a.close[500], a.volume[500]]).toEqual([0.00144636, 276]);
    expect(a.volume.reduce((s, x) => s + x, 0)).toBe(5545735);
  });

  it('the folder mixes 1m and 30m files and says so', () => {
    expect(() => loadBars(realData('crypto-1m'), { symbolFromName: (f) => f })).toThrow(/mixed bar intervals.*UNITTEST_BTC-30m.feather: 30m/);
  });
});

describe('perpetual', () => {
  it('5m futures: 1,999 bars', () => {
    const a = barsToArrays(loadBars(realData('perp', 'XRP_USDT_USDT-5m-futures.feather')));
    expect(a.ts.length).toBe(1999);
    expect(iso(a.ts[0])).toBe('2021-11-15T00:00:00.000Z');
    expect(iso(a.ts[1998])).toBe('2021-11-21T22:30:00.000Z');
    expect([a.open[0], a.high[0], a.low[0], a.close[0], a.volume[0]]).toEqual([1.1893, 1.1954, 1.1891, 1.1941, 9289043.5]);
  });

  it('1h mark price: 100 bars and no volume (null, which validation reports)', () => {
    const bars = loadBars(realData('perp', 'XRP_USDT_USDT-1h-mark.feather'));
    expect(bars.height).toBe(100);
    expect(bars.getColumn('volume').nullCount()).toBe(100);
    const a = barsToArrays(bars);
    expect(iso(a.ts[0])).toBe('2021-11-15T06:00:00.000Z');
    expect(iso(a.ts[99])).toBe('2021-11-19T09:00:00.000Z');
    expect(a.close[0]).toBe(1.21431);
    expect(Number.isNaN(a.volume[0])).toBe(true);
  });

  it('8h funding: 91 rates from the open column, with the recorded millisecond jitter', () => {
    const f = fundingToArrays(loadFundingRates(realData('perp', 'XRP_USDT_USDT-8h-funding_rate.feather')));
    expect(f.ts.length).toBe(91);
    expect(iso(f.ts[0])).toBe('2021-11-18T00:00:00.017Z');
    expect(iso(f.ts[90])).toBe('2021-12-18T00:00:00.014Z');
    expect(f.rate[0]).toBe(0.0001);
  });

  it('funding coverage of the 5m futures bars: 9 of 21 funding times lie before the series starts', () => {
    const f = fundingToArrays(loadFundingRates(realData('perp', 'XRP_USDT_USDT-8h-funding_rate.feather')));
    const bars = barsToArrays(loadBars(realData('perp', 'XRP_USDT_USDT-5m-futures.feather')));
    const from = bars.ts[0];
    const to = bars.ts[bars.ts.length - 1];
    expect([iso(from), iso(to)]).toEqual(['2021-11-15T00:00:00.000Z', '2021-11-21T22:30:00.000Z']);
    const c = fundingCoverage(f, from, to);
    expect(c).toEqual({ from: '2021-11-18T00:00:00.017Z', to: '2021-12-18T00:00:00.014Z', intervalMs: 28_800_000, fundingTimes: 21, uncoveredFundingTimes: 9 });
    // what the engine charges: the series' times in (first bar, last bar]
    expect(Array.from(f.ts).filter((t) => t > from && t <= to).length).toBe(c.fundingTimes - c.uncoveredFundingTimes);
    // a hole of two funding times inside the span is counted too; a span inside the series has none
    const holed = { ts: Float64Array.from([...f.ts.subarray(0, 3), ...f.ts.subarray(5)]),
      rate: Float64Array.from([...f.rate.subarray(0, 3), ...f.rate.subarray(5)]) };
    expect(fundingCoverage(holed, from, to).uncoveredFundingTimes).toBe(11);
    expect(fundingCoverage(f, Date.parse('2021-11-19T00:00Z'), Date.parse('2021-11-21T00:00Z'))).toMatchObject({ fundingTimes: 6, uncoveredFundingTimes: 0 });
  });
});

describe('A-share CSV (UTC+8, bars stamped at their end)', () => {
  const bars = loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000, keep: ['amount'] });
  it('2,500 bars, first 2024-06-18 11:15 local (03:10Z start), last 2024-08-29 11:30 local', () => {
    expect(bars.height).toBe(2500);
    expect(bars.columns).toEqual(['ts', 'open', 'high', 'low', 'close', 'volume', 'amount']);
    const a = barsToArrays(bars);
    expect(iso(a.ts[0])).toBe('2024-06-18T03:10:00.000Z');
    expect(iso(a.ts[2499])).toBe('2024-08-29T03:25:00.000Z');
    // pandas: first row, last row, sums
    expect([a.open[0], a.high[0], a.low[0], a.close[0], a.volume[0]]).toEqual([11.27, 11.28, 11.26, 11.27, 379]);
    expect([a.close[2499], a.volume[2499]]).toEqual([9.88, 349]);
    expect(a.volume.reduce((s, x) => s + x, 0)).toBe(3175911);
    expect(a.close.reduce((s, x) => s + x, 0)).toBeCloseTo(26354.18, 6);
    expect(bars.getColumn('amount').get(0)).toBe(427161);
  });
  it('read as naive UTC by default', () => {
    const plain = loadBars(realData('a-share-5m.csv'));
    expect(iso(barsToArrays(plain).ts[0])).toBe('2024-06-18T11:15:00.000Z');
    expect(plain.getColumn('ts').dtype.equals(pl.Datetime('ms', 'UTC'))).toBe(true);
  });
});
