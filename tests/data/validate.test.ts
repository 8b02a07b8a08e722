import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { arraysToBars, barsToArrays, type BarArrays } from '../../src/data/bars';
import { checkBars, checkBarsWithCounts, loadValidBars, validateBars } from '../../src/data/validate';
import { loadBars } from '../../src/data/load';
import { DataError } from '../../src/core/errors';
import { realData } from '../support/paths';
import { randomBars, referenceRuleCounts, withDefects } from './per-bar-reference';
import { thrownBy } from '../support/errors';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkRows, writeCsv } from '../support/csv';

const M = 60_000;
function bars(rows: [number, number, number, number, number, number][], symbol?: string): BarArrays {
  const col = (k: number): Float64Array => Float64Array.from(rows.map((r) => r[k]));
  return { ts: col(0), open: col(1), high: col(2), low: col(3), close: col(4), volume: col(5), ...(symbol ? { symbol } : {}) };
}
const clean = bars([
  [0, 10, 11, 9, 10.5, 100],
  [M, 10.5, 11, 10, 10.8, 50],
  [2 * M, 10.8, 10.9, 10.1, 10.2, 0],
]);

const thrown = (f: () => unknown): DataError => thrownBy(f, DataError);

describe('validateBars', () => {
  it('passes clean bars and reports the interval', () => {
    const r = validateBars(arraysToBars(clean));
    expect(r.repaired).toEqual({ sort: 0, dropDuplicates: 0, dropInvalid: 0 });
    expect(r.intervalMs).toEqual({ '': M });
  });

  it.each([
    ['NaN price', { close: [10.5, Number.NaN, 10.2] }, 'price', 1, 'close'],
    ['negative price', { open: [10, 10.5, -1] }, 'price', 2, 'open'],
    ['high below close', { high: [11, 10.7, 10.9] }, 'ohlc', 1, 'high'],
    ['low above open', { low: [10.2, 10, 10.1] }, 'ohlc', 0, 'low'],
    ['negative volume', { volume: [100, -5, 0] }, 'volume', 1, 'volume'],
    ['duplicate timestamp', { ts: [0, M, M] }, 'duplicate', 2, 'ts'],
    ['unsorted timestamps', { ts: [0, 2 * M, M] }, 'unsorted', 2, 'ts'],
  ])('%s is a DataError naming row and column', (_name, patch, rule, row, column) => {
    const a = { ...clean, ...Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, Float64Array.from(v as number[])])) } as BarArrays;
    const issues = checkBars(arraysToBars(a));
    expect(issues.map((i) => [i.rule, i.row, i.column])).toContainEqual([rule, row, column]);
    const e = thrown(() => validateBars(arraysToBars(a), { file: 'x.csv' }));
    expect(e.file).toBe('x.csv');
    expect(e.row).toBe(row);
    expect(e.column).toBe(column);
    expect(e.message).toMatch(/x\.csv.*row/);
  });

  it('mixed intervals: a step that is not a multiple of the bar interval, or symbols with different intervals', () => {
    const a = { ...clean, ts: Float64Array.from([0, M, 2 * M + 30_000]) };
    const three = bars([[0, 1, 1, 1, 1, 1], [M, 1, 1, 1, 1, 1], [2 * M, 1, 1, 1, 1, 1], [3 * M, 1, 1, 1, 1, 1], [3 * M + 30_000, 1, 1, 1, 1, 1]]);
    expect(() => validateBars(arraysToBars(three))).toThrow(/not a whole multiple of the 1m bar interval.*row 4/);
    expect(validateBars(arraysToBars(three), { allowMixedIntervals: true }).bars.height).toBe(5);
    void a;
    const slow = bars([[0, 1, 1, 1, 1, 1], [5 * M, 1, 1, 1, 1, 1]], 'B');
    expect(() => validateBars(arraysToBars([{ ...clean, symbol: 'A' }, slow]))).toThrow(/different bar intervals \(A: 1m, B: 5m\)/);
  });

  it('nothing is repaired by default; repair says how many rows each rule touched', () => {
    const messy = bars([
      [2 * M, 10.8, 10.9, 10.1, 10.2, 0],
      [0, 10, 11, 9, 10.5, 100],
      [M, 10.5, 11, 10, 10.8, 50],
      [M, 10.5, 11, 10, 10.8, 60],
      [3 * M, 10, 9, 11, 10, 1], // high < low
    ]);
    expect(() => validateBars(arraysToBars(messy))).toThrow(DataError);
    const r = validateBars(arraysToBars(messy), { repair: ['sort', 'dropDuplicates', 'dropInvalid'] });
    expect(r.repaired).toEqual({ dropInvalid: 1, sort: 4, dropDuplicates: 1 }); // after the drop, all four rows move
    const a = barsToArrays(r.bars);
    expect(Array.from(a.ts)).toEqual([0, M, 2 * M]);
    expect(a.volume[1]).toBe(50); // the first of the duplicates is kept
  });

  it('multi-symbol rows are counted within their symbol', () => {
    const b = arraysToBars([{ ...clean, symbol: 'A' }, { ...clean, symbol: 'B', close: Float64Array.from([10.5, 10.8, Number.POSITIVE_INFINITY]) }]);
    const e = thrown(() => validateBars(b));
    expect([e.location.symbol, e.row, e.column]).toEqual(['B', 2, 'close']);
  });

  it('real data: the mark-price file has no volume (null), named as such', () => {
    const mark = loadBars(realData('perp', 'XRP_USDT_USDT-1h-mark.feather'));
    expect(() => validateBars(mark)).toThrow(/volume must be finite and >= 0.*row 0, column "volume", value null/);
    expect(validateBars(loadBars(realData('crypto-5m'))).intervalMs.ETH_BTC).toBe(5 * M);
  });

  it('checks the schema first', () => {
    expect(() => validateBars(pl.DataFrame({ ts: [1], open: [1] }))).toThrow(/ts must be Datetime/);
  });
});

describe('checkBarsWithCounts', () => {
  it('counts every offending row per rule, as checking each rule on each row does', () => {
    const clean = randomBars(41, '2024-01-02T00:00Z', '2024-01-04T00:00Z', M, 1);
    expect(checkBarsWithCounts(arraysToBars(clean)).counts).toEqual(referenceRuleCounts(clean, M));
    for (const seed of [42, 43, 44]) {
      const a = withDefects(clean, seed, 200);
      const { counts, intervalMs } = checkBarsWithCounts(arraysToBars(a));
      const expected = referenceRuleCounts(a, intervalMs['']);
      expect(counts).toEqual(expected);
      expect(Object.values(expected).every((n) => n > 0)).toBe(true);
      // without one interval to hold steps to, repeated and backward steps are still counted
      expect(checkBarsWithCounts(arraysToBars(a), { allowMixedIntervals: true }).counts).toEqual({ ...referenceRuleCounts(a, 0), interval: 0 });
    }
  });
});


describe('loadValidBars: the one way commands read bars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qb-valid-'));

  it('refuses infinite and negative prices and negative volume, naming the row and column', () => {
    const inf = walkRows(20, 3);
    inf[7][2] = Infinity;
    inf[7][4] = Infinity;
    const e1 = thrown(() => loadValidBars(writeCsv(join(dir, 'inf.csv'), inf)));
    expect([e1.problem, e1.row, e1.column, e1.value]).toEqual(['price must be finite and positive', 7, 'high', Infinity]);
    const neg = walkRows(20, 3);
    neg[4][4] = -1;
    const e2 = thrown(() => loadValidBars(writeCsv(join(dir, 'neg.csv'), neg)));
    expect([e2.row, e2.column, e2.value]).toEqual([4, 'close', -1]);
    const vol = walkRows(20, 3);
    vol[11][5] = -5;
    const e3 = thrown(() => loadValidBars(writeCsv(join(dir, 'vol.csv'), vol)));
    expect([e3.problem, e3.row, e3.column, e3.value, e3.file]).toEqual(['volume must be finite and >= 0', 11, 'volume', -5, join(dir, 'vol.csv')]);
  });

  it('passes the recorded data and repairs only when asked', () => {
    expect(loadValidBars(realData('crypto-5m')).bars.height).toBe(46033);
    const dup = walkRows(10, 4);
    dup.splice(5, 0, dup[4]);
    const path = writeCsv(join(dir, 'dup.csv'), dup);
    expect(thrown(() => loadValidBars(path)).problem).toMatch(/^duplicate timestamp \(keep the first: --repair dropDuplicates/);
    expect(loadValidBars(path, { repair: ['dropDuplicates'] }).repaired.dropDuplicates).toBe(1);
  });
});
