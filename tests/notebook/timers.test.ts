import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout, sleep } from '../../src/notebook/runner/timers';

describe('timers for user-given durations (issue 12: --cell-timeout 3000000 fired at once)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not fire early above 2^31-1 ms, where a bare setTimeout fires at once', async () => {
    const bare = vi.fn();
    const long = vi.fn();
    const bareTimer = setTimeout(bare, 3_000_000_000);
    const timers = [3_000_000_000, MAX_TIMER_MS + 1, Infinity].map((ms) => setLongTimeout(long, ms));
    await sleep(50);
    expect(bare).toHaveBeenCalledTimes(1); // Node's own behaviour, the reason for these timers
    expect(long).not.toHaveBeenCalled();
    clearTimeout(bareTimer);
    for (const t of timers) t.clear();
  });

  it('fires once at the deadline, across as many re-armed timers as it takes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fn = vi.fn();
    setLongTimeout(fn, 3_000_000_000); // 34.7 days: two Node timers
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3_000_000_000 - MAX_TIMER_MS - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('can be cleared before it fires, and refuses a negative or NaN delay', async () => {
    const fn = vi.fn();
    setLongTimeout(fn, 10).clear();
    const fired = vi.fn();
    setLongTimeout(fired, 10);
    await sleep(60);
    expect(fn).not.toHaveBeenCalled();
    expect(fired).toHaveBeenCalledTimes(1);
    expect(() => setLongTimeout(fn, -1)).toThrow(RangeError);
    expect(() => setLongTimeout(fn, NaN)).toThrow(RangeError);
  });
});
