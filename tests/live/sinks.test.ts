import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { RedisPublishSink, SummaryFileSink, redisChannel } from '../../src/live/sinks';
import type { LiveOutlook } from '../../src/live/types';
import { freePort, redisMissing, startRedis } from '../support/redis';

function outlook(pUp: number): LiveOutlook {
  const summary = { schema: 'quantbook.pred-summary/1', symbol: 'BTC/USDT', asOf: '2017-11-05T11:15:00.000Z', pUp, files: {} } as unknown as LiveOutlook['summary'];
  return { summary, paths: [], candles: { ts: [], open: [], high: [], low: [], close: [], vwap: [] } };
}

describe('SummaryFileSink', () => {
  it('writes the stamped and the latest summary atomically (no temporary file left), recording both paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-live-sink-'));
    const sink = new SummaryFileSink(dir);
    sink.emit(outlook(0.4));
    const o = outlook(0.6);
    sink.emit(o);
    expect(readdirSync(dir).sort()).toEqual(['pred_summary_BTC_USDT_20171105T111500Z.json', 'pred_summary_BTC_USDT_latest.json']);
    const stamped = JSON.parse(readFileSync(join(dir, 'pred_summary_BTC_USDT_20171105T111500Z.json'), 'utf8'));
    expect(stamped.pUp).toBe(0.6);
    expect(stamped.files).toEqual({ summary: join(dir, 'pred_summary_BTC_USDT_20171105T111500Z.json'), latest: join(dir, 'pred_summary_BTC_USDT_latest.json') });
    expect(readFileSync(join(dir, 'pred_summary_BTC_USDT_latest.json'), 'utf8')).toBe(readFileSync(o.summary.files.summary, 'utf8'));
  });
});

describe.skipIf(redisMissing)(`RedisPublishSink${redisMissing ? ` (skipped: ${redisMissing})` : ''}`, () => {
  it('publishes each summary on the channel; a publish after Redis stopped rejects instead of queueing', async () => {
    const redis = await startRedis();
    const { Redis } = await import('ioredis');
    const sub = new Redis(redis.url);
    try {
      const got: { channel: string; message: string }[] = [];
      await sub.subscribe(redisChannel('BTC'));
      sub.on('message', (channel: string, message: string) => got.push({ channel, message }));
      const pub = await RedisPublishSink.connect(redis.url, redisChannel('BTC'));
      await pub.emit(outlook(0.55));
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toHaveLength(1);
      expect(got[0].channel).toBe('quantbook:pred_summary:BTC');
      expect(JSON.parse(got[0].message)).toMatchObject({ schema: 'quantbook.pred-summary/1', pUp: 0.55 });
      sub.disconnect();
      await redis.stop();
      await expect(pub.emit(outlook(0.5))).rejects.toThrow();
      await pub.close();
    } finally {
      sub.disconnect();
      await redis.stop();
    }
  });
});

describe('RedisPublishSink.connect', () => {
  it('rejects a non-redis URL and an unreachable server with a ConfigError that hides the password', async () => {
    await expect(RedisPublishSink.connect('http://x', 'c')).rejects.toThrow(/redis:\/\//);
    const port = await freePort();
    const err = await RedisPublishSink.connect(`redis://user:secret@127.0.0.1:${port}`, 'c').catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`cannot connect to Redis at redis://127.0.0.1:${port}`);
    expect(err.message).not.toContain('secret');
  });
});
