/**
 * Time-zone arithmetic through `Intl` (the IANA database that ships with Node),
 * with caching so that per-bar conversions stay cheap on millions of bars.
 */
import { ConfigError } from '../core/errors';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ConfigError('unknown time zone (use an IANA name such as "America/New_York" or "UTC")', { value: timeZone });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Checks that a time zone name is known to `Intl`.
 * @throws ConfigError for an unknown name.
 * @example assertTimeZone('Asia/Shanghai') // ok
 */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

// Offsets change only at whole quarter hours in the IANA database, so one
// lookup per 15-minute bucket is exact.
const BUCKET_MS = 900_000;
const offsetCaches = new Map<string, Map<number, number>>();

/**
 * Offset of local time from UTC in ms at a UTC instant (`local = utc + offset`).
 * @example tzOffsetMs('America/New_York', Date.UTC(2024, 0, 2)) // -18_000_000 (EST, UTC-5)
 */
export function tzOffsetMs(timeZone: string, utcMs: number): number {
  if (timeZone === 'UTC') return 0;
  let cache = offsetCaches.get(timeZone);
  if (!cache) {
    cache = new Map();
    offsetCaches.set(timeZone, cache);
  }
  const bucket = Math.floor(utcMs / BUCKET_MS);
  let off = cache.get(bucket);
  if (off === undefined) {
    const at = bucket * BUCKET_MS;
    const parts = formatter(timeZone).formatToParts(new Date(at));
    const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    off = local - at;
    cache.set(bucket, off);
  }
  return off;
}

/**
 * The offset at `utcMs` and a UTC range `[from, to)` around it where it holds: the whole UTC day
 * when the offset is the same at both ends of the day (no transition inside), else the 15-minute
 * bucket. Lets per-bar loops look the zone up a few times per day instead of per bar.
 * @example tzOffsetRange('UTC', 0) // { offset: 0, from: 0, to: 86_400_000 }
 */
export function tzOffsetRange(timeZone: string, utcMs: number): { offset: number; from: number; to: number } {
  const day = Math.floor(utcMs / 86_400_000) * 86_400_000;
  const a = tzOffsetMs(timeZone, day);
  if (a === tzOffsetMs(timeZone, day + 86_400_000 - BUCKET_MS)) return { offset: a, from: day, to: day + 86_400_000 };
  const bucket = Math.floor(utcMs / BUCKET_MS) * BUCKET_MS;
  return { offset: tzOffsetMs(timeZone, utcMs), from: bucket, to: bucket + BUCKET_MS };
}

/** How a local wall time that occurs twice (DST fall-back) or never (spring-forward) is resolved. */
export type AmbiguousTime = 'raise' | 'earliest' | 'latest';

/**
 * Converts a local wall-clock time (given as ms of a UTC-like clock) in `timeZone` to UTC ms.
 *
 * @param wallMs - the wall time as if it were UTC, e.g. `Date.UTC(2024, 2, 10, 9, 30)`.
 * @returns the UTC instant; `{ ambiguous }` or `{ nonexistent }` markers are returned as NaN
 *   unless `ambiguous` is `'earliest'` / `'latest'` (non-existent times are always NaN).
 * @example wallToUtcMs('America/New_York', Date.UTC(2024, 6, 1, 9, 30)) // Date.UTC(2024, 6, 1, 13, 30)
 */
export function wallToUtcMs(timeZone: string, wallMs: number, ambiguous: AmbiguousTime = 'raise'): number {
  if (timeZone === 'UTC') return wallMs;
  const candidates = wallCandidates(timeZone, wallMs);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) return Number.NaN;
  if (ambiguous === 'raise') return Number.NaN;
  return ambiguous === 'earliest' ? Math.min(...candidates) : Math.max(...candidates);
}

/** Number of candidate instants for a wall time: 0 (skipped by DST), 1, or 2 (repeated).
 * @example wallTimeMultiplicity('America/New_York', Date.UTC(2024, 10, 3, 1, 30)) // 2 (fall-back)
 */
export function wallTimeMultiplicity(timeZone: string, wallMs: number): number {
  if (timeZone === 'UTC') return 1;
  return wallCandidates(timeZone, wallMs).length;
}

/** The UTC instants showing `wallMs` on the clocks of `timeZone` (not UTC): none, one, or two. */
function wallCandidates(timeZone: string, wallMs: number): number[] {
  // The true offset is one of the offsets in force a day either side.
  const o1 = tzOffsetMs(timeZone, wallMs - 86_400_000);
  const o2 = tzOffsetMs(timeZone, wallMs + 86_400_000);
  const candidates: number[] = [];
  for (const o of o1 === o2 ? [o1] : [o1, o2]) {
    const utc = wallMs - o;
    if (tzOffsetMs(timeZone, utc) === o) candidates.push(utc);
  }
  return candidates;
}
