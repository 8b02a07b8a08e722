/**
 * Binance spot and USD-M futures market data (public, no key needed).
 *
 * Spot klines, `GET /api/v3/klines` (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data):
 * `symbol, interval, startTime, endTime, limit` (default 500, max 1000); weight 2. Rows are
 * `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades, ...]`,
 * klines are identified by their open time.
 *
 * USD-M futures klines, `GET /fapi/v1/klines`, and mark-price klines, `GET /fapi/v1/markPriceKlines`
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Kline-Candlestick-Data,
 * .../Mark-Price-Kline-Candlestick-Data): limit default 500, max 1500; weight by limit:
 * [1,100) 1, [100,500) 2, [500,1000] 5, >1000 10. We ask for 1000 bars (weight 5: 200 bars per
 * weight against 150 at 1500). Mark-price rows carry `"0"` as volume.
 *
 * Funding history, `GET /fapi/v1/fundingRate`
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History):
 * `symbol, startTime, endTime` (both inclusive), `limit` (default 100, max 1000), ascending;
 * rows `{symbol, fundingRate, fundingTime, markPrice}`; it shares a 500 requests / 5 min / IP
 * limit with `fundingInfo`.
 *
 * Limits (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits): request
 * weight per minute per IP (spot 6000, USD-M futures 2400, per `exchangeInfo`); every response
 * reports the weight used in `X-MBX-USED-WEIGHT-1M`. Too many requests: HTTP 429 with `Retry-After`
 * (seconds); repeating after a 429 earns an IP ban, HTTP 418, also with `Retry-After`
 * (2 minutes up to 3 days). Errors come as `{"code": -1121, "msg": "Invalid symbol."}`.
 */
import { WeightBudget, type Clock } from './budget';
import { BAR_COLUMNS, type Connector, type FetchInterval } from './connector';
import { HttpClient, type HttpClientOptions } from './http';
import { cursorPages, expectArray, jsonNumber, windowPages, type Page, type PageRows, type RawPage } from './paging';
import type { TimeRange } from '../store/ranges';
import { parseDuration } from '../interval';

/** Default hosts. */
export const BINANCE_SPOT_URL = 'https://api.binance.com';
export const BINANCE_FUTURES_URL = 'https://fapi.binance.com';

/** Per-request limits and weights. */
export const BINANCE_LIMITS = {
  spot: { klines: 1000, klineWeight: 2, weightPerMinute: 6000 },
  futures: { klines: 1000, klineWeight: 5, funding: 1000, fundingWeight: 1, weightPerMinute: 2400, fundingPer5Min: 500 },
} as const;

/** Options of {@link binanceConnector}. */
export interface BinanceOptions extends Pick<HttpClientOptions, 'timeoutMs' | 'retry' | 'signal' | 'onRetry'> {
  futures: boolean;
  baseUrl?: string;
  clock: Clock;
  /** Weight per minute to stay under (default: the documented limit). */
  weightPerMinute?: number;
  /** Bars per kline request (default 1000); tests use small pages. */
  pageBars?: number;
}

/** Reads Binance's used-weight header into the budget. */
export function observeBinanceWeight(headers: Headers, budget: WeightBudget): void {
  const used = headers.get('x-mbx-used-weight-1m');
  if (used !== null) budget.observeUsed(Number(used));
}

function klineRows(body: unknown, who: { provider: string; symbol: string; url: string }): PageRows {
  const rows = expectArray(body, who);
  const out: PageRows = { ts: [], cols: Object.fromEntries(BAR_COLUMNS.map((c) => [c, [] as number[]])) };
  for (const r of rows) {
    const a = Array.isArray(r) ? r : [];
    out.ts.push(jsonNumber(a[0]));
    BAR_COLUMNS.forEach((c, k) => out.cols[c].push(jsonNumber(a[k + 1])));
  }
  return out;
}

/**
 * A connector for Binance spot (`futures: false`) or USD-M futures.
 * @example const c = binanceConnector({ futures: false, clock: realClock }); for await (const page of c.bars(['BTCUSDT'], '1m', range, 'bars')) ...
 */
export function binanceConnector(opts: BinanceOptions): Connector {
  const lim = opts.futures ? BINANCE_LIMITS.futures : BINANCE_LIMITS.spot;
  const provider = opts.futures ? 'binance-futures' : 'binance';
  const budget = new WeightBudget({ limit: opts.weightPerMinute ?? lim.weightPerMinute }, opts.clock);
  // The funding endpoint has its own count (500 per 5 minutes), besides the weight.
  const fundingBudget = new WeightBudget({ limit: BINANCE_LIMITS.futures.fundingPer5Min, windowMs: 300_000 }, opts.clock);
  const baseUrl = opts.baseUrl ?? (opts.futures ? BINANCE_FUTURES_URL : BINANCE_SPOT_URL);
  const http = new HttpClient({ ...opts, provider, baseUrl, budget, clock: opts.clock, observe: observeBinanceWeight });
  const pageBars = opts.pageBars ?? lim.klines;
  const klineWeight = opts.futures ? (pageBars < 100 ? 1 : pageBars < 500 ? 2 : pageBars <= 1000 ? 5 : 10) : BINANCE_LIMITS.spot.klineWeight;

  async function* bars(symbols: readonly string[], interval: FetchInterval, range: TimeRange, kind: 'bars' | 'mark'): AsyncGenerator<Page> {
    const path = !opts.futures ? '/api/v3/klines' : kind === 'mark' ? '/fapi/v1/markPriceKlines' : '/fapi/v1/klines';
    for (const symbol of symbols) {
      yield* windowPages(range, parseDuration(interval), pageBars, { provider, symbol }, async (startTime, endTime): Promise<RawPage> => {
        const query = { symbol, interval, startTime, endTime, limit: pageBars };
        const { body } = await http.json({ method: 'GET', path, query, weight: klineWeight, symbol });
        const url = `${baseUrl}${path}?symbol=${symbol}&interval=${interval}&startTime=${startTime}`;
        return { rows: klineRows(body, { provider, symbol, url }), url };
      });
    }
  }

  async function* funding(symbol: string, range: TimeRange): AsyncGenerator<Page> {
    const path = '/fapi/v1/fundingRate';
    const limit = BINANCE_LIMITS.futures.funding;
    yield* cursorPages(range, limit, { provider, symbol }, async (startTime, endTime): Promise<RawPage> => {
      await fundingBudget.acquire(1);
      const { body } = await http.json({ method: 'GET', path, query: { symbol, startTime, endTime, limit }, weight: BINANCE_LIMITS.futures.fundingWeight, symbol });
      const url = `${baseUrl}${path}?symbol=${symbol}&startTime=${startTime}`;
      const rows = expectArray(body, { provider, symbol, url });
      const out: PageRows = { ts: [], cols: { rate: [] } };
      for (const r of rows) {
        const o = (r ?? {}) as Record<string, unknown>;
        out.ts.push(jsonNumber(o.fundingTime));
        out.cols.rate.push(jsonNumber(o.fundingRate));
      }
      return { rows: out, url };
    });
  }

  return {
    source: provider,
    http,
    sessions: false,
    symbolsPerRequest: 1,
    bars,
    ...(opts.futures ? { funding } : {}),
  };
}
