import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BarStore, loadBars } from '../../src/data';
import { PROVENANCE_MIME, provenance, setDisplaySink, type DisplayMessage } from '../../src/notebook';

afterEach(() => setDisplaySink(null));

describe('a bar store as a notebook\'s data', () => {
  it('provenance.addData declares the store\'s manifest and partitions, and loadBars reads the same path', () => {
    const root = join(mkdtempSync(join(tmpdir(), 'qb-prov-store-')), 'store');
    const store = BarStore.open(root, { create: true });
    const ts = Float64Array.from([Date.parse('2024-01-31T23:59:00Z'), Date.parse('2024-02-01T00:00:00Z')]);
    const one = Float64Array.from([1, 1]);
    store.commit({ kind: 'bars', source: 'binance', symbol: 'BTCUSDT', interval: '1m' }, { ts, cols: { open: one, high: one, low: one, close: one, volume: one } }, [[ts[0], ts[1] + 60_000]], 0);
    const messages: DisplayMessage[] = [];
    setDisplaySink((m) => messages.push(m));
    provenance.addData(root);
    const paths = messages.map((m) => (m.data[PROVENANCE_MIME] as { path: string }).path);
    expect(paths).toEqual([
      join(root, 'quantbook-store.json'),
      join(root, 'bars', 'binance', 'BTCUSDT', '1m', '2024-01.parquet'),
      join(root, 'bars', 'binance', 'BTCUSDT', '1m', '2024-02.parquet'),
    ]);
    expect(loadBars(root).height).toBe(2);
  });
});
