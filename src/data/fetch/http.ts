/**
 * The one HTTP client of the connectors, on Node's built-in `fetch` (undici): a timeout on every
 * request, the provider's weight budget, retries of 429/418 after `Retry-After`, of 5xx, network
 * errors, timeouts and unreadable JSON after capped exponential backoff with seeded jitter, and
 * credentials kept out of every message it produces.
 */
import { DataError } from '../../core/errors';
import { Rng } from '../../core/random';
import { realClock, type Clock, type WeightBudget } from './budget';
import { backoffMs, parseRetryAfter, retryPolicy, type RetryOptions, type RetryPolicy } from './retry';

/** Options of an {@link HttpClient}. */
export interface HttpClientOptions {
  /** Provider name for messages (`binance`, `alpaca`, ...). */
  provider: string;
  /** Scheme and host (and path prefix) the request paths are appended to. */
  baseUrl: string;
  /** Limit of one attempt, headers and body, ms (default 30 000). */
  timeoutMs?: number;
  retry?: RetryOptions;
  budget: WeightBudget;
  clock?: Clock;
  /** Headers of every request (credentials go here, and in `secrets`). */
  headers?: Record<string, string>;
  /** Values never to show in a message (API keys); replaced by `[redacted]`. */
  secrets?: string[];
  /** Reads rate-limit headers of each response into the budget. */
  observe?: (headers: Headers, budget: WeightBudget, nowMs: number) => void;
  /** Stops the fetch between attempts and aborts the one in flight. */
  signal?: AbortSignal;
  /** Told about every retry and wait, for progress output. */
  onRetry?: (event: RetryEvent) => void;
}

/** One retry, as reported to `onRetry`. */
export interface RetryEvent {
  provider: string;
  path: string;
  reason: string;
  waitMs: number;
  attempt: number;
}

/** One request as sent, for reports and tests. */
export interface RequestRecord {
  atMs: number;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  weight: number;
  /** HTTP status, or `network` / `timeout` / `json` for failures without a usable response. */
  outcome: number | 'network' | 'timeout' | 'json';
}

/** A request for {@link HttpClient.json}. */
export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Documented weight of this request. */
  weight: number;
  /** Symbol the request is about, for messages. */
  symbol?: string;
}

/**
 * Replaces every secret in `text` with `[redacted]`.
 * @example redact('key abc123 refused', ['abc123']) // 'key [redacted] refused'
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * HTTP client of one provider: one budget, one retry policy, one jitter stream (seeded).
 * @example const http = new HttpClient({ provider: 'binance', baseUrl: BINANCE_SPOT_URL, budget }); await http.json({ method: 'GET', path: '/api/v3/klines',
 * query, weight: 2 })
 */
export class HttpClient {
  /** Every attempt, in order. */
  readonly log: RequestRecord[] = [];
  retries = 0;
  waitedMs = 0;
  private readonly policy: RetryPolicy;
  private readonly rng: Rng;
  private readonly clock: Clock;

  constructor(private readonly opts: HttpClientOptions) {
    this.policy = retryPolicy(opts.retry);
    this.rng = new Rng(this.policy.seed);
    this.clock = opts.clock ?? realClock;
  }

  /** Requests sent (attempts, retries included). */
  get requests(): number {
    return this.log.length;
  }

  private fail(problem: string, req: JsonRequest, extra: Record<string, unknown> = {}): DataError {
    const secrets = this.opts.secrets ?? [];
    return new DataError(redact(`${this.opts.provider}: ${problem}`, secrets), {
      file: redact(this.opts.baseUrl + req.path, secrets),
      ...(req.symbol !== undefined ? { symbol: req.symbol } : {}),
      ...extra,
    });
  }

  /**
   * Sends a request and returns its parsed JSON body, retrying as the policy says.
   * @throws DataError for a 4xx other than 429/418 (with the provider's message), a wait longer
   *   than `maxWaitMs`, retries used up, or an abort; never with a credential in it.
   */
  async json(req: JsonRequest): Promise<{ body: unknown; headers: Headers }> {
    const query = Object.fromEntries(Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    const qs = new URLSearchParams(query).toString();
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}${req.path}${qs ? `?${qs}` : ''}`;
    const secrets = this.opts.secrets ?? [];
    for (let attempt = 0; ; attempt++) {
      if (this.opts.signal?.aborted) throw this.fail('fetch interrupted', req);
      await this.opts.budget.acquire(req.weight);
      const record: RequestRecord = { atMs: this.clock.now(), method: req.method, path: req.path, weight: req.weight, outcome: 'network', ...(qs ? { query } : {}), ...(req.body !== undefined ? { body: req.body } : {}) };
      this.log.push(record);
      let retryReason: string;
      let waitMs: number | undefined;
      const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
      // AbortSignal.any is in Node >= 20.3 (engines: >= 20.19) but not in @types/node 20's typings.
      const signal = this.opts.signal ? (AbortSignal as unknown as { any(signals: AbortSignal[]): AbortSignal }).any([timeout, this.opts.signal]) : timeout;
      try {
        const res = await fetch(url, {
          method: req.method,
          headers: { accept: 'application/json', ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...this.opts.headers },
          body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
          signal,
        });
        const text = await res.text();
        record.outcome = res.status;
        this.opts.observe?.(res.headers, this.opts.budget, this.clock.now());
        if (res.ok) {
          try {
            return { body: JSON.parse(text) as unknown, headers: res.headers };
          } catch {
            record.outcome = 'json';
            retryReason = `response is not valid JSON (${text.length} bytes, truncated?)`;
          }
        } else if (res.status === 429 || res.status === 418) {
          waitMs = parseRetryAfter(res.headers.get('retry-after'), this.clock.now());
          retryReason = `HTTP ${res.status} ${res.status === 418 ? '(IP banned for exceeding rate limits)' : '(rate limited)'}${waitMs !== undefined ? `, Retry-After ${waitMs / 1000} s` : ''}`;
          if (waitMs !== undefined && waitMs > this.policy.maxWaitMs) {
            throw this.fail(`${retryReason}: longer than the ${this.policy.maxWaitMs / 1000} s this fetch waits; try again later`, req);
          }
        } else if (res.status >= 500) {
          retryReason = `HTTP ${res.status}`;
        } else {
          throw this.fail(`HTTP ${res.status}: ${text.slice(0, 300).replace(/\s+/g, ' ')}`, req);
        }
      } catch (err) {
        if (err instanceof DataError) throw err;
        if (this.opts.signal?.aborted) throw this.fail('fetch interrupted', req);
        const name = (err as Error).name;
        const timedOut = name === 'TimeoutError' || (name === 'AbortError' && timeout.aborted);
        record.outcome = timedOut ? 'timeout' : 'network';
        const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
        retryReason = timedOut ? `no response within ${(this.opts.timeoutMs ?? 30_000) / 1000} s` : `network error: ${cause}`;
      }
      if (attempt >= this.policy.maxRetries) throw this.fail(`gave up after ${attempt + 1} attempts; last: ${retryReason}`, req);
      const wait = waitMs ?? backoffMs(attempt, this.policy, this.rng);
      this.retries++;
      this.waitedMs += wait;
      this.opts.onRetry?.({ provider: this.opts.provider, path: req.path, reason: redact(retryReason, secrets), waitMs: wait, attempt: attempt + 1 });
      if (waitMs !== undefined) this.opts.budget.holdUntilMs(this.clock.now() + wait);
      else await this.clock.sleep(wait);
    }
  }
}
