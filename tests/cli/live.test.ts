import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadSymbol, outlookFromArrays } from '../../src/cli/forecast';
import { formatLiveStats, resolveLiveSettings, splitFlags, startLive } from '../../src/cli/live';
import { ConfigError } from '../../src/core/errors';
import { openModel } from '../../src/forecast';
import type { LiveOutlook } from '../../src/live';
import { realData } from '../support/paths';
import { createBackfill } from '../../src/cli/liveSources';
import { alpacaFake, binanceFake, RECORDED } from '../data/fetch/fakeServers';
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

describe('quantbook live --source binance: REST backfill of stream gaps (fake exchange and REST server on loopback)', () => {
  const MIN = 60_000;
  /**
   * Primes from BTC, streams bars `sent` (minutes after its last bar) of a made-up series over a fake
   * kline stream, and serves the same series on a fake REST kline endpoint; runs until bar `until`
   * is forecast. `fault` breaks the REST server's first answer.
   */
  async function session(sent: number[], until: number, extra: Record<string, unknown> = {}, fault = false) {
    const { settings } = splitFlags({ data: BTC, symbol: 'BTC', out: 'x' });
    const { arrays } = loadSymbol(settings);
    const last = arrays.ts[arrays.ts.length - 1];
    const c0 = arrays.close[arrays.close.length - 1];
    // Minutes 1..10 after the data, rounded to 10 digits so the fake's toPrecision(10) text is exact.
    const k = Array.from({ length: 10 }, (_, i) => i + 1);
    const col = (f: (i: number) => number) => Float64Array.from(k, (i) => Number(f(i).toPrecision(10)));
    const series = { ts: Float64Array.from(k, (i) => last + i * MIN), open: col((i) => c0 * (1 + i / 1000)), high: col((i) => c0 * (1 + i / 1000 + 0.002)),
      low: col((i) => c0 * (1 + i / 1000 - 0.001)), close: col((i) => c0 * (1 + i / 1000 + 0.0005)), volume: col((i) => 10 * i + 0.125) };
    const rest = await binanceFake({ klines: { BTCUSDT: series } });
    if (fault) rest.faults.set(0, { kind: 'status', status: 400, body: JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }) });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((res) => wss.once('listening', res));
    wss.on('connection', (ws) => {
      for (const m of sent) {
        const i = m - 1;
        ws.send(JSON.stringify({ e: 'kline', k: { t: series.ts[i], o: String(series.open[i]), h: String(series.high[i]), l: String(series.low[i]), c: String(series.close[i]),
          v: String(series.volume[i]), x: true } }));
      }
    });
    const out = mkdtempSync(join(tmpdir(), 'qb-live-backfill-'));
    const { settings: s, live } = splitFlags({
      data: BTC, symbol: 'BTC', session: '24x7', model: 'historical', samples: '20', lookback: '120', out, candles: '8',
      source: 'binance', streamSymbol: 'btcusdt', streamUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, backfillUrl: rest.url, maxBarAge: '100000d', ...extra,
    });
    const seen = new Map<number, LiveOutlook>();
    const logs: string[] = [];
    const ss = await startLive(s, live, { log: (l) => logs.push(l), extraSinks: [{ name: 'capture', emit: (o, bar) => void seen.set(bar.ts, o) }] });
    try {
      for (let i = 0; i < 1000 && ss.loop.stats.lastForecastBarMs !== series.ts[until - 1]; i++) await new Promise((res) => setTimeout(res, 10));
    } finally {
      await ss.stop();
      await new Promise((res) => (wss.clients.forEach((c) => c.terminate()), wss.close(res)));
      await rest.close();
    }
    return { ss, series, rest, seen, logs, last };
  }

  it('a hole of 3 bars gets exactly those 3 bars from REST (times, OHLCV); the forecast after the hole sees them', async () => {
    const { ss, series, rest, seen, logs, last } = await session([1, 5], 5);
    const st = ss.loop.stats;
    expect(ss.backfill).toBe('on (binance REST BTCUSDT 1m)');
    expect(logs).toContain('backfill on (binance REST BTCUSDT 1m)');
    expect([st.barsReceived, st.gaps, st.missingBars, st.backfilledBars, st.backfillFailures, st.backfillShort, st.skipped.gap]).toEqual([2, 1, 3, 3, 0, 0, 0]);
    // One kline request, for the open times of the hole, [last + 2m, last + 5m).
    expect(rest.requests.map((r) => [r.path, r.query.symbol, r.query.interval, Number(r.query.startTime), Number(r.query.endTime)]))
      .toEqual([['/api/v3/klines', 'BTCUSDT', '1m', last + 2 * MIN, last + 5 * MIN - 1]]);
    const buf = ss.loop.buffer.snapshot();
    const tail = (x: Float64Array) => Array.from(x.slice(-5));
    expect(tail(buf.ts)).toEqual(Array.from(series.ts.slice(0, 5)));
    for (const c of ['open', 'high', 'low', 'close', 'volume'] as const) expect(tail(buf[c])).toEqual(Array.from(series[c].slice(0, 5)));
    // The forecast of bar 5 was made on a buffer holding the backfilled bars.
    expect(st.lastForecastBarMs).toBe(series.ts[4]);
    const candles = seen.get(series.ts[4])!.candles;
    expect(candles.ts.slice(-5)).toEqual(Array.from(series.ts.slice(0, 5)));
    expect(candles.close.slice(-5)).toEqual(Array.from(series.close.slice(0, 5)));
    expect(formatLiveStats(st, ss.backfill)).toContain('gaps 1 (3 bars missing, 3 backfilled)\nbackfill on (binance REST BTCUSDT 1m): 0 failed, 0 short');
  });

  it('a REST failure is counted and logged, the bar after the hole skipped as a gap; the loop carries on', async () => {
    const { ss, series, rest, logs } = await session([1, 5, 6], 6, {}, true);
    const st = ss.loop.stats;
    expect(rest.requests).toHaveLength(1);
    expect([st.barsReceived, st.gaps, st.missingBars, st.backfilledBars, st.backfillFailures, st.skipped.gap]).toEqual([3, 1, 3, 0, 1, 1]);
    expect(logs.find((l) => l.includes('failed: '))).toMatch(/backfill of 3 bars after .* failed: .*Invalid symbol/);
    expect(st.lastForecastBarMs).toBe(series.ts[5]);
    expect(Array.from(ss.loop.buffer.snapshot().ts.slice(-3))).toEqual([series.ts[0], series.ts[4], series.ts[5]]);
  });

  it('--no-backfill: nothing is asked over REST, the gap is reported and the status says backfill is off', async () => {
    const { ss, series, rest } = await session([1, 5, 6], 6, { backfill: false });
    expect(ss.backfill).toBe('off (--no-backfill)');
    expect(rest.requests).toHaveLength(0);
    expect([ss.loop.stats.gaps, ss.loop.stats.missingBars, ss.loop.stats.backfilledBars, ss.loop.stats.skipped.gap]).toEqual([1, 3, 0, 1]);
    expect(ss.loop.stats.lastForecastBarMs).toBe(series.ts[5]);
    expect(formatLiveStats(ss.loop.stats, ss.backfill)).toContain('backfill off (--no-backfill): 0 failed, 0 short');
  });
});

describe('createBackfill', () => {
  it('alpaca: the gap\'s bars from the stock-bars endpoint on the stream\'s feed, with the credentials of the environment', async () => {
    const a = RECORDED.btc1m();
    const keys = { keyId: 'key-1', secret: 'secret-1' };
    const rest = await alpacaFake({ bars: { QQQ: a }, keys });
    vi.stubEnv('APCA_API_KEY_ID', keys.keyId);
    vi.stubEnv('APCA_API_SECRET_KEY', keys.secret);
    try {
      const b = createBackfill({ source: 'alpaca', streamSymbol: 'QQQ', streamUrl: 'wss://stream.data.alpaca.markets/v2/sip', backfill: true, backfillUrl: rest.url }, 'X', 60_000, () => undefined);
      expect(b.status).toBe('on (alpaca REST QQQ 1m)');
      // The first stretch of 5 bars without a gap in the recording.
      const i = a.ts.findIndex((t, j) => j > 0 && a.ts[j + 3] - a.ts[j - 1] === 4 * 60_000);
      const bars = await b.hook!({ afterMs: a.ts[i - 1], beforeMs: a.ts[i - 1] + 5 * 60_000, missingBars: 4, detectedBy: 'loop' });
      const want = [i, i + 1, i + 2, i + 3];
      expect(bars).toEqual(want.map((j) => ({ ts: a.ts[j], open: a.open[j], high: a.high[j], low: a.low[j], close: a.close[j], volume: a.volume[j] })));
      expect(rest.requests.map((r) => [r.query.symbols, r.query.timeframe, r.query.feed])).toEqual([['QQQ', '1Min', 'sip']]);
    } finally {
      vi.unstubAllEnvs();
      await rest.close();
    }
  });

  it('is off, saying why, for --no-backfill, a replay and a bar length the connectors do not fetch', () => {
    const log = () => undefined;
    expect(createBackfill({ source: 'binance', backfill: false }, 'BTCUSDT', 60_000, log)).toEqual({ status: 'off (--no-backfill)' });
    expect(createBackfill({ source: 'replay', backfill: true }, 'BTC', 60_000, log)).toEqual({ status: 'off (a replay has no REST source)' });
    expect(createBackfill({ source: 'binance', backfill: true }, 'BTCUSDT', 180_000, log)).toEqual({ status: 'off (no REST bars of 3m; the connectors fetch 1m, 5m, 1h, 1d)' });
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
