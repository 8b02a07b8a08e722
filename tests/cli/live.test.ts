import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadSymbol, outlookFromArrays } from '../../src/cli/forecast';
import { resolveLiveSettings, splitFlags, startLive } from '../../src/cli/live';
import { ConfigError } from '../../src/core/errors';
import { openModel } from '../../src/forecast';
import { realData } from '../support/paths';
import { runCli } from '../support/cli';
import { redisMissing, startRedis } from '../support/redis';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');

describe('quantbook live --source replay', () => {
  it('forecasts each replayed bar with the forecast pipeline: the live summary equals the pipeline on all bars up to it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-live-'));
    const args = ['--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '40', '--horizon', '15', '--lookback', '120', '--seed', '5'];
    const r = await run(['live', '--source', 'replay', '--replay', BTC, ...args, '--speed', 'max', '--max-bars', '12', '--out', out]);
    expect(r.code).toBe(0);
    const files = readdirSync(out).filter((f) => f.startsWith('pred_summary_BTC_2'));
    expect(r.out).toContain(`bars 12, forecasts ${files.length} (0 quiet)`);
    // This stretch of the recording misses bars: every bar after a gap is skipped, every other one forecast.
    const gaps = Number(/skipped: gap (\d+)\n/.exec(r.out)?.[1]);
    expect(files.length + gaps).toBe(12);
    expect(r.err.match(/ gap: \d+ session bars missing/g)).toHaveLength(gaps);
    const latest = JSON.parse(readFileSync(join(out, 'pred_summary_BTC_latest.json'), 'utf8'));
    expect(latest.schema).toBe('quantbook.pred-summary/1');
    expect(latest.files.summary).toBe(join(out, files.sort().at(-1)!));
    expect(latest.data.file).toBe(`replay:${BTC}`);
    // The same bars through the pipeline directly, without the live buffer's trim: same numbers.
    const { settings } = splitFlags({ data: BTC, symbol: 'BTC', session: '24x7', model: 'historical', samples: '40', horizon: '15', lookback: '120', seed: '5', out });
    const { arrays, barMs } = loadSymbol(settings);
    const end = arrays.ts.findIndex((t) => t + barMs === Date.parse(latest.asOf)) + 1;
    const cut = (x: Float64Array) => x.subarray(0, end);
    const model = await openModel('historical');
    const direct = await outlookFromArrays(settings, model, { ts: cut(arrays.ts), open: cut(arrays.open), high: cut(arrays.high), low: cut(arrays.low),
      close: cut(arrays.close), volume: cut(arrays.volume) }, barMs);
    await model.close();
    expect(latest.pUp).toBe(direct.outlook.stats.pUp);
    expect(latest.bands.values).toEqual(direct.outlook.stats.bands.values.map((v) => Array.from(v)));
    expect(latest.vwap).toBeCloseTo(direct.prepared.vwap, 9);
    expect(latest.midband).toBeCloseTo(direct.prepared.midband, 9);
  });

  it('bad live flags are ConfigErrors naming the flag; the deadline defaults to (bar - margin) / speed', () => {
    expect(() => resolveLiveSettings({ source: 'replay' }, 60_000)).toThrow(/--replay FILE/);
    expect(() => resolveLiveSettings({ source: 'replay', replay: 'x', speed: '0' }, 60_000)).toThrow(ConfigError);
    expect(() => resolveLiveSettings({ source: 'replay', replay: 'x', speed: '0' }, 60_000)).toThrow(/--speed/);
    expect(() => resolveLiveSettings({ source: 'kafka' }, 60_000)).toThrow(/--source/);
    expect(() => resolveLiveSettings({ source: 'binance', deadlineMargin: '2m' }, 60_000)).toThrow(/--deadline-margin must be shorter/);
    expect(resolveLiveSettings({ source: 'replay', replay: 'x', speed: '60' }, 60_000).deadlineMs).toBeCloseTo(55_000 / 60, 9);
    expect(resolveLiveSettings({ source: 'replay', replay: 'x', speed: 'max' }, 60_000).deadlineMs).toBe(Infinity);
    expect(resolveLiveSettings({ source: 'binance', deadline: '2s' }, 60_000).deadlineMs).toBe(2000);
  });
});

describe.skipIf(redisMissing)(`quantbook live --publish${redisMissing ? ` (skipped: ${redisMissing})` : ''}`, () => {
  it('publishes every summary it writes on the Redis channel', async () => {
    const redis = await startRedis();
    const { Redis } = await import('ioredis');
    const sub = new Redis(redis.url);
    try {
      const got: string[] = [];
      await sub.subscribe('quantbook:pred_summary:BTC');
      sub.on('message', (_c: string, m: string) => got.push(m));
      const out = mkdtempSync(join(tmpdir(), 'qb-live-redis-'));
      const r = await run(['live', '--source', 'replay', '--replay', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '20', '--lookback', '120', '--prime', '8400', '--speed', 'max', '--max-bars', '5', '--publish', redis.url, '--out', out]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('bars 5, forecasts 5 (0 quiet)');
      for (let i = 0; i < 100 && got.length < 5; i++) await new Promise((res) => setTimeout(res, 10));
      const published = got.map((m) => JSON.parse(m));
      expect(published.map((p) => p.asOf)).toEqual(readdirSync(out).filter((f) => /_2\d+T/.test(f)).sort().map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')).asOf));
      expect(published[4].files.latest).toBe(join(out, 'pred_summary_BTC_latest.json'));
    } finally {
      sub.disconnect();
      await redis.stop();
    }
  });
});

describe('quantbook live --source binance (fake exchange on loopback)', () => {
  it('primes from the data file and forecasts the closed klines the stream sends (newest wins)', async () => {
    const { settings } = splitFlags({ data: BTC, symbol: 'BTC', out: 'x' });
    const { arrays } = loadSymbol(settings);
    const last = arrays.ts[arrays.ts.length - 1];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((res) => wss.once('listening', res));
    wss.on('connection', (ws) => {
      for (let k = 1; k <= 3; k++) {
        const c = String(arrays.close[arrays.close.length - 1] * (1 + k / 1000));
        ws.send(JSON.stringify({ e: 'kline', k: { t: last + k * 60_000, o: c, h: c, l: c, c, v: '1', x: false } }));
        ws.send(JSON.stringify({ e: 'kline', k: { t: last + k * 60_000, o: c, h: c, l: c, c, v: '1', x: true } }));
      }
    });
    const out = mkdtempSync(join(tmpdir(), 'qb-live-binance-'));
    const { settings: s, live } = splitFlags({
      data: BTC, symbol: 'BTC', session: '24x7', model: 'historical', samples: '20', lookback: '120', out,
      source: 'binance', streamSymbol: 'btcusdt', streamUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, maxBarAge: '100000d',
    });
    const session = await startLive(s, live);
    try {
      for (let i = 0; i < 500 && session.loop.stats.lastForecastBarMs !== last + 3 * 60_000; i++) await new Promise((res) => setTimeout(res, 10));
    } finally {
      await session.stop();
      await new Promise((res) => (wss.clients.forEach((c) => c.terminate()), wss.close(res)));
    }
    // The three klines arrive together: the newest bar wins over the one waiting during the first forecast.
    const st = session.loop.stats;
    expect(st.barsReceived).toBe(3);
    expect(st.forecasts + st.skipped.superseded).toBe(3);
    expect(st.forecasts).toBeGreaterThanOrEqual(2);
    const latest = JSON.parse(readFileSync(join(out, 'pred_summary_BTC_latest.json'), 'utf8'));
    expect(Date.parse(latest.asOf)).toBe(last + 4 * 60_000);
    expect(latest.currentClose).toBeCloseTo(arrays.close[arrays.close.length - 1] * 1.003, 12);
    expect(latest.data.file).toBe('binance:btcusdt');
  });
});

describe('live picks its session as forecast does', () => {
  it('24x7 for around-the-clock bars when no --session is given, and says why', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-live-session-'));
    const { settings, live } = splitFlags({ data: BTC, symbol: 'BTC', model: 'historical', samples: '20', lookback: '120', out, source: 'replay', replay: BTC, prime: '8400', speed: 'max', maxBars: '2' });
    expect(settings.sessionGiven).toBe(false);
    const lines: string[] = [];
    const session = await startLive(settings, live, { log: (l) => lines.push(l) });
    await session.done;
    expect(lines[0]).toMatch(/^session 24x7 \(data\): the data trades around the clock/);
    expect(session.loop.stats.skipped.outsideSession ?? 0).toBe(0);
    expect(session.loop.stats.forecasts).toBeGreaterThan(0);
  });
});
