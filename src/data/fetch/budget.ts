/**
 * Request-weight budgets: each provider charges a weight per request within a time window
 * (Binance: weight per minute per IP; Hyperliquid: 1200 per minute per IP; Alpaca: 200 requests
 * per minute). The budget waits before a request that would pass the limit, follows the server's
 * own count when a response reports it, and holds every request while the server asks to wait.
 */

/** Time source and sleep, injectable so tests run without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Limit of a {@link WeightBudget}. */
export interface BudgetOptions {
  /** Weight allowed per window. */
  limit: number;
  /** Window length, ms (default 60 000). */
  windowMs?: number;
}

/**
 * A sliding-window weight budget.
 * @example const b = new WeightBudget({ limit: 6000 }, realClock); await b.acquire(2) // waits only near the limit
 */
export class WeightBudget {
  readonly limit: number;
  readonly windowMs: number;
  private spent: { at: number; weight: number }[] = [];
  private holdUntil = 0;
  /** Total ms this budget made requests wait. */
  waitedMs = 0;

  constructor(opts: BudgetOptions, private readonly clock: Clock) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs ?? 60_000;
  }

  private used(now: number): number {
    this.spent = this.spent.filter((s) => s.at > now - this.windowMs);
    return this.spent.reduce((n, s) => n + s.weight, 0);
  }

  /** Waits until `weight` fits in the window (and any hold is over), then charges it. */
  async acquire(weight: number): Promise<void> {
    const w = Math.min(weight, this.limit);
    for (;;) {
      const now = this.clock.now();
      let wait = Math.max(0, this.holdUntil - now);
      if (wait === 0) {
        const used = this.used(now);
        if (used + w <= this.limit) {
          this.spent.push({ at: now, weight: w });
          return;
        }
        // Wait until enough of the oldest charges leave the window.
        let free = this.limit - used;
        for (const s of this.spent) {
          free += s.weight;
          if (free >= w) {
            wait = s.at + this.windowMs - now;
            break;
          }
        }
      }
      wait = Math.max(1, Math.ceil(wait));
      this.waitedMs += wait;
      await this.clock.sleep(wait);
    }
  }

  /**
   * Takes the server's count of weight used in the current window (e.g. Binance's
   * `X-MBX-USED-WEIGHT-1M`): when it is above ours, the difference is charged now.
   */
  observeUsed(used: number): void {
    if (!Number.isFinite(used)) return;
    const now = this.clock.now();
    const ours = this.used(now);
    if (used > ours) this.spent.push({ at: now, weight: used - ours });
  }

  /** Holds every request until `untilMs` (a `Retry-After`, or a rate-limit reset with nothing left). */
  holdUntilMs(untilMs: number): void {
    this.holdUntil = Math.max(this.holdUntil, untilMs);
  }
}
