import { describe, expect, it } from 'vitest';
import type { BarArrays } from '../../src/data/bars';
import { LiveLoop, type ForecastAttempt, type LiveLoopOptions } from '../../src/live/loop';
import type { LiveBar } from '../../src/live/types';

const MIN = 60_000;
const T0 = Date.parse('2024-06-12T00:00:00Z');
const bar = (i: number, close = 100): LiveBar => ({ ts: T0 + i * MIN, open: close, high: close + 1, low: close - 1, close, volume: 10 });

/** A loop whose forecast returns the newest close after `delayMs` (or as told), on a clock the test sets. */
function harness(over: Partial<LiveLoopOptions<number>> = {}, delayMs = 0) {
  const clock = { now: () => clockNow, speed: 1 };
  let clockNow = T0;
  const emitted: number[] = [];
  const logs: string[] = [];
  const calls: number[] = [];
  const forecast = async (bars: BarArrays, b: LiveBar): Promise<ForecastAttempt<number>> => {
    calls.push(b.ts);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (bars.ts.length < 3) return { kind: 'warmingUp', missing: 3 - bars.ts.length };
    return { kind: 'done', value: bars.close[bars.close.length - 1], quiet: false };
  };
  const loop = new LiveLoop<number>({
    symbol: 'X', barMs: MIN, session: '24x7', capacity: 10, forecast, deadlineMs: Infinity, clock,
    sinks: [{ name: 'collect', emit: (v) => void emitted.push(v) }], log: (l) => logs.push(l), ...over,
  });
  /** Delivers bar i with the clock at its close. */
  const feed = (i: number, close = 100 + i) => {
    clockNow = T0 + (i + 1) * MIN;
    return loop.onBar(bar(i, close));
  };
  return { loop, feed, emitted, logs, calls, setNow: (ms: number) => (clockNow = ms) };
}

describe('LiveLoop', () => {
  it('forecasts each good bar once warm, trimming the buffer to its capacity', async () => {
    const h = harness();
    for (let i = 0; i < 25; i++) await h.feed(i);
    expect(h.emitted).toEqual(Array.from({ length: 23 }, (_, k) => 102 + k));
    expect(h.loop.stats.skipped.warmUp).toBe(2);
    expect(h.loop.stats.forecasts).toBe(23);
    expect(h.loop.buffer.length).toBe(10);
    expect(h.loop.stats.latency.count).toBe(25);
  });

  it('skips and counts a gap, a stale bar, a bar outside the session, an out-of-order and a bad bar, logging each reason', async () => {
    const h = harness({ session: 'us-rth' });
    const rth = Date.parse('2024-06-12T13:30:00Z'); // 09:30 New York
    const at = (k: number, close = 100): LiveBar => ({ ts: rth + k * MIN, open: close, high: close + 1, low: close - 1, close, volume: 1 });
    const deliver = (b: LiveBar, nowMs = b.ts + MIN) => (h.setNow(nowMs), h.loop.onBar(b));
    for (let k = 0; k < 4; k++) await deliver(at(k));
    expect(h.loop.stats.forecasts).toBe(2);
    await deliver(at(7)); // 3 bars missing (k = 4, 5, 6)
    await deliver(at(8), at(8).ts + MIN + 5 * MIN); // closed 5 minutes ago: stale (limit one bar)
    await deliver({ ...at(9), ts: Date.parse('2024-06-12T03:00:00Z') }); // 23:00 New York, before the last bar anyway
    await deliver(at(8)); // same open as the last bar
    await deliver({ ...at(9), low: 200 }); // low above the close
    await deliver({ ...at(9), ts: Date.parse('2024-06-13T02:00:00Z') }); // 22:00 New York: after the last bar, outside the session
    await deliver(at(9));
    const s = h.loop.stats.skipped;
    expect([s.gap, s.stale, s.outOfOrder, s.badBar, s.outsideSession]).toEqual([1, 1, 2, 1, 1]);
    expect([h.loop.stats.gaps, h.loop.stats.missingBars]).toEqual([1, 3]);
    expect(h.loop.stats.forecasts).toBe(3); // bars 2, 3 and 9
    expect(h.logs.find((l) => l.includes(' gap: '))).toMatch(/3 session bars missing before it .*no backfill hook/);
    expect(h.logs.find((l) => l.includes(' stale: '))).toMatch(/closed 300 s ago \(limit 60 s\)/);
    expect(h.logs.find((l) => l.includes(' outsideSession: '))).toMatch(/us-rth/);
    // The stale and gapped bars still enter the buffer (they are data); rejected ones do not.
    expect(Array.from(h.loop.buffer.snapshot().ts).slice(-3)).toEqual([at(7).ts, at(8).ts, at(9).ts]);
  });

  it('an overnight pause of a session market is not a gap; a missing opening bar is', async () => {
    const h = harness({ session: 'us-rth' });
    const day1Close = Date.parse('2024-06-12T19:59:00Z'); // 15:59 New York, the day's last bar
    const day2Open = Date.parse('2024-06-13T13:30:00Z');
    for (const ts of [day1Close - 2 * MIN, day1Close - MIN, day1Close, day2Open, day2Open + 2 * MIN]) {
      h.setNow(ts + MIN);
      await h.loop.onBar({ ...bar(0), ts });
    }
    expect([h.loop.stats.gaps, h.loop.stats.missingBars, h.loop.stats.skipped.gap]).toEqual([1, 1, 1]);
  });

  it('the backfill hook fills a gap: the bar after it is forecast, with the filled bars in the buffer', async () => {
    const asked: number[] = [];
    const h = harness({ backfillGap: async (g) => (asked.push(g.missingBars), [bar(5, 7), bar(4, 6), bar(99, 1)]) });
    for (let i = 0; i < 4; i++) await h.feed(i);
    await h.feed(6);
    expect(asked).toEqual([2]);
    expect(h.loop.stats.skipped.gap).toBe(0);
    expect(h.loop.stats.backfilledBars).toBe(2);
    expect(Array.from(h.loop.buffer.snapshot().close).slice(-3)).toEqual([6, 7, 106]);
    expect(h.emitted.at(-1)).toBe(106);
  });

  it('a failing or short backfill is counted and logged, its bar skipped as a gap; the loop carries on', async () => {
    let calls = 0;
    const h = harness({
      backfillGap: async () => {
        calls++;
        if (calls === 1) throw new Error('HTTP 400: invalid symbol');
        return [bar(6, 50)];
      },
    });
    for (let i = 0; i < 3; i++) await h.feed(i);
    await h.feed(5); // bars 3, 4 missing: the hook throws
    await h.feed(6);
    await h.feed(9); // bars 7, 8 missing: the hook answers with bar 6 only (not in the gap)
    await h.feed(10);
    const st = h.loop.stats;
    expect(calls).toBe(2);
    expect([st.gaps, st.missingBars, st.backfilledBars, st.backfillFailures, st.backfillShort, st.skipped.gap]).toEqual([2, 4, 0, 1, 1, 2]);
    expect(h.logs.find((l) => l.includes('failed: HTTP 400'))).toMatch(/backfill of 2 bars after 2024-06-12T00:02:00Z failed/);
    expect(h.logs.find((l) => l.includes(' gap: ') && l.includes('00:05'))).toMatch(/2 session bars missing .*backfill failed/);
    expect(h.logs.find((l) => l.includes('gave 0 usable'))).toMatch(/backfill of 2 bars after 2024-06-12T00:06:00Z gave 0 usable of 1 returned/);
    expect(h.emitted).toEqual([102, 106, 110]);
  });

  it('newest bar wins: bars arriving during a forecast wait in one slot, older ones are superseded, nothing queues', async () => {
    const h = harness({ maxBarAgeMs: 10 * MIN }, 40); // the test delivers four bars at once
    for (let i = 0; i < 3; i++) await h.feed(i); // warm: bar 2 forecast
    const all = [h.feed(3), h.feed(4), h.feed(5), h.feed(6)];
    await Promise.all(all);
    await h.loop.idle();
    expect(h.calls.slice(3)).toEqual([bar(3).ts, bar(6).ts]);
    expect(h.loop.stats.skipped.superseded).toBe(2);
    expect(h.emitted.slice(-2)).toEqual([103, 106]);
  });

  it('a forecast past its deadline is skipped and its result discarded; the next bar waits for the model, never overlaps', async () => {
    let running = 0;
    let maxRunning = 0;
    const h = harness({
      deadlineMs: 20,
      forecast: async (bars) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, bars.close[bars.close.length - 1] === 103 ? 80 : 1));
        running--;
        return { kind: 'done', value: bars.close[bars.close.length - 1], quiet: false };
      },
    });
    for (let i = 0; i < 4; i++) await h.feed(i);
    await h.feed(4);
    expect(h.loop.stats.skipped.deadline).toBe(1);
    expect(h.emitted).toEqual([100, 101, 102, 104]);
    expect(maxRunning).toBe(1);
    expect(h.logs.some((l) => /deadline: forecast still running after its deadline of 20 ms/.test(l))).toBe(true);
  });

  it('a throwing forecast or sink is counted and logged; the loop carries on', async () => {
    let n = 0;
    const h = harness({
      forecast: async (bars) => {
        if (++n === 2) throw new Error('model exploded');
        return { kind: 'done', value: bars.close.length, quiet: n === 3 };
      },
      sinks: [{ name: 'flaky', emit: () => { if (n === 3) throw new Error('disk full'); } }],
    });
    for (let i = 0; i < 4; i++) await h.feed(i);
    expect(h.loop.stats.skipped.error).toBe(1);
    expect(h.loop.stats.sinkFailures).toEqual({ flaky: 1 });
    expect([h.loop.stats.forecasts, h.loop.stats.quietForecasts]).toEqual([3, 1]);
    expect(h.logs).toContain(`flaky failed for 2024-06-12T00:02:00Z: disk full`);
  });

  it('quiet: skip leaves out bars closing inside a quiet window; flag (default) forecasts them', async () => {
    const quietWindows = [{ label: 'CPI', startMs: T0 + 5 * MIN, endMs: T0 + 7 * MIN }];
    const skip = harness({ quietWindows, quiet: 'skip' });
    for (let i = 0; i < 9; i++) await skip.feed(i);
    expect(skip.loop.stats.skipped.quiet).toBe(2); // bars 4 and 5 close at 5 and 6 minutes
    expect(skip.logs.some((l) => l.endsWith('quiet: inside quiet window CPI'))).toBe(true);
    const flag = harness({ quietWindows });
    for (let i = 0; i < 9; i++) await flag.feed(i);
    expect(flag.loop.stats.skipped.quiet).toBe(0);
  });
});
