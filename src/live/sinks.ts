/**
 * Where live forecasts go: `pred_summary_*.json` files written atomically, and an
 * optional Redis pub/sub channel.
 */
import { join } from 'node:path';
import { ConfigError } from '../core/errors';
import { fileStamp } from '../forecast/paths/summary';
import { writeFileAtomic } from '../core/output';
import type { ForecastSink } from './loop';
import type { LiveOutlook } from './types';

/**
 * Writes each summary to `dir/pred_summary_<SYMBOL>_<asof>.json` (the names of `quantbook forecast`;
 * `<asof>` = the bar's close, `YYYYMMDDTHHMMSSZ`) and to `pred_summary_<SYMBOL>_latest.json`, each
 * through a temporary file renamed in the same folder, so a reader never sees half a file. The
 * summary's `files` records both paths (set before writing, so later sinks see them too).
 * @example new SummaryFileSink('out/live').emit(outlook) // writes two files
 */
export class SummaryFileSink implements ForecastSink<LiveOutlook> {
  readonly name = 'summaryFile';
  constructor(private readonly dir: string) {}

  emit(o: LiveOutlook): void {
    const s = o.summary;
    const safe = s.symbol.replace(/[^A-Za-z0-9._-]/g, '_');
    s.files = { ...s.files, summary: join(this.dir, `pred_summary_${safe}_${fileStamp(Date.parse(s.asOf))}.json`), latest: join(this.dir, `pred_summary_${safe}_latest.json`) };
    const text = `${JSON.stringify(s, null, 2)}\n`;
    writeFileAtomic(s.files.summary, text);
    writeFileAtomic(s.files.latest, text);
  }
}

/** The Redis channel of a symbol's summaries: `quantbook:pred_summary:<SYMBOL>`. */
export const redisChannel = (symbol: string): string => `quantbook:pred_summary:${symbol}`;

/** The part of an ioredis client the publisher uses. */
interface RedisLike {
  publish(channel: string, message: string): Promise<number>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * Publishes each summary (the JSON of `pred_summary_*.json`) on a Redis pub/sub channel with
 * ioredis. A failed publish rejects (the loop counts and logs it, and carries on); the client
 * retries its connection in the background and does not queue commands while offline.
 */
export class RedisPublishSink implements ForecastSink<LiveOutlook> {
  readonly name = 'redis';
  readonly channel: string;
  private constructor(private readonly client: RedisLike, channel: string) {
    this.channel = channel;
  }

  /**
   * Connects to `url` (`redis://host:port[/db]`).
   * @throws ConfigError for a URL that is not redis:// or rediss://, or when the first connection fails (naming the URL without its password).
   * @example const pub = await RedisPublishSink.connect('redis://127.0.0.1:6379', 'quantbook:pred_summary:BTC')
   */
  static async connect(url: string, channel: string): Promise<RedisPublishSink> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('--publish must be a redis:// URL', { key: 'publish' });
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError('--publish must be a redis:// or rediss:// URL', { key: 'publish', value: parsed.protocol });
    const shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    const { Redis } = await import('ioredis');
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 3000 });
    client.on('error', () => undefined); // reconnects by itself; failed publishes are counted by the loop
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new ConfigError(`cannot connect to Redis at ${shown}: ${err instanceof Error ? err.message : String(err)}`, { key: 'publish' });
    }
    return new RedisPublishSink(client, channel);
  }

  async emit(o: LiveOutlook): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify(o.summary));
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
