// The bad inputs the issue lists, each with the DataError a user gets and can act on.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { DataError } from '../../src/core/errors';
import { loadBars } from '../../src/data/load';
import { validateBars } from '../../src/data/validate';
import { thrownBy } from '../support/errors';

const dir = mkdtempSync(join(tmpdir(), 'qb-bad-'));
const HEADER = 'date,open,high,low,close,volume\n';
function csv(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, HEADER + body);
  return p;
}
const caught = (f: () => unknown): DataError => thrownBy(f, DataError);
const loadAndValidate = (p: string) => validateBars(loadBars(p), { file: p });

describe('bad input gets a DataError naming where', () => {
  it('empty files of every format', () => {
    for (const name of ['e.csv', 'e.json', 'e.parquet', 'e.feather']) {
      const p = join(dir, name);
      writeFileSync(p, '');
      expect(caught(() => loadBars(p)).file).toBe(p);
    }
    expect(caught(() => loadBars(csv('header-only.csv', ''))).message).toMatch(/no rows/);
    expect(caught(() => loadBars(join(dir, 'e.json'))).message).toMatch(/empty file/);
  });

  it('a file that is not what its extension says', () => {
    const p = join(dir, 'text.parquet');
    writeFileSync(p, 'not parquet at all');
    expect(caught(() => loadBars(p)).message).toMatch(/cannot read as Parquet/);
  });

  it('missing columns', () => {
    const p = join(dir, 'nohigh.parquet');
    pl.DataFrame({ date: ['2024-01-02T00:00:00Z'], open: [1], low: [1], close: [1], volume: [1] }).writeParquet(p);
    const e = caught(() => loadBars(p));
    expect([e.column, e.file]).toEqual(['high', p]);
  });

  it('unparseable timestamps', () => {
    const e = caught(() => loadBars(csv('ts.csv', '2024-01-02 10:00,1,1,1,1,1\n2024-13-45 10:01,1,1,1,1,1\n')));
    expect([e.row, e.column, e.value]).toEqual([1, 'date', '2024-13-45 10:01']);
  });

  it('mixed time zones', () => {
    const e = caught(() => loadBars(csv('tz.csv', '2024-01-02T10:00:00+01:00,1,1,1,1,1\n2024-01-02 10:01:00,1,1,1,1,1\n')));
    expect(e.message).toMatch(/mixed time zones: row 0 carries a UTC offset, row 1 has none/);
  });

  it('duplicate and unsorted timestamps (and the repair that fixes them, counted)', () => {
    const dup = csv('dup.csv', '2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:01,1,1,1,1,1\n2024-01-02 10:01,1,1,1,1,2\n');
    expect([caught(() => loadAndValidate(dup)).row, caught(() => loadAndValidate(dup)).problem]).toEqual([2, 'duplicate timestamp (keep the first: --repair dropDuplicates; repair: ["dropDuplicates"] in code)']);
    const uns = csv('uns.csv', '2024-01-02 10:01,1,1,1,1,1\n2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:02,1,1,1,1,1\n');
    expect(caught(() => loadAndValidate(uns)).message).toMatch(/timestamps go backwards.*row 1, column "ts", value 2024-01-02T10:00:00.000Z/);
    expect(validateBars(loadBars(uns), { repair: ['sort'] }).repaired.sort).toBe(2);
  });

  it('NaN and negative prices', () => {
    const nan = csv('nan.csv', '2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:01,1,1,1,NaN,1\n');
    expect([caught(() => loadAndValidate(nan)).row, caught(() => loadAndValidate(nan)).column]).toEqual([1, 'close']);
    const neg = csv('neg.csv', '2024-01-02 10:00,-1,1,-1,1,1\n');
    expect(caught(() => loadAndValidate(neg)).message).toMatch(/price must be finite and positive.*row 0, column "open", value -1/);
    const empty = csv('null.csv', '2024-01-02 10:00,1,1,1,,1\n');
    expect(caught(() => loadAndValidate(empty)).message).toMatch(/column "close", value null/);
  });

  it('OHLC contradictions', () => {
    const p = csv('ohlc.csv', '2024-01-02 10:00,1,2,0.5,1.5,1\n2024-01-02 10:01,1,1.2,1.1,1.1,1\n');
    expect(caught(() => loadAndValidate(p)).message).toMatch(/low above min\(open, close\).*row 1, column "low", value 1.1/);
  });

  it('a folder with mixed intervals names each file and its interval', () => {
    const d = join(dir, 'mixed');
    mkdirSync(d);
    writeFileSync(join(d, 'AAA-1m.csv'), `${HEADER}2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:01,1,1,1,1,1\n`);
    writeFileSync(join(d, 'BBB-5m.csv'), `${HEADER}2024-01-02 10:00,1,1,1,1,1\n2024-01-02 10:05,1,1,1,1,1\n`);
    const e = caught(() => loadBars(d));
    expect(e.message).toMatch(/mixed bar intervals in one folder \(AAA-1m.csv: 1m; BBB-5m.csv: 5m\)/);
    expect(loadBars(d, { allowMixedIntervals: true }).height).toBe(4);
    expect(caught(() => loadBars(join(dir, 'no-such-folder'))).message).toMatch(/no such file or folder/);
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    expect(caught(() => loadBars(empty)).message).toMatch(/folder holds no bar files/);
  });
});
