import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { loadBars, alpacaPagesToBars, symbolFromFileName, type AlpacaPage } from '../../../src/data/load';
import { barsToArrays, barsToArraysBySymbol, arraysToBars } from '../../../src/data/bars';
import { DataError } from '../../../src/core/errors';

const dir = mkdtempSync(join(tmpdir(), 'qb-load-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const ts = (path: string, opts = {}): number[] => Array.from(barsToArrays(loadBars(path, opts)).ts);

describe('CSV timestamps', () => {
  it('epoch seconds and milliseconds, with a unit', () => {
    const s = file('s.csv', 'time,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,10\n1700000060,1,2,0.5,1.5,10\n');
    expect(ts(s, { timestamp: { kind: 'epoch', unit: 's' } })).toEqual([1700000000000, 1700000060000]);
    const ms = file('ms.csv', 'time,open,high,low,close,volume\n1700000000000,1,2,0.5,1.5,10\n');
    expect(ts(ms, { timestamp: { kind: 'epoch', unit: 'ms' } })).toEqual([1700000000000]);
  });

  it('numbers without a unit are refused, not guessed', () => {
    const s = file('nounit.csv', 'time,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,10\n');
    expect(() => loadBars(s)).toThrow(/numeric timestamps need a unit/);
  });

  it('ISO strings with offsets are instants; naive ones are wall time in the given zone, DST-correct', () => {
    const z = file('z.csv', 'date,open,high,low,close,volume\n2024-03-08T14:30:00Z,1,1,1,1,1\n2024-03-11T09:30:00-04:00,1,1,1,1,1\n');
    expect(ts(z).map((t) => new Date(t).toISOString())).toEqual(['2024-03-08T14:30:00.000Z', '2024-03-11T13:30:00.000Z']);
    // US DST began 2024-03-10: 09:30 New York is 14:30Z before, 13:30Z after.
    const n = file('n.csv', 'date,open,high,low,close,volume\n2024-03-08 09:30:00,1,1,1,1,1\n2024-03-11 09:30:00,1,1,1,1,1\n2024-11-04 09:30,1,1,1,1,1\n');
    expect(ts(n, { timeZone: 'America/New_York' }).map((t) => new Date(t).toISOString())).toEqual([
      '2024-03-08T14:30:00.000Z',
      '2024-03-11T13:30:00.000Z',
      '2024-11-04T14:30:00.000Z',
    ]);
  });

  it('a strftime pattern and configurable column names', () => {
    const p = file('p.csv', 'When;O;Hi;Lo;Last;Qty;sym\n18/06/2024 09:35;10;11;9;10.5;100;AAA\n');
    const bars = loadBars(p, {
      separator: ';',
      timestamp: { kind: 'pattern', pattern: '%d/%m/%Y %H:%M' },
      timeZone: 'Asia/Shanghai',
      columns: { ts: 'When', open: 'O', high: 'Hi', low: 'Lo', close: 'Last', volume: 'Qty', symbol: 'sym' },
    });
    expect(bars.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
    const a = barsToArrays(bars);
    expect([new Date(a.ts[0]).toISOString(), a.symbol, a.close[0], a.volume[0]]).toEqual(['2024-06-18T01:35:00.000Z', 'AAA', 10.5, 100]);
  });

  it('mixed zones, unparseable values, DST gaps and repeats are DataErrors naming the row', () => {
    const mixed = file('mixed.csv', 'date,open,high,low,close,volume\n2024-01-02 10:00,1,1,1,1,1\n2024-01-02T10:01:00Z,1,1,1,1,1\n');
    expect(() => loadBars(mixed)).toThrow(/mixed time zones.*row 1/);
    const bad = file('bad.csv', 'date,open,high,low,close,volume\n2024-01-02 10:00,1,1,1,1,1\nyesterday,1,1,1,1,1\n');
    expect(() => loadBars(bad)).toThrow(/unparseable timestamp.*row 1, column "date", value "yesterday"/);
    const gap = file('gap.csv', 'date,open,high,low,close,volume\n2024-03-10 02:30,1,1,1,1,1\n');
    expect(() => loadBars(gap, { timeZone: 'America/New_York' })).toThrow(/does not exist in America\/New_York/);
    const rep = file('rep.csv', 'date,open,high,low,close,volume\n2024-11-03 01:30,1,1,1,1,1\n');
    expect(() => loadBars(rep, { timeZone: 'America/New_York' })).toThrow(/occurs twice/);
    expect(ts(rep, { timeZone: 'America/New_York', ambiguous: 'earliest' })).toEqual([Date.parse('2024-11-03T05:30:00Z')]);
    expect(ts(rep, { timeZone: 'America/New_York', ambiguous: 'latest' })).toEqual([Date.parse('2024-11-03T06:30:00Z')]);
  });

  it('missing columns, non-numeric prices and empty files are DataErrors', () => {
    expect(() => loadBars(file('nocol.csv', 'date,open,high,low,close\n2024-01-02,1,1,1,1\n'))).toThrow(/missing column.*column "volume"/);
    expect(() => loadBars(file('nots.csv', 'x,open,high,low,close,volume\n1,1,1,1,1,1\n'))).toThrow(/missing timestamp column/);
    expect(() => loadBars(file('text.csv', 'date,open,high,low,close,volume\n2024-01-02,1,1,1,abc,1\n'))).toThrow(/not a number.*row 0, column "close", value "abc"/);
    expect(() => loadBars(file('empty.csv', ''))).toThrow(DataError);
    expect(() => loadBars(file('header.csv', 'date,open,high,low,close,volume\n'))).toThrow(/no rows/);
    expect(() => loadBars(join(dir, 'nope.csv'))).toThrow(/no such file/);
    expect(() => loadBars(file('x.xlsx', 'a'))).toThrow(/unknown file type/);
  });
});

describe('datetime columns', () => {
  it('naive datetimes in Parquet are wall time in the given zone; zoned ones keep their instant', () => {
    const p = join(dir, 'naive.parquet');
    const wall = Date.UTC(2024, 2, 11, 9, 30); // 09:30 New York on the first EDT Monday
    pl.DataFrame([pl.Series('date', [wall, wall]).cast(pl.Int64).cast(pl.Datetime('ms')), ...['open', 'high', 'low', 'close', 'volume'].map((c) => pl.Series(c, [1, 1]))]).writeParquet(p);
    expect(ts(p, { timeZone: 'America/New_York' })).toEqual([Date.parse('2024-03-11T13:30:00Z'), Date.parse('2024-03-11T13:30:00Z')]);
    expect(ts(p)).toEqual([wall, wall]); // naive read as UTC by default
    const z = join(dir, 'zoned.parquet');
    pl.DataFrame([pl.Series('date', [wall]).cast(pl.Int64).cast(pl.Datetime('ms', 'Asia/Shanghai')), ...['open', 'high', 'low', 'close', 'volume'].map((c) => pl.Series(c, [1]))]).writeParquet(z);
    expect(ts(z, { timeZone: 'America/New_York' })).toEqual([wall]);
  });
});

describe('JSON', () => {
  it('kline rows with string numbers (as exchanges send them)', () => {
    const p = file('k.json', '[[1509836520000,"1.5","2","1","1.75","10.5",1509836579999]]');
    const a = barsToArrays(loadBars(p));
    expect([a.ts[0], a.open[0], a.high[0], a.low[0], a.close[0], a.volume[0]]).toEqual([1509836520000, 1.5, 2, 1, 1.75, 10.5]);
    expect(() => loadBars(file('short.json', '[[1,2,3]]'))).toThrow(/at least 6 elements.*row 0/);
    expect(() => loadBars(file('broken.json', '[[1,2'))).toThrow(/invalid JSON/);
  });

  const page1: AlpacaPage = {
    bars: {
      AAPL: [
        { t: '2024-01-02T14:30:00Z', o: 187.15, h: 188.44, l: 187.1, c: 188.2, v: 1000 },
        { t: '2024-01-02T14:31:00Z', o: 188.2, h: 188.3, l: 187.9, c: 188.0, v: 900 },
      ],
      MSFT: [{ t: '2024-01-02T14:30:00Z', o: 370.1, h: 371, l: 370, c: 370.5, v: 500 }],
    },
    next_page_token: 'abc',
  };
  const page2: AlpacaPage = { bars: { MSFT: [{ t: '2024-01-02T14:31:00Z', o: 370.5, h: 370.9, l: 370.2, c: 370.8, v: 400 }] }, next_page_token: null };

  it('Alpaca pages merge into one multi-symbol frame', () => {
    const bars = alpacaPagesToBars([page1, page2]);
    const by = barsToArraysBySymbol(bars);
    expect([...by.keys()]).toEqual(['AAPL', 'MSFT']);
    expect(Array.from(by.get('MSFT')!.close)).toEqual([370.5, 370.8]);
    expect(Array.from(by.get('AAPL')!.ts)).toEqual([Date.parse('2024-01-02T14:30:00Z'), Date.parse('2024-01-02T14:31:00Z')]);
    // the same pages as an array file and as one page per line
    expect(loadBars(file('pages.json', JSON.stringify([page1, page2]))).height).toBe(4);
    expect(loadBars(file('pages.jsonl', `${JSON.stringify(page1)}\n${JSON.stringify(page2)}\n`)).height).toBe(4);
  });

  it('a broken page chain is an error, not a silent loss', () => {
    expect(() => alpacaPagesToBars([page1])).toThrow(/last page still has a next_page_token/);
    expect(() => alpacaPagesToBars([page2, page1])).toThrow(/no next_page_token but more pages follow/);
  });
});

describe('folders', () => {
  it('symbol from the file name', () => {
    expect(symbolFromFileName('ETH_BTC-5m.feather')).toBe('ETH_BTC');
    expect(symbolFromFileName('XRP_USDT_USDT-8h-funding_rate.feather')).toBe('XRP_USDT_USDT');
    expect(symbolFromFileName('AAPL.parquet')).toBe('AAPL');
  });

  it('mixed formats in one folder give one frame; a repeated symbol is refused', () => {
    const d = join(dir, 'mix');
    mkdirSync(d);
    writeFileSync(join(d, 'AAA-1m.csv'), 'date,open,high,low,close,volume\n2024-01-02T00:00:00Z,1,1,1,1,1\n2024-01-02T00:01:00Z,2,2,2,2,2\n');
    arraysToBars({ ts: new Float64Array([1704153600000, 1704153660000]), open: new Float64Array([3, 4]), high: new Float64Array([3, 4]), low: new Float64Array([3, 4]), close: new Float64Array([3, 4]), volume: new Float64Array([1, 1]) }).writeParquet(join(d, 'BBB-1m.parquet'));
    const bars = loadBars(d);
    expect(barsToArraysBySymbol(bars).get('BBB')!.close[1]).toBe(4);
    expect(bars.height).toBe(4);
    writeFileSync(join(d, 'AAA-1m.json'), '[[1704153600000,1,1,1,1,1]]');
    expect(() => loadBars(d)).toThrow(/symbol AAA comes from two files/);
  });

  it('extra columns asked for with keep survive a folder load', () => {
    const d = join(dir, 'keep');
    mkdirSync(d);
    writeFileSync(join(d, 'AAA-1m.csv'), 'date,open,high,low,close,volume,regime\n2024-01-02T00:00:00Z,1,1,1,1,1,calm\n2024-01-02T00:01:00Z,2,2,2,2,2,storm\n');
    pl.DataFrame([
      pl.Series('ts', [1704153600000, 1704153660000]).cast(pl.Datetime('ms', 'UTC')),
      ...['open', 'high', 'low', 'close', 'volume'].map((c) => pl.Series(c, [3, 4], pl.Float64)),
      pl.Series('regime', ['storm', 'calm']),
    ]).writeParquet(join(d, 'BBB-1m.parquet'));
    const bars = loadBars(d, { keep: ['regime'] });
    expect(bars.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'regime']);
    expect(bars.getColumn('symbol').toArray()).toEqual(['AAA', 'AAA', 'BBB', 'BBB']);
    expect(bars.getColumn('regime').toArray()).toEqual(['calm', 'storm', 'storm', 'calm']);
    expect(loadBars(d).columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
  });
});

describe('typed-array adapters', () => {
  it('round trip Bars -> arrays -> Bars', () => {
    const a = { ts: new Float64Array([0, 60_000]), open: new Float64Array([1, 2]), high: new Float64Array([2, 3]), low: new Float64Array([0.5, 1]), close: new Float64Array([1.5, 2.5]), volume: new Float64Array([10, 20]), symbol: 'X' };
    const bars = arraysToBars(a);
    expect(bars.getColumn('ts').dtype.equals(pl.Datetime('ms', 'UTC'))).toBe(true);
    expect(barsToArrays(bars)).toEqual(a);
    expect(() => barsToArrays(arraysToBars([a, { ...a, symbol: 'Y' }]))).toThrow(/needs one symbol/);
  });
});
