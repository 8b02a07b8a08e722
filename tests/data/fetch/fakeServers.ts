/**
 * Local fake market-data servers for the connector tests: node:http on 127.0.0.1, port 0,
 * started and closed by the tests. They answer in each provider's documented format from
 * recorded bars in ../shared/data/real, and inject the failures a test schedules per request.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { barsToArrays, loadBars, loadFundingRates, fundingToArrays, type BarArrays } from '../../../src/data';
import { realData } from '../../support/paths';

/** A failure to inject into one response. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'timeout'; delayMs: number }
  | { kind: 'truncated' }
  | { kind: 'drop' }
  | { kind: 'overlap'; rows: number }
  | { kind: 'duplicateRows' }
  | { kind: 'stale' }
  | { kind: 'badBar'; index: number }
  | { kind: 'usedWeight'; used: number };

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** Arrival time on the test's clock (the fake clock stands still during I/O, so this is when the client sent it). */
  atMs: number;
}

/** A running fake server. */
export interface FakeServer {
  url: string;
  requests: SeenRequest[];
  /** Faults by request number (0-based, counting every request). */
  faults: Map<number, Fault>;
  close(): Promise<void>;
}

type Handler = (req: SeenRequest, fault: Fault | undefined, res: ServerResponse) => void;

async function serve(handler: Handler, clock: { now(): number } = Date): Promise<FakeServer> {
  const requests: SeenRequest[] = [];
  const faults = new Map<number, Fault>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, atMs: clock.now(), ...(text ? { body: JSON.parse(text) } : {}) };
      const n = requests.length;
      requests.push(seen);
      const fault = faults.get(n);
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
        res.end(fault.body ?? JSON.stringify({ code: -1003, msg: 'fault injected' }));
        return;
      }
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'timeout') {
        const t = setTimeout(() => handler(seen, undefined, res), fault.delayMs);
        res.on('close', () => clearTimeout(t));
        return;
      }
      handler(seen, fault, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, body: unknown, fault: Fault | undefined, headers: Record<string, string> = {}): void {
  let text = JSON.stringify(body);
  if (fault?.kind === 'truncated') text = text.slice(0, Math.floor(text.length / 2));
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Rows of a page after the row-level faults: overlap with the previous page, repeated rows, a bad bar. */
function applyRowFaults<T>(rows: T[], before: T[], fault: Fault | undefined, breakRow: (row: T) => T): T[] {
  if (fault?.kind === 'overlap') return [...before.slice(-fault.rows), ...rows];
  if (fault?.kind === 'duplicateRows') return rows.flatMap((r, i) => (i % 3 === 0 ? [r, r] : [r]));
  if (fault?.kind === 'badBar' && rows.length > fault.index) return rows.map((r, i) => (i === fault.index ? breakRow(r) : r));
  return rows;
}

/** Indices of bars with `from <= ts <= to`, by binary search. */
function between(ts: Float64Array, from: number, to: number): [number, number] {
  const lower = (x: number): number => {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [lower(from), lower(to + 1)];
}

/** Bars aggregated to a coarser interval (the fake exchanges answer any interval from their finest bars). */
export function aggregate(a: BarArrays, stepMs: number): BarArrays {
  const out = { ts: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  for (let i = 0; i < a.ts.length; i++) {
    const b = Math.floor(a.ts[i] / stepMs) * stepMs;
    const k = out.ts.length - 1;
    if (k >= 0 && out.ts[k] === b) {
      out.high[k] = Math.max(out.high[k], a.high[i]);
      out.low[k] = Math.min(out.low[k], a.low[i]);
      out.close[k] = a.close[i];
      out.volume[k] += a.volume[i];
    } else {
      out.ts.push(b);
      out.open.push(a.open[i]);
      out.high.push(a.high[i]);
      out.low.push(a.low[i]);
      out.close.push(a.close[i]);
      out.volume.push(a.volume[i]);
    }
  }
  return { ts: Float64Array.from(out.ts), open: Float64Array.from(out.open), high: Float64Array.from(out.high), low: Float64Array.from(out.low),
    close: Float64Array.from(out.close), volume: Float64Array.from(out.volume) };
}

const STEP: Record<string, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

/** Recorded series the fakes serve. */
export const RECORDED = {
  /** 1-minute bars, 2017-11-04 .. 2017-11-14, 13 681 bars with real gaps. */
  btc1m: (): BarArrays => barsToArrays(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.json'))),
  ethBtc5m: (): BarArrays => barsToArrays(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather'))),
  ltcBtc5m: (): BarArrays => barsToArrays(loadBars(realData('crypto-5m', 'LTC_BTC-5m.feather'))),
  perp5m: (): BarArrays => barsToArrays(loadBars(realData('perp', 'XRP_USDT_USDT-5m-futures.feather'))),
  mark1h: (): BarArrays => barsToArrays(loadBars(realData('perp', 'XRP_USDT_USDT-1h-mark.feather'))),
  funding8h: () => fundingToArrays(loadFundingRates(realData('perp', 'XRP_USDT_USDT-8h-funding_rate.feather'))),
  /** 5-minute bars of one Shanghai A-share (the only recorded stock bars), in UTC. */
  stock5m: (): BarArrays => barsToArrays(loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 })),
};

function klineRow(a: BarArrays, i: number, stepMs: number, mark: boolean): unknown[] {
  const f = (x: number): string => x.toPrecision(10);
  return [a.ts[i], f(a.open[i]), f(a.high[i]), f(a.low[i]), f(a.close[i]), mark ? '0' : f(a.volume[i]), a.ts[i] + stepMs - 1, '0', 10, '0', '0', '0'];
}

/** Options of the Binance fake. */
export interface BinanceFakeData {
  /** Finest bars per symbol (aggregated up for coarser intervals). */
  klines: Record<string, BarArrays>;
  /** Mark-price bars per symbol (served for their own interval only). */
  mark?: Record<string, BarArrays>;
  funding?: Record<string, { ts: Float64Array; rate: Float64Array }>;
}

/**
 * Binance: `GET /api/v3/klines`, `/fapi/v1/klines`, `/fapi/v1/markPriceKlines` (rows
 * `[openTime, "o", "h", "l", "c", "v", closeTime, ...]`, at most `limit`, open times in
 * `[startTime, endTime]`), `/fapi/v1/fundingRate` (`[{symbol, fundingRate, fundingTime, markPrice}]`),
 * the `X-MBX-USED-WEIGHT-1M` header, and `{"code": -1121, "msg": "Invalid symbol."}` for unknown symbols.
 */
export async function binanceFake(data: BinanceFakeData, clock?: { now(): number }): Promise<FakeServer> {
  const cache = new Map<string, BarArrays>();
  let last: unknown[] = [];
  let lastBody: unknown;
  let used = 0;
  const series = (symbol: string, interval: string, mark: boolean): BarArrays | undefined => {
    const src = (mark ? data.mark : data.klines)?.[symbol];
    if (!src) return undefined;
    const key = `${symbol}/${interval}/${mark}`;
    if (!cache.has(key)) cache.set(key, mark ? src : aggregate(src, STEP[interval]));
    return cache.get(key);
  };
  return serve((req, fault, res) => {
    used += req.path === '/fapi/v1/fundingRate' ? 1 : req.path.startsWith('/fapi') ? 5 : 2;
    const headers = { 'x-mbx-used-weight-1m': String(fault?.kind === 'usedWeight' ? fault.used : used) };
    if (fault?.kind === 'stale') return send(res, lastBody, undefined, headers);
    const q = req.query;
    const from = Number(q.startTime ?? 0);
    const to = Number(q.endTime ?? Number.MAX_SAFE_INTEGER);
    if (req.path === '/fapi/v1/fundingRate') {
      const f = data.funding?.[q.symbol];
      if (!f) return send(res, [], fault, headers);
      const [i0, i1] = between(f.ts, from, to);
      const rows = Array.from({ length: Math.min(i1 - i0, Number(q.limit ?? 100)) }, (_, k) => ({ symbol: q.symbol, fundingTime: f.ts[i0 + k], fundingRate: f.rate[i0 + k].toFixed(8), markPrice: '1.0' }));
      const body = applyRowFaults(rows, last as typeof rows, fault, (r) => ({ ...r, fundingRate: 'NaN' }));
      last = rows;
      lastBody = body;
      return send(res, body, fault, headers);
    }
    const mark = req.path.endsWith('markPriceKlines');
    const a = series(q.symbol, q.interval, mark);
    if (!a) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }));
      return;
    }
    const [i0, i1] = between(a.ts, from, to);
    const n = Math.min(i1 - i0, Number(q.limit ?? 500));
    const rows = Array.from({ length: n }, (_, k) => klineRow(a, i0 + k, STEP[q.interval], mark));
    const body = applyRowFaults(rows, last as unknown[][], fault, (r) => {
      const b = [...r];
      b[2] = String(Number(r[4]) * 0.5); // high below the close
      return b;
    });
    // An overlapping page still holds at most `limit` rows, as the real endpoint would.
    const limited = body.slice(0, Number(q.limit ?? 500));
    last = rows;
    lastBody = limited;
    send(res, limited, fault, headers);
  }, clock);
}

/**
 * Hyperliquid: `POST /info` with `candleSnapshot` (`[{t, T, s, i, o, h, l, c, v, n}]`, strings for
 * prices) and `fundingHistory` (`[{coin, fundingRate, premium, time}]`, at most `fundingPage` rows).
 */
export async function hyperliquidFake(
  data: { candles: Record<string, BarArrays>; funding?: Record<string, { ts: Float64Array; rate: Float64Array }>; fundingPage?: number; candlePage?: number },
  clock?: { now(): number },
): Promise<FakeServer> {
  const cache = new Map<string, BarArrays>();
  let last: unknown[] = [];
  let lastBody: unknown;
  return serve((req, fault, res) => {
    if (fault?.kind === 'stale') return send(res, lastBody, undefined);
    const b = req.body as {
      type: string; coin?: string; startTime: number; endTime?: number;
      req?: { coin: string; interval: string; startTime: number; endTime: number };
    };
    if (req.path !== '/info' || req.method !== 'POST') {
      res.writeHead(404);
      res.end();
      return;
    }
    if (b.type === 'fundingHistory') {
      const f = data.funding?.[b.coin ?? ''];
      const rows: Record<string, unknown>[] = [];
      if (f) {
        const [i0, i1] = between(f.ts, b.startTime, b.endTime ?? Number.MAX_SAFE_INTEGER);
        for (let i = i0; i < i1 && rows.length < (data.fundingPage ?? 500); i++) rows.push({ coin: b.coin, fundingRate: f.rate[i].toFixed(8), premium: '0.0', time: f.ts[i] });
      }
      const body = applyRowFaults(rows, last as typeof rows, fault, (r) => ({ ...r, fundingRate: 'x' }));
      last = rows;
      lastBody = body;
      return send(res, body, fault);
    }
    if (b.type === 'candleSnapshot' && b.req) {
      const { coin, interval, startTime, endTime } = b.req;
      const src = data.candles[coin];
      const key = `${coin}/${interval}`;
      if (src && !cache.has(key)) cache.set(key, aggregate(src, STEP[interval]));
      const a = cache.get(key);
      const rows: Record<string, unknown>[] = [];
      if (a) {
        const [i0, i1] = between(a.ts, startTime, endTime);
        for (let i = i0; i < i1 && rows.length < (data.candlePage ?? 5000); i++) {
          rows.push({ t: a.ts[i], T: a.ts[i] + STEP[interval] - 1, s: coin, i: interval, o: String(a.open[i]), c: String(a.close[i]), h: String(a.high[i]),
            l: String(a.low[i]), v: String(a.volume[i]), n: 3 });
        }
      }
      const body = applyRowFaults(rows, last as typeof rows, fault, (r) => ({ ...r, l: String(Number(r.h) * 2) }));
      last = rows;
      lastBody = body;
      return send(res, body, fault);
    }
    res.writeHead(422, { 'content-type': 'text/plain' });
    res.end('Failed to deserialize the JSON body into the target type');
  }, clock);
}

/** Credentials the Alpaca fake accepts. */
export interface AlpacaKeys {
  keyId: string;
  secret: string;
}

/**
 * Alpaca: `GET /v2/stocks/bars` with `symbols`, `timeframe`, `start`, `end` (RFC 3339, inclusive),
 * `limit` (over all symbols), `page_token`; answers `{"bars": {"SYM": [{t, o, h, l, c, v, n, vw}]},
 * "next_page_token"}` going through the symbols in sorted order; checks the `APCA-API-*` headers
 * (403 otherwise, echoing the key id the way a careless server might); sends `X-RateLimit-*`.
 */
export async function alpacaFake(data: { bars: Record<string, BarArrays>; keys: AlpacaKeys; remaining?: (n: number) => number },
  clock?: { now(): number }): Promise<FakeServer> {
  let lastBody: unknown;
  let n = 0;
  return serve((req, fault, res) => {
    const headers = {
      'x-ratelimit-limit': '200',
      'x-ratelimit-remaining': String(data.remaining ? data.remaining(n) : 199),
      'x-ratelimit-reset': String(Math.ceil((clock ?? Date).now() / 1000) + 60),
    };
    n++;
    if (req.headers['apca-api-key-id'] !== data.keys.keyId || req.headers['apca-api-secret-key'] !== data.keys.secret) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `forbidden: key ${String(req.headers['apca-api-key-id'])} / ${String(req.headers['apca-api-secret-key'])}` }));
      return;
    }
    if (fault?.kind === 'stale') return send(res, lastBody, undefined, headers);
    const q = req.query;
    const step = { '1Min': 60_000, '5Min': 300_000, '1Hour': 3_600_000, '1Day': 86_400_000 }[q.timeframe] ?? 0;
    const symbols = q.symbols.split(',').sort();
    const from = Date.parse(q.start);
    const to = Date.parse(q.end);
    const limit = Number(q.limit ?? 1000);
    let [si, off] = q.page_token ? JSON.parse(Buffer.from(q.page_token, 'base64').toString('utf8')) : [0, 0];
    const out: Record<string, unknown[]> = {};
    let count = 0;
    while (si < symbols.length && count < limit) {
      const src = data.bars[symbols[si]];
      const a = src ? aggregate(src, step) : undefined;
      const [i0, i1] = a ? between(a.ts, from, to) : [0, 0];
      const list: unknown[] = [];
      while (i0 + off < i1 && count < limit) {
        const i = i0 + off;
        list.push({ t: new Date(a!.ts[i]).toISOString().replace('.000Z', 'Z'), o: a!.open[i], h: a!.high[i], l: a!.low[i], c: a!.close[i], v: a!.volume[i], n: 5, vw: a!.close[i] });
        off++;
        count++;
      }
      if (list.length > 0) out[symbols[si]] = list;
      if (i0 + off >= i1) {
        si++;
        off = 0;
      }
    }
    const more = si < symbols.length;
    const next = more ? Buffer.from(JSON.stringify([si, off])).toString('base64') : null;
    const firstSym = Object.keys(out)[0];
    if (fault && firstSym) out[firstSym] = applyRowFaults(out[firstSym], [], fault, (r) => ({ ...(r as object), v: -1 }));
    const body = { bars: out, next_page_token: next };
    lastBody = body;
    send(res, body, fault, headers);
  }, clock);
}

/** A clock whose sleeps return at once and move its time forward: waits are recorded, not spent. */
export function fakeClock(startMs = Date.now()): { now(): number; sleep(ms: number): Promise<void>; sleeps: number[] } {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

/** The values a fake sends for bars (`toPrecision(10)` text parsed back), to compare what arrived with. */
export function asServed(a: BarArrays, from: number, to: number): { ts: number[]; close: number[]; high: number[] } {
  const [i0, i1] = between(a.ts, from, to - 1);
  const p = (x: number): number => Number(x.toPrecision(10));
  return { ts: Array.from(a.ts.subarray(i0, i1)), close: Array.from(a.close.subarray(i0, i1), p), high: Array.from(a.high.subarray(i0, i1), p) };
}
