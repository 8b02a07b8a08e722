/**
 * Exchange stream sources: Binance kline WebSocket streams (closed klines only) and
 * Alpaca's minute-bar stream (authenticated from the environment), over one
 * reconnecting WebSocket client with exponential backoff and a heartbeat.
 *
 * References:
 * - Binance kline payload (`k.t` start, `k.x` "Is this kline closed?", prices as strings):
 *   https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Kline-Candlestick-Streams
 *   (the spot stream `wss://stream.binance.com:9443/ws/<symbol>@kline_<interval>` sends the same
 *   event; a connection lasts at most 24 hours, so reconnecting is routine:
 *   https://developers.binance.com/docs/margin_trading/trade-data-stream/Connect).
 * - Alpaca Market Data v2 real-time stream (`wss://stream.data.alpaca.markets/v2/{iex|sip}`,
 *   `{"action":"auth",...}`, `{"action":"subscribe","bars":[...]}`, messages as arrays of
 *   `{"T": type, ...}`, minute bars `T: "b"` with `t` the bar start):
 *   https://alpaca.markets/docs/api-references/market-data-api/stock-pricing-data/realtime/
 */
import WebSocket from 'ws';
import { ConfigError } from '../core/errors';
import { formatDuration } from '../data/interval';
import type { BarSink, BarSource, LiveBar, LiveClock } from './types';

/** Reconnect and heartbeat timing of a stream source. */
export interface StreamOptions {
  /** First reconnect delay, ms; doubles per failed attempt. Default 1000. */
  initialDelayMs?: number;
  /** Longest reconnect delay, ms. Default 30 000. */
  maxDelayMs?: number;
  /** Ping interval, ms; a connection silent (no message, no pong) for two intervals is dropped. Default 30 000. */
  heartbeatMs?: number;
  log?: (line: string) => void;
}

/**
 * Reconnect delay after `attempt` failed connections: `min(max, initial * 2^attempt)` ms
 * (no jitter: one client per process).
 * @example backoffMs(3, 1000, 30_000) // 8000
 */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** attempt);
}

/** A WebSocket feed that reconnects with backoff and reports the gap each reconnect may leave. */
abstract class ReconnectingStream implements BarSource {
  abstract readonly name: string;
  readonly clock: LiveClock = { now: () => Date.now(), speed: 1 };
  /** Connections opened (the first included). */
  connections = 0;
  protected readonly o: Required<Omit<StreamOptions, 'log'>> & { log: (line: string) => void };
  protected lastBarMs = NaN;
  private stopped = false;
  private socket: WebSocket | undefined;
  private fatal: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(protected readonly barMs: number, opts: StreamOptions) {
    this.o = { initialDelayMs: opts.initialDelayMs ?? 1000, maxDelayMs: opts.maxDelayMs ?? 30_000, heartbeatMs: opts.heartbeatMs ?? 30_000,
      log: opts.log ?? (() => undefined) };
  }

  /** The endpoint, without secrets (it is logged). */
  protected abstract url(): string;
  /** Sends what the protocol needs after the socket opens (auth, subscribe). */
  protected abstract opened(ws: WebSocket): void;
  /** Handles one message; returns the closed bars it carried. Throws ConfigError for a fatal reply (bad credentials). */
  protected abstract message(text: string, ws: WebSocket): LiveBar[];

  async run(sink: BarSink): Promise<void> {
    let attempt = 0;
    let downSince = NaN;
    while (!this.stopped) {
      const gotData = await this.connectOnce(sink, () => {
        if (!Number.isNaN(downSince)) {
          const downMs = Date.now() - downSince;
          const missing = Number.isFinite(this.lastBarMs) ? Math.max(0, Math.floor((Date.now() - (this.lastBarMs + this.barMs)) / this.barMs)) : 0;
          sink.log(`${this.name}: reconnected after ${formatDuration(Math.max(1, Math.round(downMs / 1000)) * 1000)} down`);
          // Reported (logged) only: the loop finds the gap when the next bar arrives and fills it through
          // LiveLoopOptions.backfillGap (`quantbook live` passes the REST connector's fetch, see cli/liveSources.ts).
          if (Number.isFinite(this.lastBarMs)) sink.gap({ afterMs: this.lastBarMs, beforeMs: NaN, missingBars: missing, detectedBy: 'source' });
          downSince = NaN;
        }
      });
      if (this.fatal) throw this.fatal;
      if (this.stopped) break;
      if (Number.isNaN(downSince)) downSince = Date.now();
      if (gotData) attempt = 0;
      const delay = backoffMs(attempt++, this.o.initialDelayMs, this.o.maxDelayMs);
      sink.log(`${this.name}: connection lost; reconnecting in ${delay} ms (attempt ${attempt})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.socket?.close();
  }

  /** One connection: resolves when it closes; true when it carried at least one message. */
  private connectOnce(sink: BarSink, onOpen: () => void): Promise<boolean> {
    return new Promise((resolve) => {
      let gotData = false;
      let lastSeen = Date.now();
      const ws = new WebSocket(this.url(), { handshakeTimeout: 10_000 });
      this.socket = ws;
      const heartbeat = setInterval(() => {
        if (Date.now() - lastSeen > 2 * this.o.heartbeatMs) {
          sink.log(`${this.name}: no message or pong for ${Math.round((Date.now() - lastSeen) / 1000)} s; dropping the connection`);
          ws.terminate();
        } else if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, this.o.heartbeatMs);
      ws.on('open', () => {
        this.connections++;
        lastSeen = Date.now();
        onOpen();
        this.opened(ws);
      });
      ws.on('pong', () => (lastSeen = Date.now()));
      ws.on('message', (data) => {
        lastSeen = Date.now();
        gotData = true;
        let bars: LiveBar[];
        try {
          bars = this.message(data.toString(), ws);
        } catch (err) {
          if (err instanceof ConfigError) {
            this.fatal = err;
            ws.close();
            return;
          }
          sink.log(`${this.name}: unreadable message (${err instanceof Error ? err.message : String(err)})`);
          return;
        }
        for (const b of bars) {
          if (!(b.ts <= this.lastBarMs)) this.lastBarMs = b.ts;
          void sink.bar(b);
        }
      });
      ws.on('error', (err) => sink.log(`${this.name}: ${err.message}`));
      ws.on('close', () => {
        clearInterval(heartbeat);
        this.socket = undefined;
        resolve(gotData);
      });
      if (this.stopped) ws.terminate();
    });
  }
}

const BINANCE_INTERVALS: Record<number, string> = { 60_000: '1m', 180_000: '3m', 300_000: '5m', 900_000: '15m', 1_800_000: '30m', 3_600_000: '1h', 7_200_000: '2h', 14_400_000: '4h', 21_600_000: '6h', 28_800_000: '8h', 43_200_000: '12h', 86_400_000: '1d' };

/**
 * One closed bar from a Binance kline event, or undefined for an update of a kline still open
 * (`k.x` false) or another event. Prices and volumes arrive as decimal strings.
 * @throws Error for a kline event whose numbers do not parse.
 * @example binanceClosedKline({ e: 'kline', k: { t: 0, o: '1', h: '2', l: '0.5', c: '1.5', v: '10', x: true } }) // { ts: 0, open: 1, high: 2, low: 0.5,
 * close: 1.5, volume: 10 }
 */
export function binanceClosedKline(event: unknown): LiveBar | undefined {
  // A combined stream (/stream?streams=...) wraps the event as { stream, data }.
  const raw = event as { data?: unknown };
  const e = (raw && typeof raw === 'object' && 'data' in raw ? raw.data : event) as { e?: string; k?: { t: number; o: string; h: string; l: string; c: string; v: string; x: boolean } };
  if (e?.e !== 'kline' || !e.k || e.k.x !== true) return undefined;
  const k = e.k;
  const bar = { ts: Number(k.t), open: Number(k.o), high: Number(k.h), low: Number(k.l), close: Number(k.c), volume: Number(k.v) };
  if (Object.values(bar).some((v) => !Number.isFinite(v))) throw new Error(`kline with unreadable numbers: ${JSON.stringify(k).slice(0, 200)}`);
  return bar;
}

/** Options of {@link BinanceKlineSource}. */
export interface BinanceOptions extends StreamOptions {
  /** Pair, e.g. `btcusdt` (any case). */
  symbol: string;
  barMs: number;
  /** Base URL; default `wss://stream.binance.com:9443`. The stream path `/ws/<symbol>@kline_<interval>` is appended. */
  baseUrl?: string;
}

/**
 * Binance's public kline stream: one bar per closed kline (`k.x === true`), the other updates
 * (every ~2 s while a kline is open) ignored. No credentials.
 * @throws ConfigError for a bar length Binance has no kline interval for.
 * @example new BinanceKlineSource({ symbol: 'btcusdt', barMs: 60_000 }).name // 'binance'
 */
export class BinanceKlineSource extends ReconnectingStream {
  readonly name = 'binance';
  private readonly interval: string;
  constructor(private readonly b: BinanceOptions) {
    super(b.barMs, b);
    const interval = BINANCE_INTERVALS[b.barMs];
    if (!interval) throw new ConfigError(`Binance has no kline interval of ${formatDuration(b.barMs)} (use ${Object.values(BINANCE_INTERVALS).join(', ')})`, { key: '--bar', value: formatDuration(b.barMs) });
    this.interval = interval;
  }

  protected url(): string {
    return `${this.b.baseUrl ?? 'wss://stream.binance.com:9443'}/ws/${this.b.symbol.toLowerCase()}@kline_${this.interval}`;
  }

  protected opened(): void {}

  protected message(text: string): LiveBar[] {
    const bar = binanceClosedKline(JSON.parse(text));
    return bar ? [bar] : [];
  }
}

/** Options of {@link AlpacaBarSource}. */
export interface AlpacaOptions extends StreamOptions {
  /** Ticker, e.g. `QQQ`. */
  symbol: string;
  /** Feed URL; default `wss://stream.data.alpaca.markets/v2/iex` (the free feed; `.../v2/sip` with a paid plan). */
  url?: string;
  /** Environment to read `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Alpaca's minute bars (`T: "b"`) for one symbol. Credentials come from the environment only
 * (`APCA_API_KEY_ID`, `APCA_API_SECRET_KEY`) and never appear in a log line or error. A rejected
 * login is fatal (no reconnect loop against bad keys): `run` rejects with a ConfigError.
 * @throws ConfigError when either variable is unset (naming the variable, not a value).
 * @example new AlpacaBarSource({ symbol: 'QQQ' }).name // 'alpaca'
 */
export class AlpacaBarSource extends ReconnectingStream {
  readonly name = 'alpaca';
  private readonly key: string;
  private readonly secret: string;
  constructor(private readonly a: AlpacaOptions) {
    super(60_000, a);
    const env = a.env ?? process.env;
    for (const name of ['APCA_API_KEY_ID', 'APCA_API_SECRET_KEY']) {
      if (!env[name]) throw new ConfigError(`--source alpaca needs the environment variable ${name}`, { key: name });
    }
    this.key = env.APCA_API_KEY_ID!;
    this.secret = env.APCA_API_SECRET_KEY!;
  }

  protected url(): string {
    return this.a.url ?? 'wss://stream.data.alpaca.markets/v2/iex';
  }

  protected opened(ws: WebSocket): void {
    ws.send(JSON.stringify({ action: 'auth', key: this.key, secret: this.secret }));
  }

  protected message(text: string, ws: WebSocket): LiveBar[] {
    const msgs = JSON.parse(text) as {
      T: string; msg?: string; code?: number; t?: string; o?: number; h?: number; l?: number; c?: number; v?: number; S?: string;
    }[];
    const bars: LiveBar[] = [];
    for (const m of Array.isArray(msgs) ? msgs : []) {
      if (m.T === 'success' && m.msg === 'authenticated') {
        ws.send(JSON.stringify({ action: 'subscribe', bars: [this.a.symbol] }));
        this.o.log(`alpaca: authenticated; subscribed to minute bars of ${this.a.symbol}`);
      } else if (m.T === 'error') {
        const text = `alpaca refused: code ${m.code ?? '?'}, ${m.msg ?? 'no message'}`;
        // 401 not authenticated, 402 auth failed, 404 auth timeout, 406 connection limit exceeded: retrying will not help.
        if ([401, 402, 403, 404, 406, 409].includes(m.code ?? 0)) throw new ConfigError(text, { key: 'APCA_API_KEY_ID' });
        this.o.log(text);
      } else if (m.T === 'b' && m.S === this.a.symbol) {
        const bar = { ts: Date.parse(m.t ?? ''), open: Number(m.o), high: Number(m.h), low: Number(m.l), close: Number(m.c), volume: Number(m.v) };
        if (Object.values(bar).some((v) => !Number.isFinite(v))) throw new Error(`bar with unreadable fields: ${JSON.stringify(m).slice(0, 200)}`);
        bars.push(bar);
      }
    }
    return bars;
  }
}
