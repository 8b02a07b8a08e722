/** The exchange stream sources of `quantbook live` (filled in with the WebSocket step). */
import { ConfigError } from '../core/errors';
import type { BarSource } from '../live';
import type { LiveSettings } from './live';

/**
 * The stream source named by `--source`.
 * @throws ConfigError for a source without a stream implementation.
 * @example createStreamSource(live, 'BTC', 60_000, log).name // 'binance'
 */
export function createStreamSource(live: LiveSettings, _symbol: string, _barMs: number, _log: (line: string) => void): BarSource {
  throw new ConfigError(`--source ${live.source} is not available yet`, { key: '--source', value: live.source });
}
