import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, OutputError } from '../../../src/core/errors';
import { BarStore, barsToArraysBySymbol, gapSummary, loadBars, loadFundingRates, mergeRanges, readManifest, storeFiles, subtractRanges, type SeriesRows } from '../../../src/data';
import { thrownBy } from '../../support/errors';

const MIN = 60_000;
const JAN31 = Date.parse('2024-01-31T23:57:00Z');

function bars(ts: number[], close: (i: number) => number = (i) => 100 + i): SeriesRows {
  const c = Float64Array.from(ts, (_, i) => close(i));
  return { ts: Float64Array.from(ts), cols: { open: c, high: c.map((x) => x + 1), low: c.map((x) => x - 1), close: c,
    volume: Float64Array.from(ts, () => 5) } };
}

function newStore(): { root: string; store: BarStore } {
  const root = join(mkdtempSync(join(tmpdir(), 'qb-store-')), 'store');
  return { root, store: BarStore.open(root, { create: true, nowMs: Date.parse('2026-01-01T00:00:00Z') }) };
}

const BTC = { kind: 'bars' as const, source: 'binance', symbol: 'BTCUSDT', interval: '1m' };

describe('time ranges', () => {
  it('merge touching ranges and subtract covered parts', () => {
    expect(mergeRanges([[5, 9], [0, 5], [20, 20], [7, 12]])).toEqual([[0, 12]]);
    expect(subtractRanges([[0, 10], [20, 30]], [[2, 4], [8, 22]])).toEqual([[0, 2], [4, 8], [22, 30]]);
    expect(subtractRanges([[0, 10]], [[0, 10]])).toEqual([]);
  });

  it('gapSummary counts runs of missing bars inside fetched ranges, edges included', () => {
    const g = gapSummary(new Float64Array([0, MIN, 4 * MIN, 5 * MIN]), [[0, 8 * MIN]], MIN);
    expect(g).toEqual({ count: 2, missingBars: 4, largest: [[new Date(2 * MIN).toISOString(), new Date(4 * MIN).toISOString()],
      [new Date(6 * MIN).toISOString(), new Date(8 * MIN).toISOString()]] });
  });
});

describe('BarStore', () => {
  it('writes month partitions, merges later commits (counting duplicates and replaced rows) and keeps the manifest in step', () => {
    const { root, store } = newStore();
    const ts = [0, 1, 2, 3, 4, 5].map((k) => JAN31 + k * MIN); // 3 bars in January, 3 in February
    const first = store.commit(BTC, bars(ts.slice(0, 4)), [[ts[0], ts[4]]], Date.parse('2026-01-01T00:01:00Z'));
    expect(first).toEqual({ added: 4, duplicates: 0, replaced: 0 });
    const again = store.commit(BTC, bars(ts.slice(2), (i) => (i === 0 ? 102 : 900 + i)), [[ts[2], ts[5] + MIN]], Date.parse('2026-01-01T00:02:00Z'));
    expect(again).toEqual({ added: 2, duplicates: 1, replaced: 1 });
    expect(readdirSync(join(root, 'bars', 'binance', 'BTCUSDT', '1m')).sort()).toEqual(['2024-01.parquet', '2024-02.parquet']);
    const e = readManifest(root).series['bars/binance/BTCUSDT/1m'];
    expect(e).toMatchObject({ rows: 6, months: ['2024-01', '2024-02'], first: new Date(ts[0]).toISOString(), last: new Date(ts[5]).toISOString(), updated: '2026-01-01T00:02:00.000Z' });
    expect(e.fetched).toEqual([[new Date(ts[0]).toISOString(), new Date(ts[5] + MIN).toISOString()]]);
    const all = store.read(BTC);
    expect(Array.from(all.ts)).toEqual(ts);
    expect(Array.from(all.cols.close)).toEqual([100, 101, 102, 901, 902, 903]);
    expect(Array.from(store.read(BTC, [ts[1], ts[4]]).ts)).toEqual(ts.slice(1, 4));
  });

  it('a commit that cannot write leaves every file as it was and no temporary file behind', () => {
    const { root, store } = newStore();
    store.markPending(BTC, [[JAN31, JAN31 + 10 * MIN]], 0);
    const manifest = readFileSync(join(root, 'quantbook-store.json'), 'utf8');
    // A file where the series folder should go: the partition cannot be written.
    mkdirSync(join(root, 'bars', 'binance'), { recursive: true });
    writeFileSync(join(root, 'bars', 'binance', 'BTCUSDT'), 'in the way');
    const err = thrownBy(() => store.commit(BTC, bars([JAN31]), [[JAN31, JAN31 + MIN]], 1), OutputError);
    expect(err.message).toMatch(/cannot write/);
    expect(readFileSync(join(root, 'quantbook-store.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(root).sort()).toEqual(['bars', 'quantbook-store.json']);
    expect(readdirSync(join(root, 'bars', 'binance'))).toEqual(['BTCUSDT']);
  });

  it('one writer at a time: a second lock fails naming the holder; a lock left by a dead process is taken over', () => {
    const { root, store } = newStore();
    const release = store.lock();
    expect(thrownBy(() => BarStore.open(root).lock(), DataError).message).toContain(`being written by process ${process.pid}`);
    release();
    store.lock()();
    writeFileSync(join(root, '.quantbook-store.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'then' }));
    const again = store.lock();
    expect(JSON.parse(readFileSync(join(root, '.quantbook-store.lock'), 'utf8')).pid).toBe(process.pid);
    again();
    expect(existsSync(join(root, '.quantbook-store.lock'))).toBe(false);
  });

  it('refuses to create a store in a folder that holds other files, and to open a folder without a manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-store-'));
    writeFileSync(join(dir, 'prices.csv'), 'x');
    expect(thrownBy(() => BarStore.open(dir, { create: true }), DataError).message).toMatch(/not empty and holds no quantbook-store.json/);
    expect(thrownBy(() => BarStore.open(dir), DataError).message).toMatch(/not a bar store/);
  });
});

describe('loading from a store', () => {
  function filled(): string {
    const { root, store } = newStore();
    const day = Date.parse('2024-03-01T00:00:00Z');
    const ts = Array.from({ length: 120 }, (_, k) => day + k * MIN);
    store.commit(BTC, bars(ts), [[day, day + 120 * MIN]], 1);
    store.commit({ ...BTC, symbol: 'ETHUSDT' }, bars(ts.slice(0, 60), (i) => 50 + i), [[day, day + 60 * MIN]], 1);
    store.commit({ ...BTC, interval: '1h' }, bars([day]), [[day, day + 3_600_000]], 1);
    store.commit({ kind: 'funding', source: 'binance-futures', symbol: 'BTCUSDT' }, { ts: Float64Array.from([day, day + 8 * 3_600_000]), cols: { rate: Float64Array.from([0.0001, -0.0002]) } }, [[day, day + 9 * 3_600_000]], 1);
    return root;
  }

  it('loadBars(STORE, { symbols, interval, start, end }) reads that slice as a multi-symbol frame', () => {
    const root = filled();
    const b = loadBars(root, { symbols: ['ETHUSDT', 'BTCUSDT'], interval: '1m', start: '2024-03-01T00:30:00Z', end: '2024-03-01T01:00:00Z' });
    expect(b.columns).toEqual(['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
    expect(b.getColumn('symbol').toArray().slice(0, 1)).toEqual(['ETHUSDT']);
    expect(b.height).toBe(60);
    expect(barsToArraysBySymbol(b).get('ETHUSDT')!.close[0]).toBe(80);
  });

  it('a folder inside the store selects what it names; ambiguity and store options on a plain path are errors', () => {
    const root = filled();
    expect(loadBars(join(root, 'bars', 'binance', 'BTCUSDT', '1h')).height).toBe(1);
    expect(loadBars(join(root, 'bars', 'binance', 'ETHUSDT')).height).toBe(60);
    expect(thrownBy(() => loadBars(root), DataError).message).toMatch(/several intervals \(1m, 1h\); pass interval/);
    expect(thrownBy(() => loadBars(root, { interval: '1m', symbols: ['SOLUSDT'] }), DataError).message).toMatch(/holds no bars for SOLUSDT.*binance\/BTCUSDT\/1m/);
    expect(thrownBy(() => loadBars(root, { interval: '1m', start: '2025-01-01' }), DataError).message).toMatch(/holds no bars of/);
    const csv = join(mkdtempSync(join(tmpdir(), 'qb-plain-')), 'a.csv');
    writeFileSync(csv, 'ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,1,1,1,1\n');
    expect(thrownBy(() => loadBars(csv, { symbols: ['A'] }), ConfigError).message).toMatch(/select bars of a bar store/);
  });

  it('loadFundingRates reads one symbol\'s funding from STORE/funding/<source>/<symbol> or the store with a symbol', () => {
    const root = filled();
    const f = loadFundingRates(join(root, 'funding', 'binance-futures', 'BTCUSDT'));
    expect(f.getColumn('rate').toArray()).toEqual([0.0001, -0.0002]);
    expect(loadFundingRates(root, { symbol: 'BTCUSDT' }).height).toBe(2);
    expect(thrownBy(() => loadFundingRates(join(root, 'bars', 'binance')), DataError).message).toMatch(/holds bars, not funding/);
  });

  it('storeFiles lists the manifest and every partition, for provenance', () => {
    const root = filled();
    const files = storeFiles(root).map((f) => f.slice(root.length + 1));
    expect(files).toEqual([
      'quantbook-store.json',
      'bars/binance/BTCUSDT/1h/2024-03.parquet',
      'bars/binance/BTCUSDT/1m/2024-03.parquet',
      'bars/binance/ETHUSDT/1m/2024-03.parquet',
      'funding/binance-futures/BTCUSDT/2024-03.parquet',
    ]);
    expect(files.every((f) => existsSync(join(root, f)))).toBe(true);
  });
});
