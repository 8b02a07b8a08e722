/**
 * Alpaca market data v2, historical stock bars
 * (https://docs.alpaca.markets/reference/stockbars): `GET https://data.alpaca.markets/v2/stocks/bars`
 * with `symbols` (comma-separated, several per request), `timeframe` (`1Min`, `5Min`, `1Hour`,
 * `1Day`), `start` / `end` (RFC 3339, both inclusive), `limit` (1..10000, default 1000, counted
 * over all symbols of the page), `feed` (`iex`, free; `sip`, all US exchanges, paid), `adjustment`
 * (`raw`, `split`, `dividend`, `all`), `sort=asc` and `page_token`. The response is
 * `{"bars": {"AAPL": [{"t": RFC 3339, "o", "h", "l", "c", "v", "n", "vw"}], ...}, "next_page_token": string | null}`;
 * pages run through the symbols in order, each symbol's bars in time order.
 *
 * Authentication (https://docs.alpaca.markets/docs/authentication): headers `APCA-API-KEY-ID` and
 * `APCA-API-SECRET-KEY`, read here from the environment variables `APCA_API_KEY_ID` and
 * `APCA_API_SECRET_KEY` only, and redacted from every message.
 *
 * Limits (https://alpaca.markets/support/usage-limit-api-calls): 200 requests per minute per
 * account on the free plan; responses carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 * `X-RateLimit-Reset` (Unix seconds); over the limit, HTTP 429.
 */
import { ConfigError, DataError } from '../../core/errors';
import { WeightBudget, type Clock } from './budget';
import { BAR_COLUMNS, type Connector, type FetchInterval } from './connector';
import { HttpClient, type HttpClientOptions } from './http';
import { jsonNumber, type Page, type PageRows } from './paging';
import type { TimeRange } from '../store/ranges';
import { parseDuration } from '../interval';

/** Default host. */
export const ALPACA_DATA_URL = 'https://data.alpaca.markets';

/** Timeframe names of the bars endpoint. */
export const ALPACA_TIMEFRAMES: Record<FetchInterval, string> = { '1m': '1Min', '5m': '5Min', '1h': '1Hour', '1d': '1Day' };

/** Documented limits. */
export const ALPACA_LIMITS = { bars: 10_000, requestsPerMinute: 200 } as const;

/** Options of {@link alpacaConnector}. */
export interface AlpacaOptions extends Pick<HttpClientOptions, 'timeoutMs' | 'retry' | 'signal' | 'onRetry'> {
  baseUrl?: string;
  clock: Clock;
  /** Where the credentials come from (default `process.env`). */
  env?: Record<string, string | undefined>;
  feed?: 'iex' | 'sip';
  adjustment?: 'raw' | 'split' | 'dividend' | 'all';
  requestsPerMinute?: number;
  /** Bars per page (`limit`, default 10 000). */
  pageBars?: number;
}

/** Reads Alpaca's rate-limit headers: nothing left means wait for the reset. */
export function observeAlpacaLimit(headers: Headers, budget: WeightBudget, nowMs: number): void {
  const remaining = headers.get('x-ratelimit-remaining');
  const reset = headers.get('x-ratelimit-reset');
  if (remaining !== null && Number(remaining) <= 0 && reset !== null && Number.isFinite(Number(reset))) {
    budget.holdUntilMs(Math.max(nowMs, Number(reset) * 1000));
  }
}

/**
 * Reads the Alpaca credentials from the environment.
 * @throws ConfigError naming the missing variable (never a value).
 * @example alpacaCredentials(process.env).keyId // the value of APCA_API_KEY_ID
 */
export function alpacaCredentials(env: Record<string, string | undefined>): { keyId: string; secret: string } {
  const keyId = env.APCA_API_KEY_ID;
  const secret = env.APCA_API_SECRET_KEY;
  if (!keyId || !secret) {
    throw new ConfigError('Alpaca needs APCA_API_KEY_ID and APCA_API_SECRET_KEY in the environment (free keys: https://alpaca.markets)', { key: !keyId ? 'APCA_API_KEY_ID' : 'APCA_API_SECRET_KEY' });
  }
  return { keyId, secret };
}

/**
 * A connector for Alpaca stock bars.
 * @throws ConfigError when the credentials are not in the environment.
 * @example alpacaConnector({ clock: realClock, feed: 'iex' }).bars(['AAPL', 'MSFT'], '1m', range, 'bars')
 */
export function alpacaConnector(opts: AlpacaOptions): Connector {
  const provider = 'alpaca';
  const { keyId, secret } = alpacaCredentials(opts.env ?? process.env);
  const baseUrl = opts.baseUrl ?? ALPACA_DATA_URL;
  const budget = new WeightBudget({ limit: opts.requestsPerMinute ?? ALPACA_LIMITS.requestsPerMinute }, opts.clock);
  const http = new HttpClient({
    ...opts,
    provider,
    baseUrl,
    budget,
    clock: opts.clock,
    headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secret },
    secrets: [keyId, secret],
    observe: observeAlpacaLimit,
  });
  const feed = opts.feed ?? 'iex';
  const adjustment = opts.adjustment ?? 'raw';
  const limit = opts.pageBars ?? ALPACA_LIMITS.bars;
  const path = '/v2/stocks/bars';

  async function* bars(symbols: readonly string[], interval: FetchInterval, range: TimeRange, kind: 'bars' | 'mark'): AsyncGenerator<Page> {
    if (kind === 'mark') throw new ConfigError('alpaca has no mark-price bars', { key: '--mark' });
    const stepMs = parseDuration(interval);
    const seenTokens = new Set<string>();
    const lastTs = new Map<string, number>();
    let token: string | undefined;
    const label = symbols.join(',');
    for (;;) {
      const query = {
        symbols: symbols.join(','),
        timeframe: ALPACA_TIMEFRAMES[interval],
        start: new Date(range[0]).toISOString(),
        end: new Date(range[1] - 1).toISOString(),
        limit,
        feed,
        adjustment,
        sort: 'asc',
        page_token: token,
      };
      const { body } = await http.json({ method: 'GET', path, query, weight: 1, symbol: label });
      const url = `${baseUrl}${path}?symbols=${query.symbols}&timeframe=${query.timeframe}&start=${query.start}${token ? '&page_token=…' : ''}`;
      const page = body as { bars?: unknown; next_page_token?: unknown };
      if (!page || typeof page !== 'object' || !('bars' in page)) throw new DataError(`${provider}: not a bars page (no "bars" key)`, { file: url, symbol: label });
      const next = typeof page.next_page_token === 'string' && page.next_page_token !== '' ? page.next_page_token : undefined;
      const groups = page.bars === null ? {} : (page.bars as Record<string, unknown>);
      if (typeof groups !== 'object' || Array.isArray(groups)) throw new DataError(`${provider}: "bars" is not an object keyed by symbol`, { file: url, symbol: label });
      for (const [symbol, list] of Object.entries(groups)) {
        if (!symbols.includes(symbol)) throw new DataError(`${provider}: page holds bars of ${symbol}, which was not asked for`, { file: url, symbol });
        const rows: PageRows = { ts: [], cols: Object.fromEntries(BAR_COLUMNS.map((c) => [c, [] as number[]])) };
        let outside = 0;
        const prior = lastTs.get(symbol) ?? -Infinity;
        for (const b of Array.isArray(list) ? list : []) {
          const o = (b ?? {}) as Record<string, unknown>;
          const t = typeof o.t === 'string' ? Date.parse(o.t) : Number.NaN;
          // Bars at or before the last one already taken (a page overlapping the previous one) or outside the range asked for.
          if (t < range[0] || t >= range[1] || t <= prior) {
            outside++;
            continue;
          }
          rows.ts.push(t);
          rows.cols.open.push(jsonNumber(o.o));
          rows.cols.high.push(jsonNumber(o.h));
          rows.cols.low.push(jsonNumber(o.l));
          rows.cols.close.push(jsonNumber(o.c));
          rows.cols.volume.push(jsonNumber(o.v));
        }
        const last = rows.ts.length > 0 ? Math.max(...rows.ts.filter((t) => Number.isFinite(t))) : undefined;
        if (last !== undefined) lastTs.set(symbol, Math.max(prior, last));
        // While pages follow, a symbol's bars are known complete only up to its last bar so far.
        const end = next === undefined ? range[1] : last !== undefined ? Math.min(range[1], last + stepMs) : range[0];
        yield { symbol, covered: [range[0], end], rows, outside, stale: 0, url };
      }
      if (next === undefined) {
        // The last page: symbols with no bars in it have none in the range (a holiday, not listed yet).
        // own keys only: a symbol named `constructor` or `toString` is not found on Object.prototype
        for (const symbol of symbols) if (!Object.prototype.hasOwnProperty.call(groups, symbol)) yield { symbol, covered: range,
          rows: { ts: [], cols: Object.fromEntries(BAR_COLUMNS.map((c) => [c, []])) }, outside: 0, stale: 0, url };
        return;
      }
      if (seenTokens.has(next)) throw new DataError(`${provider}: next_page_token repeats an earlier one: the pages loop`, { file: url, symbol: label });
      seenTokens.add(next);
      token = next;
    }
  }

  return { source: provider, http, sessions: true, symbolsPerRequest: 100, bars, options: { feed, adjustment } };
}
