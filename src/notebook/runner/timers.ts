/**
 * Timers for user-given durations. Node fires a timer set above 2^31-1 ms
 * (about 24.8 days) at once, with only a warning: `--cell-timeout 3000000`
 * (35 days) used to fail the first cell immediately. These timers chain
 * shorter ones up to the deadline instead, so any duration works.
 */

/** The longest delay Node's `setTimeout` honours, in milliseconds (2^31-1). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timer. */
export interface LongTimer {
  /** Cancels the timer; calling it again, or after it fired, does nothing. */
  clear(): void;
}

/**
 * Calls `fn` once after `ms` milliseconds, for any `ms` >= 0 including
 * values above {@link MAX_TIMER_MS} and `Infinity` (never fires), by
 * re-arming a Node timer of at most {@link MAX_TIMER_MS} until the deadline.
 * @param ms - delay in milliseconds, >= 0.
 * @param unref - when true, the timer does not keep the process alive (as `timeout.unref()`).
 * @throws RangeError for a negative or NaN delay.
 * @example const t = setLongTimeout(() => console.log('35 days later'), 35 * 86_400_000); t.clear();
 */
export function setLongTimeout(fn: () => void, ms: number, unref = false): LongTimer {
  if (!(ms >= 0)) throw new RangeError(`a timer needs a delay of 0 ms or more, got ${ms}`);
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const arm = (wait: number) => {
    timer = setTimeout(() => {
      const left = deadline - performance.now();
      if (left > 0) arm(left);
      else {
        done = true;
        fn();
      }
    }, Math.min(wait, MAX_TIMER_MS));
    if (unref) timer.unref();
  };
  arm(ms);
  return {
    clear: () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Resolves after `ms` milliseconds (any `ms` >= 0, see {@link setLongTimeout}) without keeping the process alive.
 * @example await sleep(50)
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setLongTimeout(resolve, ms, true);
  });
}
