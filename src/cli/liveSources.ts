/** The exchange stream sources of `quantbook live` and `quantbook serve`, from the live flags. */
import { ConfigError } from '../core/errors';
import { AlpacaBarSource, BinanceKlineSource, type BarSource } from '../live';

/** The live settings that choose a stream (the rest of `LiveSettings` in live.ts). */
export interface StreamSettings {
  source: 'replay' | 'binance' | 'alpaca';
  streamSymbol?: string;
  streamUrl?: string;
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
