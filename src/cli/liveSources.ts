/** The exchange stream sources of `quantbook live` and `quantbook serve`, and their REST backfill, from the live flags. */
import { ConfigError } from '../core/errors';
import { formatDuration } from '../data/interval';
import { createConnector, fetchBarRange, FETCH_INTERVALS, realClock, silentProgress, type FetchInterval } from '../data/fetch';
import { AlpacaBarSource, BinanceKlineSource, type BarSource, type GapReport, type LiveBar } from '../live';

/** The live settings that choose a stream (the rest of `LiveSettings` in live.ts). */
export interface StreamSettings {
  source: 'replay' | 'binance' | 'alpaca';
  streamSymbol?: string;
  streamUrl?: string;
}

/** The live settings of the REST backfill (`--no-backfill`, `--backfill-url`). */
export interface BackfillSettings {
  /** Fetch the bars a stream missed over REST (default true). */
  backfill: boolean;
  /** REST host (default: the provider's public one; a testnet or a local test server). */
  backfillUrl?: string;
}

/**
 * The stream source named by `--source` (`binance` or `alpaca`), for `--stream-symbol` (default:
 * the forecast symbol) at `--stream-url` (default: the exchange's public endpoint).
 * @throws ConfigError for a bar length Binance has none of, Alpaca with a bar other than 1 minute,
 *   or Alpaca without its credentials in the environment.
 * @example createStreamSource(live, 'BTCUSDT', 60_000, log).name // 'binance'
 */
export function createStreamSource(live: StreamSettings, symbol: string, barMs: number, log: (line: string) => void): BarSource {
  const streamSymbol = live.streamSymbol ?? symbol;
  if (live.source === 'binance') return new BinanceKlineSource({ symbol: streamSymbol, barMs, baseUrl: live.streamUrl, log });
  if (live.source === 'alpaca') {
    if (barMs !== 60_000) throw new ConfigError('Alpaca streams minute bars: the data must be 1-minute bars (--bar 1m)', { key: '--bar', value: barMs });
    return new AlpacaBarSource({ symbol: streamSymbol, url: live.streamUrl, log });
  }
  throw new ConfigError(`--source ${live.source} is not a stream`, { key: '--source', value: live.source });
}

/** The backfill of a live session: the loop's hook (absent when off) and what is in effect, for the status lines. */
export interface StreamBackfill {
  hook?: (gap: GapReport) => Promise<LiveBar[]>;
  /** E.g. `on (binance REST BTCUSDT 1m)`, `off (--no-backfill)`. */
  status: string;
}

/** Limits of one backfill call: it holds up the bars behind it, so it gives up sooner than `quantbook data fetch`. */
export const BACKFILL_HTTP = { timeoutMs: 10_000, retry: { maxRetries: 2, maxWaitMs: 10_000 } } as const;

/**
 * The REST backfill of a stream: the missing bars `[afterMs + bar, beforeMs)` of the gap the loop
 * found, fetched through the data-fetch connector of the same provider (`binance` spot klines,
 * symbol upper-cased; `alpaca` stock bars on the stream's feed, `iex` unless `--stream-url` ends
 * in `/sip`) and checked as `quantbook data fetch` checks its pages (`fetchBarRange`). One
 * connector per session, so its rate budget spans the session. Off with `--no-backfill`, for a
 * replay (its gaps are the file's), and for bar lengths the connectors do not fetch.
 * A failing fetch rejects; the loop counts it (`backfillFailures`) and carries on.
 * @throws ConfigError for Alpaca without its credentials in the environment.
 * @example createBackfill({ source: 'binance', streamSymbol: 'btcusdt', backfill: true }, 'BTC', 60_000, log).status // 'on (binance REST BTCUSDT 1m)'
 */
export function createBackfill(live: StreamSettings & BackfillSettings, symbol: string, barMs: number, log: (line: string) => void): StreamBackfill {
  if (!live.backfill) return { status: 'off (--no-backfill)' };
  if (live.source === 'replay') return { status: 'off (a replay has no REST source)' };
  const interval = formatDuration(barMs);
  if (!(FETCH_INTERVALS as readonly string[]).includes(interval)) return { status: `off (no REST bars of ${interval}; the connectors fetch ${FETCH_INTERVALS.join(', ')})` };
  const streamSymbol = live.streamSymbol ?? symbol;
  const restSymbol = live.source === 'binance' ? streamSymbol.toUpperCase() : streamSymbol;
  const connector = createConnector({
    source: live.source,
    baseUrl: live.backfillUrl,
    ...(live.source === 'alpaca' ? { feed: live.streamUrl?.replace(/\/+$/, '').endsWith('/sip') ? 'sip' : 'iex' } : {}),
    ...BACKFILL_HTTP,
    progress: { ...silentProgress, note: (text) => log(`backfill: ${text}`) },
  }, realClock);
  const hook = async (gap: GapReport): Promise<LiveBar[]> => {
    if (!Number.isFinite(gap.beforeMs)) throw new Error(`backfill needs the end of the gap after ${new Date(gap.afterMs).toISOString()}`);
    const r = await fetchBarRange(connector, restSymbol, interval as FetchInterval, [gap.afterMs + barMs, gap.beforeMs]);
    if (r.duplicates > 0) log(`backfill: ${r.duplicates} repeated bar(s) from ${live.source} REST dropped`);
    const { open, high, low, close, volume } = r.cols;
    return Array.from(r.ts, (ts, i) => ({ ts, open: open[i], high: high[i], low: low[i], close: close[i], volume: volume[i] }));
  };
  return { hook, status: `on (${live.source} REST ${restSymbol} ${interval})` };
}
