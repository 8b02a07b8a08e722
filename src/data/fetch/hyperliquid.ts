/**
 * Hyperliquid perpetuals market data through its info endpoint (public, no key needed):
 * `POST https://api.hyperliquid.xyz/info` with a JSON body
 * (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals).
 *
 * Candles: `{"type": "candleSnapshot", "req": {"coin", "interval", "startTime", "endTime"}}` ->
 * `[{"t": openMs, "T": closeMs, "s": coin, "i": interval, "o", "h", "l", "c", "v": strings, "n": trades}]`;
 * at most 5000 candles per response, and only the most recent 5000 candles of an interval are
 * available at all (older 1-minute bars cannot be fetched from Hyperliquid).
 *
 * Funding: `{"type": "fundingHistory", "coin", "startTime", "endTime"}` ->
 * `[{"coin", "fundingRate": string, "premium": string, "time": ms}]`, hourly funding, at most 500
 * rows per response (paged by start time).
 *
 * Limits (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits): REST
 * requests share 1200 weight per minute per IP; these info requests weigh 20, plus 1 per 60
 * candles (candleSnapshot) or per 20 rows (fundingHistory) returned, charged here before the
 * request at the page's most. HTTP 429 when exceeded.
 */
import { ConfigError } from '../../core/errors';
import { WeightBudget, type Clock } from './budget';
import { BAR_COLUMNS, type Connector, type FetchInterval } from './connector';
import { HttpClient, type HttpClientOptions } from './http';
import { cursorPages, expectArray, jsonNumber, windowPages, type Page, type PageRows, type RawPage } from './paging';
import type { TimeRange } from '../store/ranges';
import { parseDuration } from '../interval';

/** Default host. */
export const HYPERLIQUID_URL = 'https://api.hyperliquid.xyz';

/** Documented limits. */
export const HYPERLIQUID_LIMITS = { candles: 5000, funding: 500, weightPerMinute: 1200, baseWeight: 20, candlesPerWeight: 60, fundingPerWeight: 20 } as const;

/** Options of {@link hyperliquidConnector}. */
export interface HyperliquidOptions extends Pick<HttpClientOptions, 'timeoutMs' | 'retry' | 'signal' | 'onRetry'> {
  baseUrl?: string;
  clock: Clock;
  weightPerMinute?: number;
  /** Candles per request (default 5000); tests use small pages. */
  pageBars?: number;
  /** Funding rows per response the server sends at most (default 500), which tells a full page. */
  fundingPage?: number;
}

/**
 * A connector for Hyperliquid perpetuals (`coin` names such as `BTC`, `ETH`).
 * @example hyperliquidConnector({ clock: realClock }).bars(['BTC'], '1h', range, 'bars')
 */
export function hyperliquidConnector(opts: HyperliquidOptions): Connector {
  const provider = 'hyperliquid';
  const baseUrl = opts.baseUrl ?? HYPERLIQUID_URL;
  const budget = new WeightBudget({ limit: opts.weightPerMinute ?? HYPERLIQUID_LIMITS.weightPerMinute }, opts.clock);
  const http = new HttpClient({ ...opts, provider, baseUrl, budget, clock: opts.clock });
  const pageBars = opts.pageBars ?? HYPERLIQUID_LIMITS.candles;
  const fundingPage = opts.fundingPage ?? HYPERLIQUID_LIMITS.funding;
  const url = `${baseUrl}/info`;

  async function* bars(symbols: readonly string[], interval: FetchInterval, range: TimeRange, kind: 'bars' | 'mark'): AsyncGenerator<Page> {
    if (kind === 'mark') throw new ConfigError('hyperliquid has no mark-price candles', { key: '--mark' });
    for (const coin of symbols) {
      yield* windowPages(range, parseDuration(interval), pageBars, { provider, symbol: coin }, async (startTime, endTime): Promise<RawPage> => {
        const weight = HYPERLIQUID_LIMITS.baseWeight + Math.ceil(pageBars / HYPERLIQUID_LIMITS.candlesPerWeight);
        const { body } = await http.json({ method: 'POST', path: '/info', body: { type: 'candleSnapshot', req: { coin, interval, startTime, endTime } }, weight, symbol: coin });
        const who = { provider, symbol: coin, url: `${url} candleSnapshot ${coin} ${interval} from ${startTime}` };
        const out: PageRows = { ts: [], cols: Object.fromEntries(BAR_COLUMNS.map((c) => [c, [] as number[]])) };
        for (const r of expectArray(body, who)) {
          const o = (r ?? {}) as Record<string, unknown>;
          out.ts.push(jsonNumber(o.t));
          out.cols.open.push(jsonNumber(o.o));
          out.cols.high.push(jsonNumber(o.h));
          out.cols.low.push(jsonNumber(o.l));
          out.cols.close.push(jsonNumber(o.c));
          out.cols.volume.push(jsonNumber(o.v));
        }
        return { rows: out, url: who.url };
      });
    }
  }

  async function* funding(coin: string, range: TimeRange): AsyncGenerator<Page> {
    yield* cursorPages(range, fundingPage, { provider, symbol: coin }, async (startTime, endTime): Promise<RawPage> => {
      const weight = HYPERLIQUID_LIMITS.baseWeight + Math.ceil(fundingPage / HYPERLIQUID_LIMITS.fundingPerWeight);
      const { body } = await http.json({ method: 'POST', path: '/info', body: { type: 'fundingHistory', coin, startTime, endTime }, weight, symbol: coin });
      const who = { provider, symbol: coin, url: `${url} fundingHistory ${coin} from ${startTime}` };
      const out: PageRows = { ts: [], cols: { rate: [] } };
      for (const r of expectArray(body, who)) {
        const o = (r ?? {}) as Record<string, unknown>;
        out.ts.push(jsonNumber(o.time));
        out.cols.rate.push(jsonNumber(o.fundingRate));
      }
      return { rows: out, url: who.url };
    });
  }

  return { source: provider, http, sessions: false, symbolsPerRequest: 1, bars, funding };
}
