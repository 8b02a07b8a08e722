import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors';
import { barsToArrays, fetchToStore, loadBars, loadFundingRates, readManifest } from '../../../src/data';
import { asServed, fakeClock, hyperliquidFake, RECORDED, type FakeServer } from './fakeServers';

const BTC = RECORDED.btc1m();
const FUNDING = RECORDED.funding8h();
const MIN = 60_000;
const D0 = Date.parse('2017-11-06T00:00:00Z');
const D1 = D0 + 300 * MIN;

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function storeDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'qb-hl-')), 'store');
}

describe('hyperliquid connector (info endpoint) into the bar store', () => {
  it('pages candleSnapshot by windows and fundingHistory by start time, through 429, 500 and truncated JSON: every row once', async () => {
    const clock = fakeClock();
    const server = await hyperliquidFake({ candles: { BTC }, funding: { XRP: FUNDING }, fundingPage: 20 }, clock);
    servers.push(server);
    server.faults.set(0, { kind: 'status', status: 429, retryAfter: '2', body: 'null' });
    server.faults.set(2, { kind: 'status', status: 500 });
    server.faults.set(4, { kind: 'truncated' });
    const to = storeDir();
    const report = await fetchToStore({ source: 'hyperliquid', symbols: ['BTC'], interval: '1m', start: D0, end: D1, to, baseUrl: server.url, pageBars: 100, clock, retry: { baseDelayMs: 50 } });
    const a = barsToArrays(loadBars(to));
    const served = asServed(BTC, D0, D1);
    expect(Array.from(a.ts)).toEqual(served.ts);
    expect(Array.from(a.close)).toEqual(Array.from(BTC.close.subarray(BTC.ts.indexOf(served.ts[0]), BTC.ts.indexOf(served.ts.at(-1)!) + 1)));
    expect(report.retries).toBe(3);
    expect(clock.sleeps[0]).toBe(2000);
    const bodies = server.requests.map((r) => r.body as { type: string; req: { coin: string; interval: string; startTime: number; endTime: number } });
    expect(bodies.every((b) => b.type === 'candleSnapshot' && b.req.coin === 'BTC' && b.req.interval === '1m')).toBe(true);
    expect([...new Set(bodies.map((b) => b.req.startTime))]).toEqual([D0, D0 + 100 * MIN, D0 + 200 * MIN]);

    // Funding: 91 rates, 20 per page, paged by start time = last time + 1 ms.
    const before = server.requests.length;
    const f0 = FUNDING.ts[0];
    const fEnd = FUNDING.ts[FUNDING.ts.length - 1] + 1;
    await fetchToStore({ source: 'hyperliquid', symbols: ['XRP'], interval: '1h', start: f0, end: fEnd, funding: true, to, baseUrl: server.url, pageBars: 5000, fundingPage: 20, clock });
    const fundingBodies = server.requests.slice(before).map((r) => r.body as { type: string; coin: string; startTime: number }).filter((b) => b.type === 'fundingHistory');
    expect(fundingBodies.length).toBe(5);
    expect(fundingBodies[1].startTime).toBe(FUNDING.ts[19] + 1);
    const f = loadFundingRates(to, { symbol: 'XRP' });
    expect(Array.from(f.getColumn('rate').toArray() as number[])).toEqual(Array.from(FUNDING.rate, (r) => Number(r.toFixed(8))));
    expect(readManifest(to).series['funding/hyperliquid/XRP'].rows).toBe(91);
  });

  it('rejects a candle page whose low is above its high, naming hyperliquid, the coin and the time', async () => {
    const server = await hyperliquidFake({ candles: { BTC } });
    servers.push(server);
    server.faults.set(1, { kind: 'badBar', index: 3 });
    const to = storeDir();
    let err: unknown;
    try {
      await fetchToStore({ source: 'hyperliquid', symbols: ['BTC'], interval: '1m', start: D0, end: D1, to, baseUrl: server.url, pageBars: 100, clock: fakeClock() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const t = asServed(BTC, D0 + 100 * MIN, D0 + 200 * MIN).ts[3];
    expect((err as DataError).message).toContain(`hyperliquid BTC 1m: page rejected, nothing of it stored: low above min(open, close) at ${new Date(t).toISOString()}`);
    expect(barsToArrays(loadBars(to)).ts.at(-1)).toBeLessThan(D0 + 100 * MIN);
  });
});
