/**
 * Retry timing: capped exponential backoff with jitter for 5xx and network errors, and the
 * `Retry-After` header for 429 and 418 (RFC 9110 section 10.2.3: seconds, or an HTTP date).
 */
import { Rng } from '../../core/random';

/** How a client retries. */
export interface RetryOptions {
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** Backoff before the first retry, ms (default 500); doubles each retry. */
  baseDelayMs?: number;
  /** Cap of one backoff, ms (default 30 000). */
  maxDelayMs?: number;
  /** Longest `Retry-After` (or rate-limit reset) the client waits out, ms (default 600 000); longer is an error. */
  maxWaitMs?: number;
  /** Seed of the jitter (default 0). */
  seed?: number;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

/** Fills the defaults of {@link RetryOptions}.
 * @example retryPolicy({ maxRetries: 2 }).baseDelayMs // 500
 */
export function retryPolicy(opts: RetryOptions = {}): RetryPolicy {
  return { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxWaitMs: 600_000, seed: 0, ...opts };
}

/**
 * Backoff before retry number `retry` (0-based): "equal jitter", uniform in `[c/2, c)` with
 * `c = min(maxDelayMs, baseDelayMs * 2^retry)` (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", 2015): never less than half the cap, so retries spread out without bunching at 0.
 * @example backoffMs(3, retryPolicy({ baseDelayMs: 100 }), new Rng(1)) // in [400, 800)
 */
export function backoffMs(retry: number, policy: RetryPolicy, rng: Rng): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return cap / 2 + rng.uniform() * (cap / 2);
}

/**
 * Parses a `Retry-After` value: delay seconds (`"3"`, `"0.5"` accepted) or an HTTP date.
 * @returns the wait in ms (0 for a date in the past), or undefined when absent or unreadable.
 * @example parseRetryAfter('2', 0) // 2000
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
