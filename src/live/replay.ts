/**
 * Replay of a bar file as a live feed, for demos, tests and the load bench: the
 * first bars prime the loop as history, the rest arrive at their close times on
 * a simulated market clock running `speed` times faster than the wall clock.
 */
import type { BarArrays } from '../data/bars';
import type { BarSink, BarSource, LiveBar, LiveClock } from './types';

/** Options of {@link ReplaySource}. */
export interface ReplayOptions {
  /** One symbol's time-sorted bars. */
  bars: BarArrays;
  barMs: number;
  /**
   * Market ms per wall ms: 60 plays 1-minute bars one a second. `Infinity` plays in lock-step:
   * each bar as soon as the loop has handled the one before (the clock reads that bar's close),
   * so every bar is forecast; deterministic, for tests.
   */
  speed: number;
  /** Bars given as history before the replay starts (see {@link ReplaySource.history}). */
  prime: number;
  /** Stop after this many replayed bars. Default: all. */
  maxBars?: number;
}

/**
 * A {@link BarSource} over a bar file. Bar i is delivered when the clock reaches its close,
 * `ts[i] + barMs`; the clock starts at the close of the last primed bar.
 * @throws RangeError for a speed that is not positive, or fewer bars than `prime + 1`.
 * @example
 * const src = new ReplaySource({ bars, barMs: 60_000, speed: 60, prime: 600 });
 * loop.prime(src.history());
 * await src.run({ bar: (b) => loop.onBar(b), gap: () => {}, log: console.error });
 */
export class ReplaySource implements BarSource {
  readonly name = 'replay';
  readonly clock: LiveClock;
  private readonly startMarketMs: number;
  private startWallMs = NaN;
  private lockstepNow: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: ReplayOptions) {
    if (!(opts.speed > 0)) throw new RangeError(`replay speed must be > 0, got ${opts.speed}`);
    if (!(Number.isInteger(opts.prime) && opts.prime >= 0 && opts.prime < opts.bars.ts.length)) {
      throw new RangeError(`replay needs more bars than it primes with: ${opts.bars.ts.length} bars, prime ${opts.prime}`);
    }
    this.startMarketMs = opts.prime > 0 ? opts.bars.ts[opts.prime - 1] + opts.barMs : opts.bars.ts[0];
    this.lockstepNow = this.startMarketMs;
    const lockstep = !Number.isFinite(opts.speed);
    this.clock = {
      speed: opts.speed,
      now: () =>
        lockstep
          ? this.lockstepNow
          : Number.isNaN(this.startWallMs)
            ? this.startMarketMs
            : this.startMarketMs + (performance.now() - this.startWallMs) * opts.speed,
    };
  }

  /** The primed bars (a view of the first `prime`). */
  history(): BarArrays {
    const cut = (x: Float64Array) => x.subarray(0, this.opts.prime);
    const b = this.opts.bars;
    return { ts: cut(b.ts), open: cut(b.open), high: cut(b.high), low: cut(b.low), close: cut(b.close), volume: cut(b.volume),
      ...(b.symbol ? { symbol: b.symbol } : {}) };
  }

  /** Replays the bars after the primed ones; resolves when every delivered bar is handled, or on stop. */
  async run(sink: BarSink): Promise<void> {
    const b = this.opts.bars;
    const end = Math.min(b.ts.length, this.opts.prime + (this.opts.maxBars ?? Infinity));
    const barAt = (i: number): LiveBar => ({ ts: b.ts[i], open: b.open[i], high: b.high[i], low: b.low[i], close: b.close[i], volume: b.volume[i] });
    if (!Number.isFinite(this.opts.speed)) {
      for (let i = this.opts.prime; i < end && !this.stopped; i++) {
        this.lockstepNow = b.ts[i] + this.opts.barMs;
        await sink.bar(barAt(i));
      }
      return;
    }
    this.startWallMs = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = this.opts.prime; i < end && !this.stopped; i++) {
      const dueWall = this.startWallMs + (b.ts[i] + this.opts.barMs - this.startMarketMs) / this.opts.speed;
      // A timer may fire up to a millisecond early (libuv counts whole milliseconds of a cached loop
      // time): sleep again until the bar's close has passed on the clock, never deliver it before.
      for (let wait = dueWall - performance.now(); wait > 0 && !this.stopped; wait = dueWall - performance.now()) {
        await this.sleep(Math.ceil(wait));
      }
      if (this.stopped) break;
      // Delivered on time, not awaited: a slow forecast must not slow the market down.
      const p = sink.bar(barAt(i)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }

  /** Stops the replay; `run` resolves once the bars already delivered are handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}

/**
 * How many leading bars to prime with so that `required` of them lie in the session: the
 * smallest k with `inSession(ts[0..k)) >= required` (missing bars only add context positions, so
 * this is enough for the warm-up), capped at `n - 1` so at least one bar is replayed.
 * @example primeCount(Uint8Array.from([1, 0, 1, 1]), 2) // 3
 */
export function primeCount(inSession: ArrayLike<number>, required: number): number {
  let seen = 0;
  for (let i = 0; i < inSession.length; i++) {
    if (inSession[i]) seen++;
    if (seen >= required) return Math.min(i + 1, inSession.length - 1);
  }
  return Math.max(0, inSession.length - 1);
}
