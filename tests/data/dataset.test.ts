import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, DEFAULT_DATASET_FILES, loadDefaultDataset, writeDefaultDataset } from '../../src/data/dataset';
import { validateBars } from '../../src/data/validate';
import { barsToArraysBySymbol } from '../../src/data/bars';
import { fundingToArrays } from '../../src/data/load';
import { sessionIndex } from '../../src/data/sessions';

describe('the committed default data set', () => {
  it('regenerates byte-identical from its seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-data-'));
    writeDefaultDataset(dir);
    for (const f of Object.values(DEFAULT_DATASET_FILES)) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(DEFAULT_DATA_DIR, f))), f).toBe(true);
    }
  });

  const ds = loadDefaultDataset();

  it('equities: 3 symbols x 24 RTH days x 390 one-minute bars, across the 2024-03-10 DST change', () => {
    const by = barsToArraysBySymbol(ds.equities);
    expect([...by.keys()]).toEqual(['SYNA', 'SYNB', 'SYNC']);
    const a = by.get('SYNA')!;
    expect(a.ts.length).toBe(24 * 390);
    expect(new Date(a.ts[0]).toISOString()).toBe('2024-02-26T14:30:00.000Z');
    expect(new Date(a.ts[a.ts.length - 1]).toISOString()).toBe('2024-03-28T19:59:00.000Z');
    expect(Array.from(sessionIndex(a.ts, 'us-rth').sessionId).every((id) => id > 0)).toBe(true);
    expect(validateBars(ds.equities).intervalMs).toEqual({ SYNA: 60_000, SYNB: 60_000, SYNC: 60_000 });
  });

  it('crypto: 3 pairs of 5-minute bars with a few recorded gaps; one perpetual with 8-hourly funding', () => {
    const by = barsToArraysBySymbol(ds.crypto);
    expect([...by.keys()]).toEqual(['SYN_BTC', 'SYN_ETH', 'SYN_SOL']);
    for (const a of by.values()) expect(a.ts.length).toBeGreaterThan(28 * 288 * 0.99);
    validateBars(ds.crypto);
    expect(barsToArraysBySymbol(ds.perp).get('SYN_PERP')!.ts.length).toBeGreaterThan(8000);
    const f = fundingToArrays(ds.funding);
    expect(f.ts.length).toBe(83);
    expect(f.ts.every((t) => t % (8 * 3_600_000) === 0)).toBe(true);
  });

  it('carries the regime label the bars were generated under', () => {
    expect(ds.equities.columns.at(-1)).toBe('regime');
    expect(new Set(ds.crypto.getColumn('regime').toArray()).size).toBeGreaterThan(1);
  });
});
