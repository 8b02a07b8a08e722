import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors';
import { barsToArrays, fetchToStore, loadBars, loadFundingRates, readManifest, type FetchOptions } from '../../../src/data';
import { aggregate, asServed, binanceFake, fakeClock, RECORDED, type FakeServer } from './fakeServers';

const BTC = RECORDED.btc1m();
const MIN = 60_000;
const D0 = Date.parse('2017-11-05T00:00:00Z');
const D1 = D0 + 360 * MIN; // six hours: four windows of 100 bars

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(data: Parameters<typeof binanceFake>[0], clock?: { now(): number }): Promise<FakeServer> {
  const s = await binanceFake(data, clock);
  servers.push(s);
  return s;
}

function storeDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'qb-fetch-')), 'store');
}

function opts(server: FakeServer, to: string, extra: Partial<FetchOptions> = {}): FetchOptions {
  return { source: 'binance', symbols: ['BTCUSDT'], interval: '1m', start: D0, end: D1, to, baseUrl: server.url, pageBars: 100, retry: { baseDelayMs: 100 }, clock: fakeClock(), ...extra };
}

function stored(store: string, symbol = 'BTCUSDT'): { ts: number[]; close: number[]; high: number[] } {
  const a = barsToArrays(loadBars(store, { symbols: [symbol] }));
  return { ts: Array.from(a.ts), close: Array.from(a.close), high: Array.from(a.high) };
}

async function rejection(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected the fetch to fail');
}

describe('binance connector into the bar store', () => {
  it('stores every bar of the range once, paging by windows of the page size through the recording\'s own gaps', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    const to = storeDir();
    const report = await fetchToStore(opts(server, to));
    const served = asServed(BTC, D0, D1);
    expect(stored(to)).toEqual(served);
    expect(report.series[0].added).toBe(served.ts.length);
    expect(served.ts.length).toBeLessThan(360); // the recording misses bars: real gaps
    expect(server.requests.map((r) => [r.path, Number(r.query.startTime), Number(r.query.endTime), r.query.limit])).toEqual([
      ['/api/v3/klines', D0, D0 + 100 * MIN - 1, '100'],
      ['/api/v3/klines', D0 + 100 * MIN, D0 + 200 * MIN - 1, '100'],
      ['/api/v3/klines', D0 + 200 * MIN, D0 + 300 * MIN - 1, '100'],
      ['/api/v3/klines', D0 + 300 * MIN, D1 - 1, '100'],
    ]);
    const entry = readManifest(to).series['bars/binance/BTCUSDT/1m'];
    expect(entry.fetched).toEqual([[new Date(D0).toISOString(), new Date(D1).toISOString()]]);
    expect(entry.pending).toEqual([]);
    expect(entry.gaps!.missingBars).toBe(360 - served.ts.length);
  });

  it('retries 429 and 418 after their Retry-After, and 5xx, a timeout, a dropped connection and truncated JSON after backoff', async () => {
    const clock = fakeClock();
    const server = await start({ klines: { BTCUSDT: BTC } }, clock);
    server.faults.set(0, { kind: 'status', status: 429, retryAfter: '3' });
    server.faults.set(1, { kind: 'status', status: 503 });
    server.faults.set(2, { kind: 'status', status: 418, retryAfter: '7' });
    server.faults.set(3, { kind: 'truncated' });
    server.faults.set(4, { kind: 'timeout', delayMs: 3000 });
    server.faults.set(5, { kind: 'drop' });
    const to = storeDir();
    const report = await fetchToStore(opts(server, to, { clock, timeoutMs: 1000, retry: { baseDelayMs: 100, maxRetries: 8, seed: 3 } }));
    expect(stored(to)).toEqual(asServed(BTC, D0, D1));
    expect(report.retries).toBe(6);
    expect(report.requests).toBe(4 + 6);
    // The waits, in order: Retry-After 3 s; backoff after the 503 (retry 2: [100, 200) ms); Retry-After 7 s;
    // then backoff after the truncated body, the timeout and the dropped connection (retries 4-6).
    const s = clock.sleeps;
    expect(s[0]).toBe(3000);
    expect(s[1]).toBeGreaterThanOrEqual(100);
    expect(s[1]).toBeLessThan(200);
    expect(s[2]).toBe(7000);
    expect(s[3]).toBeGreaterThanOrEqual(400);
    expect(s[3]).toBeLessThan(800);
    expect(s[4]).toBeGreaterThanOrEqual(800);
    expect(s[4]).toBeLessThan(1600);
    expect(s[5]).toBeGreaterThanOrEqual(1600);
    expect(s[5]).toBeLessThan(3200);
    expect(server.requests[1].atMs - server.requests[0].atMs).toBe(3000);
    expect(server.requests[3].atMs - server.requests[2].atMs).toBe(7000);
  });

  it('gives up with a DataError after the last retry, naming provider, symbol and the last failure', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    for (let i = 0; i < 3; i++) server.faults.set(i, { kind: 'status', status: 502 });
    const err = await rejection(fetchToStore(opts(server, storeDir(), { retry: { baseDelayMs: 10, maxRetries: 2 } })));
    expect(err.message).toContain('binance: gave up after 3 attempts; last: HTTP 502');
    expect(err.location.symbol).toBe('BTCUSDT');
  });

  it('drops rows that overlap the previous page, rows repeated in a page, and asks again for a stale page: every bar once', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    // Overlap enough rows that the second page comes back full and ends 10 bars short of its window.
    const w1 = asServed(BTC, D0 + 100 * MIN, D0 + 200 * MIN);
    const overlap = 100 - w1.ts.length + 10;
    server.faults.set(1, { kind: 'overlap', rows: overlap });
    server.faults.set(2, { kind: 'duplicateRows' });
    server.faults.set(3, { kind: 'stale' });
    const to = storeDir();
    const report = await fetchToStore(opts(server, to));
    expect(stored(to)).toEqual(asServed(BTC, D0, D1));
    const r = report.series[0];
    expect(r.outside).toBe(overlap);
    expect(r.stale).toBe(1);
    expect(r.duplicates).toBeGreaterThan(0);
    expect(r.added).toBe(asServed(BTC, D0, D1).ts.length);
    // The overlapping page was full, so it covered only up to its last bar, and the next window started right after it.
    expect(Number(server.requests[2].query.startTime)).toBe(w1.ts[w1.ts.length - 11] + MIN);
  });

  it('goes on past an empty window (an outage longer than a page) and records it as a known gap', async () => {
    const holeFrom = D0 + 120 * MIN;
    const holeTo = D0 + 300 * MIN;
    const keep = Array.from(BTC.ts.keys()).filter((i) => BTC.ts[i] < holeFrom || BTC.ts[i] >= holeTo);
    const pick = (x: Float64Array): Float64Array => Float64Array.from(keep, (i) => x[i]);
    const holey = { ts: pick(BTC.ts), open: pick(BTC.open), high: pick(BTC.high), low: pick(BTC.low), close: pick(BTC.close), volume: pick(BTC.volume) };
    const server = await start({ klines: { BTCUSDT: holey } });
    const to = storeDir();
    await fetchToStore(opts(server, to));
    expect(stored(to)).toEqual(asServed(holey, D0, D1));
    expect(stored(to).ts.at(-1)).toBeGreaterThanOrEqual(holeTo);
    const gaps = readManifest(to).series['bars/binance/BTCUSDT/1m'].gaps!;
    expect(gaps.largest[0][1]).toBe(new Date(holeTo).toISOString());
    expect(Date.parse(gaps.largest[0][0])).toBeLessThanOrEqual(holeFrom);
  });

  it('rejects a page with a bar that fails validation, naming provider, symbol and time; stores nothing of it; the next fetch resumes there', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    server.faults.set(2, { kind: 'badBar', index: 10 });
    const to = storeDir();
    const err = await rejection(fetchToStore(opts(server, to)));
    const window = asServed(BTC, D0 + 200 * MIN, D0 + 300 * MIN);
    const badTime = new Date(window.ts[10]).toISOString();
    expect(err.message).toContain(`binance BTCUSDT 1m: page rejected, nothing of it stored: high below max(open, close) at ${badTime}`);
    expect(err.location.symbol).toBe('BTCUSDT');
    expect(stored(to)).toEqual(asServed(BTC, D0, D0 + 200 * MIN));
    const entry = readManifest(to).series['bars/binance/BTCUSDT/1m'];
    expect(entry.pending).toEqual([[new Date(D0 + 200 * MIN).toISOString(), new Date(D1).toISOString()]]);
    server.faults.clear();
    const before = server.requests.length;
    await fetchToStore(opts(server, to));
    expect(server.requests.slice(before).map((r) => Number(r.query.startTime))).toEqual([D0 + 200 * MIN, D0 + 300 * MIN]);
    expect(stored(to)).toEqual(asServed(BTC, D0, D1));
    expect(readManifest(to).series['bars/binance/BTCUSDT/1m'].pending).toEqual([]);
  });

  it('keeps what an interrupted fetch stored and resumes without asking for it again; a second fetch of stored data asks nothing', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    const to = storeDir();
    const stop = new AbortController();
    let pages = 0;
    const progress = { begin() {}, end() {}, note() {}, update() { if (++pages === 2) stop.abort(); } };
    const err = await rejection(fetchToStore(opts(server, to, { signal: stop.signal, progress })));
    expect(err.message).toContain('fetch interrupted');
    expect(server.requests.length).toBe(2);
    expect(stored(to)).toEqual(asServed(BTC, D0, D0 + 200 * MIN));
    await fetchToStore(opts(server, to));
    expect(server.requests.slice(2).map((r) => Number(r.query.startTime))).toEqual([D0 + 200 * MIN, D0 + 300 * MIN]);
    expect(stored(to)).toEqual(asServed(BTC, D0, D1));
    const again = await fetchToStore(opts(server, to));
    expect(server.requests.length).toBe(4);
    expect(again.requests).toBe(0);
    expect(again.series[0].asked).toEqual([]);
    // A later end asks only for the new part.
    await fetchToStore(opts(server, to, { end: D1 + 60 * MIN }));
    expect(server.requests.slice(4).map((r) => [Number(r.query.startTime), Number(r.query.endTime)])).toEqual([[D1, D1 + 60 * MIN - 1]]);
  });

  it('stays within the weight budget per minute, and waits out a window when the used-weight header says it is spent', async () => {
    const clock = fakeClock();
    const server = await start({ klines: { BTCUSDT: BTC } }, clock);
    const to = storeDir();
    // Spot klines weigh 2: a budget of 10 per minute allows 5 requests in any 60 s.
    await fetchToStore(opts(server, to, { clock, weightPerMinute: 10, pageBars: 30, end: D0 + 360 * MIN }));
    const times = server.requests.map((r) => r.atMs);
    expect(times.length).toBe(12);
    for (const t of times) expect(times.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(5);
    expect(times.at(-1)! - times[0]).toBeGreaterThanOrEqual(2 * 60_000);

    const clock2 = fakeClock();
    const server2 = await start({ klines: { BTCUSDT: BTC } }, clock2);
    server2.faults.set(0, { kind: 'usedWeight', used: 10 });
    await fetchToStore(opts(server2, storeDir(), { clock: clock2, weightPerMinute: 10 }));
    expect(server2.requests[1].atMs - server2.requests[0].atMs).toBe(60_000);
    expect(server2.requests[2].atMs - server2.requests[1].atMs).toBe(0);
  });

  it('fails at once on a 4xx other than 429/418, with the exchange\'s message', async () => {
    const server = await start({ klines: { BTCUSDT: BTC } });
    const err = await rejection(fetchToStore(opts(server, storeDir(), { symbols: ['NOPEUSDT'] })));
    expect(err.message).toContain('HTTP 400: {"code":-1121,"msg":"Invalid symbol."}');
    expect(server.requests.length).toBe(1);
  });
});

describe('binance-futures: klines, mark-price klines and funding history', () => {
  it('stores the perpetual\'s 1h bars, its mark-price bars and every funding rate, each readable by loadBars / loadFundingRates', async () => {
    const perp = RECORDED.perp5m();
    const mark = RECORDED.mark1h();
    const funding = RECORDED.funding8h();
    const server = await start({ klines: { XRPUSDT: perp }, mark: { XRPUSDT: mark }, funding: { XRPUSDT: funding } });
    const to = storeDir();
    const from = mark.ts[0];
    const end = funding.ts[funding.ts.length - 1] + 1;
    const report = await fetchToStore({ source: 'binance-futures', symbols: ['XRPUSDT'], interval: '1h', start: from, end, funding: true, mark: true, to, baseUrl: server.url, clock: fakeClock() });
    expect(report.series.map((s) => s.key)).toEqual(['bars/binance-futures/XRPUSDT/1h', 'mark/binance-futures/XRPUSDT/1h', 'funding/binance-futures/XRPUSDT']);
    const hourly = aggregate(perp, 3_600_000);
    expect(loadBars(to).height).toBe(asServed(hourly, from, Math.ceil(end / 3_600_000) * 3_600_000).ts.length);
    const m = barsToArrays(loadBars(to, { kind: 'mark' }));
    expect(Array.from(m.ts)).toEqual(Array.from(mark.ts));
    expect(Array.from(m.volume).every((v) => v === 0)).toBe(true);
    const f = loadFundingRates(join(to, 'funding', 'binance-futures', 'XRPUSDT'));
    expect(f.height).toBe(91);
    expect(Array.from(f.getColumn('rate').toArray() as number[])).toEqual(Array.from(funding.rate, (r) => Number(r.toFixed(8))));
    const fundingReq = server.requests.filter((r) => r.path === '/fapi/v1/fundingRate');
    expect(fundingReq.map((r) => r.query.limit)).toEqual(['1000']);
    expect(server.requests.filter((r) => r.path === '/fapi/v1/markPriceKlines').length).toBeGreaterThan(0);
    // Month partitions: the range spans two months.
    expect(readdirSync(join(to, 'funding', 'binance-futures', 'XRPUSDT')).filter((n) => n.endsWith('.parquet')).length).toBe(new Set([from, end - 1].map((t) => new Date(t).toISOString().slice(0, 7))).size);
    expect(readFileSync(join(to, 'quantbook-store.json'), 'utf8')).toContain('"funding/binance-futures/XRPUSDT"');
  });
});
