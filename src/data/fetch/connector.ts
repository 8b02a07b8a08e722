/**
 * The connector interface: one per provider, each turning "bars of these symbols in this range"
 * into pages. Connectors know the provider's request and response formats and limits; the fetch
 * loop (`fetchToStore`) does the checking, de-duplication and storing.
 */
import type { HttpClient } from './http';
import type { Page } from './paging';
import type { TimeRange } from '../store/ranges';

/** Providers quantbook fetches from. */
export const SOURCES = ['binance', 'binance-futures', 'alpaca', 'hyperliquid'] as const;
export type Source = (typeof SOURCES)[number];

/** Bar intervals every connector offers. */
export const FETCH_INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type FetchInterval = (typeof FETCH_INTERVALS)[number];

/** A provider's market data as pages. */
export interface Connector {
  readonly source: Source;
  readonly http: HttpClient;
  /** Whether bars follow a trading calendar (stocks) rather than running 24x7; known gaps are only counted for 24x7 sources. */
  readonly sessions: boolean;
  /** Symbols one bars request may carry (Alpaca: several; exchanges: 1). */
  readonly symbolsPerRequest: number;
  /** OHLCV bars (or mark-price bars) of `symbols` with open times in `range`. */
  bars(symbols: readonly string[], interval: FetchInterval, range: TimeRange, kind: 'bars' | 'mark'): AsyncGenerator<Page>;
  /** Funding rates of a perpetual with funding times in `range` (`rate` column). */
  funding?(symbol: string, range: TimeRange): AsyncGenerator<Page>;
  /** Request options that shape the data, recorded in the manifest (Alpaca feed and adjustment). */
  readonly options?: Record<string, string>;
}

/** Columns of bar pages. */
export const BAR_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;
