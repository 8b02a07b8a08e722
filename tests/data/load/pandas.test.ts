import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { barsToArrays } from '../../../src/data/bars';
import { loadBars } from '../../../src/data/load';
import { realData } from '../../support/paths';

const FIXTURES = join(__dirname, '..', 'fixtures');
const SHARE = join(FIXTURES, 'pandas-a-share.csv');
const DAILY = join(FIXTURES, 'pandas-daily-tz.csv');
const PY = '/usr/bin/python3';
const hasPandas = spawnSync(PY, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0;

describe('pandas df.to_csv() files: the index in an unnamed first column', () => {
  it('loads the recorded A-share bars written by pandas, equal to the original file', () => {
    expect(readFileSync(SHARE, 'utf8').split('\n')[0]).toBe(',Open,High,Low,Close,Volume');
    const fromPandas = barsToArrays(loadBars(SHARE));
    const original = barsToArrays(loadBars(realData('a-share-5m.csv')));
    expect(fromPandas.ts.length).toBe(120);
    for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) expect(Array.from(fromPandas[c])).toEqual(Array.from(original[c].subarray(0, 120)));
  });

  it('a UTC-aware index (+00:00) and --column ts= (the empty name) give the same bars', () => {
    const a = barsToArrays(loadBars(DAILY));
    expect(new Date(a.ts[0]).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(new Date(a.ts[29]).toISOString()).toBe('2024-02-12T00:00:00.000Z');
    expect(Array.from(barsToArrays(loadBars(DAILY, { columns: { ts: '' } })).close)).toEqual(Array.from(a.close));
  });

  it('a named timestamp column still wins over the unnamed index (a RangeIndex of row numbers)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pandas-'));
    const f = join(dir, 'range-index.csv');
    writeFileSync(f, ',Date,Open,High,Low,Close,Volume\n0,2024-01-02,1,2,0.5,1.5,10\n1,2024-01-03,1.5,2,1,1.2,11\n');
    const a = barsToArrays(loadBars(f));
    expect(Array.from(a.ts)).toEqual([Date.parse('2024-01-02T00:00Z'), Date.parse('2024-01-03T00:00Z')]);
  });

  it.skipIf(!hasPandas)('the committed fixtures are what Debian\'s python3-pandas writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-pandas-'));
    const r = spawnSync(PY, [join(FIXTURES, 'make-pandas-csv.py'), dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(readFileSync(join(dir, 'pandas-a-share.csv'), 'utf8')).toBe(readFileSync(SHARE, 'utf8'));
    expect(readFileSync(join(dir, 'pandas-daily-tz.csv'), 'utf8')).toBe(readFileSync(DAILY, 'utf8'));
  });
});
