import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../../src/core/errors';
import { barsToArraysBySymbol, fetchToStore, loadBars, readManifest, type BarArrays } from '../../../src/data';
import { alpacaFake, fakeClock, RECORDED, type FakeServer } from './fakeServers';

// The only recorded stock bars are one Shanghai A-share at 5 minutes; the second symbol is the
// same bars at half the price, so a page can hold two symbols.
const SHA = RECORDED.stock5m();
const half = (x: Float64Array): Float64Array => x.map((v) => v / 2);
const SHB: BarArrays = { ...SHA, open: half(SHA.open), high: half(SHA.high), low: half(SHA.low), close: half(SHA.close) };
const KEYS = { keyId: 'AKFAKEKEYID0123456789', secret: 'fakeSecretKey/abcdefghijklmnopqrstuvwxyz0123' };
const ENV = { APCA_API_KEY_ID: KEYS.keyId, APCA_API_SECRET_KEY: KEYS.secret };
const START = Date.parse('2024-06-18T00:00:00Z');
const END = Date.parse('2024-06-25T00:00:00Z');

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function storeDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'qb-alpaca-')), 'store');
}

function inRange(a: BarArrays): number[] {
  return Array.from(a.ts).filter((t) => t >= START && t < END);
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? allFiles(join(dir, n)) : [join(dir, n)]));
}

describe('alpaca connector (v2 stock bars) into the bar store', () => {
  it('asks for several symbols per request, follows next_page_token across symbols, and stores every bar once', async () => {
    const clock = fakeClock();
    const server = await alpacaFake({ bars: { SHA, SHB }, keys: KEYS }, clock);
    servers.push(server);
    server.faults.set(1, { kind: 'status', status: 429, retryAfter: '1' });
    server.faults.set(3, { kind: 'duplicateRows' });
    server.faults.set(4, { kind: 'status', status: 504 });
    const to = storeDir();
    const report = await fetchToStore({ source: 'alpaca', symbols: ['SHA', 'SHB'], interval: '5m', start: START, end: END, to, baseUrl: server.url, pageBars: 100, clock, env: ENV, feed: 'sip', adjustment: 'split', retry: { baseDelayMs: 10 } });
    const by = barsToArraysBySymbol(loadBars(to));
    expect(Array.from(by.get('SHA')!.ts)).toEqual(inRange(SHA));
    expect(Array.from(by.get('SHB')!.close)).toEqual(Array.from(SHB.close).filter((_, i) => SHB.ts[i] >= START && SHB.ts[i] < END));
    const q = server.requests[0].query;
    expect(q).toMatchObject({ symbols: 'SHA,SHB', timeframe: '5Min', limit: '100', feed: 'sip', adjustment: 'split', sort: 'asc', start: '2024-06-18T00:00:00.000Z', end: '2024-06-24T23:59:59.999Z' });
    expect(server.requests.filter((r) => r.query.page_token).length).toBeGreaterThan(0);
    // One page holds the end of SHA and the start of SHB.
    const total = inRange(SHA).length * 2;
    expect(server.requests.length).toBe(Math.ceil(total / 100) + 2);
    expect(report.series.map((s) => s.added)).toEqual([inRange(SHA).length, inRange(SHB).length]);
    expect(report.series[0].duplicates).toBeGreaterThan(0);
    expect(clock.sleeps[0]).toBe(1000);
    const entry = readManifest(to).series['bars/alpaca/SHA/5m'];
    expect(entry.options).toEqual({ feed: 'sip', adjustment: 'split' });
    expect(entry.gaps).toBeUndefined();
    // The credentials went in the headers, and nowhere into the store.
    expect(server.requests.every((r) => r.headers['apca-api-key-id'] === KEYS.keyId && r.headers['apca-api-secret-key'] === KEYS.secret)).toBe(true);
    for (const f of allFiles(to)) {
      const bytes = readFileSync(f).toString('latin1');
      expect(bytes.includes(KEYS.keyId) || bytes.includes(KEYS.secret)).toBe(false);
    }
  });

  it('waits for X-RateLimit-Reset when X-RateLimit-Remaining reaches 0', async () => {
    const clock = fakeClock(Date.parse('2026-01-05T15:00:00Z'));
    const server = await alpacaFake({ bars: { SHA }, keys: KEYS, remaining: (n) => (n === 0 ? 0 : 150) }, clock);
    servers.push(server);
    await fetchToStore({ source: 'alpaca', symbols: ['SHA'], interval: '5m', start: START, end: END, to: storeDir(), baseUrl: server.url, pageBars: 100, clock, env: ENV });
    // The reset the fake sends is the next whole second + 60 s.
    const gap = server.requests[1].atMs - server.requests[0].atMs;
    expect(gap).toBeGreaterThanOrEqual(60_000);
    expect(gap).toBeLessThanOrEqual(61_000);
    expect(server.requests[2].atMs - server.requests[1].atMs).toBe(0);
  });

  it('needs the credentials from the environment and never shows them in an error, even when the server echoes them', async () => {
    const server = await alpacaFake({ bars: { SHA }, keys: { keyId: 'other', secret: 'other' } });
    servers.push(server);
    let err: unknown;
    try {
      await fetchToStore({ source: 'alpaca', symbols: ['SHA'], interval: '5m', start: START, end: END, to: storeDir(), baseUrl: server.url, clock: fakeClock(), env: ENV });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    expect(e.message).toContain('alpaca: HTTP 403: {"message":"forbidden: key [redacted] / [redacted]"}');
    const shown = `${e.message} ${e.stack} ${JSON.stringify(e.location)} ${String((e as { cause?: unknown }).cause)}`;
    expect(shown.includes(KEYS.keyId) || shown.includes(KEYS.secret)).toBe(false);
    await expect(fetchToStore({ source: 'alpaca', symbols: ['SHA'], interval: '5m', start: START, end: END, to: storeDir(), env: {} })).rejects.toThrow(ConfigError);
  });
});
