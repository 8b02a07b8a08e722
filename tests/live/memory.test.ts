import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { splitFlags, startLive } from '../../src/cli/live';
import type { LiveOutlook } from '../../src/live/types';
import { realData } from '../support/paths';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('live loop memory', () => {
  it('stays flat over 2700 replayed bars: heap after 2500 forecasts within 4 MB of heap after 500, buffer at capacity', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-live-mem-'));
    const heapMb: Record<number, number> = {};
    const probe = {
      name: 'probe',
      emit: (_o: LiveOutlook) => {
        const n = session.loop.stats.forecasts;
        if (n === 500 || n === 2500) {
          gc();
          heapMb[n] = process.memoryUsage().heapUsed / 2 ** 20;
        }
      },
    };
    const { settings, live } = splitFlags({
      source: 'replay', replay: realData('crypto-1m', 'UNITTEST_BTC-1m.feather'), symbol: 'BTC', session: '24x7', model: 'historical',
      samples: '20', horizon: '10', lookback: '120', keepBars: '400', speed: 'max', maxBars: '2700', out,
    });
    const session = await startLive(settings, live, { extraSinks: [probe] });
    try {
      await session.done;
    } finally {
      await session.stop();
      rmSync(out, { recursive: true, force: true });
    }
    const st = session.loop.stats;
    expect(st.barsReceived).toBe(2700);
    expect(st.forecasts).toBeGreaterThanOrEqual(2500);
    expect(st.forecasts + st.skipped.gap).toBe(2700); // the recording's real gaps are the only skips
    expect(session.loop.buffer.length).toBe(400);
    expect(heapMb[2500] - heapMb[500]).toBeLessThan(4);
    console.info(`heap after 500 forecasts ${heapMb[500].toFixed(1)} MB, after 2500 ${heapMb[2500].toFixed(1)} MB`);
  }, 120_000);
});
