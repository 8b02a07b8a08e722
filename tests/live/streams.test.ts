import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConfigError } from '../../src/core/errors';
import { LiveLoop } from '../../src/live/loop';
import { AlpacaBarSource, BinanceKlineSource, backoffMs, binanceClosedKline } from '../../src/live/streams';
import type { BarSink, GapReport, LiveBar } from '../../src/live/types';

const MIN = 60_000;
const T0 = Date.parse('2024-06-12T10:00:00Z');
const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.clients.forEach((c) => c.terminate()), s.close(r)))));
});

/** A fake exchange on a free loopback port; `onConnection` gets each socket, its number and the request path. */
async function fakeServer(onConnection: (ws: WebSocket, n: number, path: string) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  let n = 0;
  wss.on('connection', (ws, req) => onConnection(ws, n++, req.url ?? ''));
  await new Promise((r) => wss.once('listening', r));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

function collector() {
  const bars: LiveBar[] = [];
  const gaps: GapReport[] = [];
  const logs: string[] = [];
  const sink: BarSink = { bar: async (b) => void bars.push(b), gap: (g) => void gaps.push(g), log: (l) => void logs.push(l) };
  return { bars, gaps, logs, sink };
}

const kline = (t: number, x: boolean, close = '100.5') => JSON.stringify({ e: 'kline', E: t + MIN, s: 'BTCUSDT', k: { t, T: t + MIN - 1, s: 'BTCUSDT', i: '1m', o: '100.0', c: close, h: '101.0', l: '99.5', v: '12.5', n: 7, x, q: '1250', V: '6', Q: '600', B: '0' } });
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Binance kline source', () => {
  it('keeps closed klines only, reconnects with backoff after a drop and reports the gap the drop left', async () => {
    const paths: string[] = [];
    const url = await fakeServer((ws, n, path) => {
      paths.push(path);
      if (n === 0) {
        ws.send(kline(T0, false, '100.1')); // an update of the open kline: ignored
        ws.send(kline(T0, true));
        ws.send(kline(T0 + MIN, true, '100.7'));
        setTimeout(() => ws.terminate(), 20); // the exchange drops us
      } else {
        ws.send(kline(T0 + 4 * MIN, true, '101.0')); // two bars (T0 + 2, 3 min) were closed while down
      }
    });
    const src = new BinanceKlineSource({ symbol: 'BTCUSDT', barMs: MIN, baseUrl: url, initialDelayMs: 30, heartbeatMs: 10_000 });
    const c = collector();
    const loop = new LiveLoop<number>({
      symbol: 'BTC', barMs: MIN, session: '24x7', capacity: 10, deadlineMs: Infinity, maxBarAgeMs: Infinity, clock: src.clock,
      forecast: async (b) => ({ kind: 'done', value: b.close.length, quiet: false }),
    });
    const run = src.run({ ...c.sink, bar: (b) => (c.bars.push(b), loop.onBar(b)) });
    await until(() => c.bars.length === 3);
    await src.stop();
    await run;
    await loop.idle();
    expect(paths).toEqual(['/ws/btcusdt@kline_1m', '/ws/btcusdt@kline_1m']);
    expect(c.bars.map((b) => [b.ts - T0, b.close])).toEqual([[0, 100.5], [MIN, 100.7], [4 * MIN, 101]]);
    expect(c.bars[0]).toEqual({ ts: T0, open: 100, high: 101, low: 99.5, close: 100.5, volume: 12.5 });
    expect(src.connections).toBe(2);
    expect(c.gaps).toHaveLength(1);
    expect(c.gaps[0]).toMatchObject({ afterMs: T0 + MIN, detectedBy: 'source' });
    expect(c.logs.some((l) => /binance: connection lost; reconnecting in 30 ms \(attempt 1\)/.test(l))).toBe(true);
    expect(c.logs.some((l) => l.startsWith('binance: reconnected after'))).toBe(true);
    // The loop counts the real gap from the bar times and skips the bar after it.
    expect([loop.stats.gaps, loop.stats.missingBars, loop.stats.skipped.gap]).toEqual([1, 2, 1]);
  });

  it('parses closed klines (also inside a combined-stream wrapper) and refuses intervals Binance lacks', () => {
    expect(binanceClosedKline(JSON.parse(kline(T0, false)))).toBeUndefined();
    expect(binanceClosedKline({ stream: 'btcusdt@kline_1m', data: JSON.parse(kline(T0, true)) })?.close).toBe(100.5);
    expect(binanceClosedKline({ e: 'trade' })).toBeUndefined();
    expect(() => binanceClosedKline({ e: 'kline', k: { t: 0, o: 'x', h: '1', l: '1', c: '1', v: '1', x: true } })).toThrow(/unreadable/);
    expect(() => new BinanceKlineSource({ symbol: 'btcusdt', barMs: 7 * MIN })).toThrow(ConfigError);
  });

  it('backoff doubles from the initial delay up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe('Alpaca minute-bar source', () => {
  const env = { APCA_API_KEY_ID: 'PK-TEST-ID', APCA_API_SECRET_KEY: 's3cret-value' };

  it('authenticates from the environment, subscribes to the symbol and passes its minute bars, never logging the secret', async () => {
    const received: unknown[] = [];
    const url = await fakeServer((ws) => {
      ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        received.push(m);
        if (m.action === 'auth') ws.send(JSON.stringify([{ T: 'success', msg: m.key === env.APCA_API_KEY_ID && m.secret === env.APCA_API_SECRET_KEY ? 'authenticated' : 'nope' }]));
        if (m.action === 'subscribe') {
          ws.send(JSON.stringify([{ T: 'subscription', trades: [], quotes: [], bars: m.bars }]));
          ws.send(JSON.stringify([
            { T: 'b', S: 'QQQ', o: 440.1, h: 440.5, l: 439.9, c: 440.2, v: 1200, t: '2024-06-12T13:30:00Z', n: 30, vw: 440.2 },
            { T: 'b', S: 'SPY', o: 1, h: 1, l: 1, c: 1, v: 1, t: '2024-06-12T13:30:00Z' },
            { T: 'u', S: 'QQQ', o: 440.1, h: 440.6, l: 439.9, c: 440.2, v: 1300, t: '2024-06-12T13:30:00Z' },
          ]));
          ws.send(JSON.stringify([{ T: 'b', S: 'QQQ', o: 440.2, h: 440.4, l: 440, c: 440.3, v: 900, t: '2024-06-12T13:31:00Z' }]));
        }
      });
    });
    const logs: string[] = [];
    const src = new AlpacaBarSource({ symbol: 'QQQ', url, env, log: (l) => logs.push(l) });
    const c = collector();
    const run = src.run(c.sink);
    await until(() => c.bars.length === 2);
    await src.stop();
    await run;
    expect(received).toEqual([{ action: 'auth', key: env.APCA_API_KEY_ID, secret: env.APCA_API_SECRET_KEY }, { action: 'subscribe', bars: ['QQQ'] }]);
    expect(c.bars).toEqual([
      { ts: Date.parse('2024-06-12T13:30:00Z'), open: 440.1, high: 440.5, low: 439.9, close: 440.2, volume: 1200 },
      { ts: Date.parse('2024-06-12T13:31:00Z'), open: 440.2, high: 440.4, low: 440, close: 440.3, volume: 900 },
    ]);
    expect(logs).toContain('alpaca: authenticated; subscribed to minute bars of QQQ');
    expect([...logs, ...c.logs].join('\n')).not.toMatch(/s3cret|PK-TEST-ID/);
  });

  it('a refused login is fatal (ConfigError, no reconnect loop); missing credentials are named, not shown', async () => {
    const url = await fakeServer((ws) => {
      ws.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
      ws.on('message', () => ws.send(JSON.stringify([{ T: 'error', code: 402, msg: 'auth failed' }])));
    });
    const src = new AlpacaBarSource({ symbol: 'QQQ', url, env, initialDelayMs: 10 });
    const err = await src.run(collector().sink).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/alpaca refused: code 402, auth failed/);
    expect(err.message).not.toMatch(/s3cret/);
    expect(src.connections).toBe(1);
    expect(() => new AlpacaBarSource({ symbol: 'QQQ', env: { APCA_API_KEY_ID: 'x' } })).toThrow(/APCA_API_SECRET_KEY/);
  });
});
