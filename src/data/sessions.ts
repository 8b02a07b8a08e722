/**
 * Trading sessions: when a market trades, in its own time zone, DST-correct.
 *
 * Two concepts matter downstream:
 * - the **session** (a trading day, id `yyyymmdd` in local time): VWAP resets and
 *   end-of-day rules (the backtest's end-of-day leverage) work per session;
 * - the **window** (a stretch of continuous trading inside a session; the A-share
 *   day has two, 09:30-11:30 and 13:00-15:00): gap filling never crosses a window
 *   edge and resampled buckets are anchored at the window start.
 *
 * `continuous` markets (crypto, 24x7) have one endless window; their sessions are
 * UTC calendar days.
 */
import { ConfigError } from '../core/errors';
import { DAY_MS } from './interval';
import { assertTimeZone, tzOffsetMs, tzOffsetRange, wallToUtcMs } from './tz';

/** A trading window in local wall-clock time, `'HH:MM'`, start inclusive, end exclusive. */
export interface SessionWindow {
  start: string;
  end: string;
}

/** A market calendar. */
export type SessionSpec =
  | { kind: 'continuous'; name: string }
  | {
      kind: 'calendar';
      name: string;
      /** IANA time zone of the windows, e.g. `'America/New_York'`. */
      timeZone: string;
      /** Trading windows of a day, in order, not overlapping, not crossing midnight. */
      windows: readonly SessionWindow[];
      /** Trading weekdays, 0 = Sunday ... 6 = Saturday; default Monday-Friday. */
      weekdays?: readonly number[];
      /** Local dates `'YYYY-MM-DD'` without trading. */
      holidays?: readonly string[];
    };

/** NYSE full-day closures 2023-2026 (early closes at 13:00 are not modelled). */
export const NYSE_HOLIDAYS: readonly string[] = [
  '2023-01-02', '2023-01-16', '2023-02-20', '2023-04-07', '2023-05-29', '2023-06-19', '2023-07-04', '2023-09-04', '2023-11-23', '2023-12-25',
  '2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25',
  '2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25',
  '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25',
];

/** Named calendars: `24x7`, `us-rth` (09:30-16:00 New York), `us-ext` (04:00-20:00), `cn-a` (Shanghai, lunch break). */
export const SESSIONS = {
  '24x7': { kind: 'continuous', name: '24x7' },
  'us-rth': { kind: 'calendar', name: 'us-rth', timeZone: 'America/New_York', windows: [{ start: '09:30', end: '16:00' }], holidays: NYSE_HOLIDAYS },
  'us-ext': { kind: 'calendar', name: 'us-ext', timeZone: 'America/New_York', windows: [{ start: '04:00', end: '20:00' }], holidays: NYSE_HOLIDAYS },
  'cn-a': {
    kind: 'calendar',
    name: 'cn-a',
    timeZone: 'Asia/Shanghai',
    windows: [
      { start: '09:30', end: '11:30' },
      { start: '13:00', end: '15:00' },
    ],
  },
} as const satisfies Record<string, SessionSpec>;

/** A session name from {@link SESSIONS} or a spec. */
export type SessionLike = keyof typeof SESSIONS | SessionSpec;

/** A name, spec or already compiled session, compiled once.
 * @example asCompiled('us-rth').timeZone // 'America/New_York'
 */
export function asCompiled(session: SessionLike | CompiledSession): CompiledSession {
  return typeof session === 'object' && 'continuous' in session ? session : compileSession(session);
}

function hhmm(text: string, name: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new ConfigError(`session ${name}: window time must be HH:MM`, { value: text });
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

/** A session spec checked and compiled for per-bar lookups. */
export interface CompiledSession {
  spec: SessionSpec;
  continuous: boolean;
  timeZone: string;
  /** Window [start, end) in ms after local midnight. */
  windows: { startMs: number; endMs: number }[];
  weekdays: Set<number>;
  /** Holidays as days since the epoch (local calendar). */
  holidays: Set<number>;
}

/**
 * Resolves and checks a session (name or spec).
 * @throws ConfigError for an unknown name, a bad time zone, or overlapping / inverted windows.
 * @example compileSession('cn-a').windows.length // 2
 */
export function compileSession(session: SessionLike): CompiledSession {
  const spec: SessionSpec | undefined = typeof session === 'string' ? (SESSIONS as Record<string, SessionSpec>)[session] : session;
  if (!spec) throw new ConfigError(`unknown session (use ${Object.keys(SESSIONS).join(', ')} or a spec)`, { value: session });
  if (spec.kind === 'continuous') return { spec, continuous: true, timeZone: 'UTC', windows: [{ startMs: 0, endMs: DAY_MS }], weekdays: new Set([0, 1, 2, 3, 4, 5, 6]), holidays: new Set() };
  assertTimeZone(spec.timeZone);
  if (spec.windows.length === 0) throw new ConfigError(`session ${spec.name} has no windows`, { key: 'windows' });
  const windows = spec.windows.map((w) => ({ startMs: hhmm(w.start, spec.name), endMs: hhmm(w.end, spec.name) }));
  windows.forEach((w, i) => {
    if (w.endMs <= w.startMs || w.endMs > DAY_MS) throw new ConfigError(`session ${spec.name}: window must end after it starts, within the day`, { value: spec.windows[i] });
    if (i > 0 && w.startMs < windows[i - 1].endMs) throw new ConfigError(`session ${spec.name}: windows overlap or are out of order`, { value: spec.windows[i] });
  });
  const holidays = new Set<number>();
  for (const h of spec.holidays ?? []) {
    const t = Date.parse(`${h}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(h) || Number.isNaN(t)) throw new ConfigError(`session ${spec.name}: holiday must be YYYY-MM-DD`, { value: h });
    holidays.add(t / DAY_MS);
  }
  return { spec, continuous: false, timeZone: spec.timeZone, windows, weekdays: new Set(spec.weekdays ?? [1, 2, 3, 4, 5]), holidays };
}

/** Per-bar session facts, parallel to the input timestamps. */
export interface SessionIndex {
  /** Trading day as `yyyymmdd` (local date; UTC date for continuous markets), `-1` outside every window. */
  sessionId: Int32Array;
  /** UTC ms where the bar's window opens (continuous: UTC midnight of its day); NaN outside. */
  windowStart: Float64Array;
  /** UTC ms where the bar's window closes (exclusive); NaN outside. */
  windowEnd: Float64Array;
}

function yyyymmdd(day: number): number {
  const d = new Date(day * DAY_MS);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/**
 * Labels each bar (by its open time) with its session and window. A bar belongs to a window when
 * `windowStart <= ts < windowEnd`, in local wall time of the session's zone.
 * @param ts - bar open times, ms UTC (any order).
 * @example sessionIndex(new Float64Array([Date.parse('2024-03-11T13:30:00Z')]), 'us-rth').sessionId[0] // 20240311 (09:30 EDT)
 */
export function sessionIndex(ts: Float64Array, session: SessionLike | CompiledSession): SessionIndex {
  const s = asCompiled(session);
  const n = ts.length;
  const sessionId = new Int32Array(n).fill(-1);
  const windowStart = new Float64Array(n).fill(Number.NaN);
  const windowEnd = new Float64Array(n).fill(Number.NaN);
  let lastDay = Number.NaN;
  let lastDayId = -1;
  let lastTrading = false;
  const winUtc: { start: number; end: number }[] = [];
  let off = { offset: 0, from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
  // The window of the previous bar: sorted bars mostly fall in it again, which needs no lookup.
  let curStart = Number.POSITIVE_INFINITY;
  let curEnd = Number.NEGATIVE_INFINITY;
  let curId = -1;
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (t >= curStart && t < curEnd) {
      sessionId[i] = curId;
      windowStart[i] = curStart;
      windowEnd[i] = curEnd;
      continue;
    }
    if (s.continuous) {
      const day = Math.floor(t / DAY_MS);
      if (day !== lastDay) {
        lastDay = day;
        lastDayId = yyyymmdd(day);
      }
      sessionId[i] = curId = lastDayId;
      windowStart[i] = curStart = day * DAY_MS;
      windowEnd[i] = curEnd = (day + 1) * DAY_MS;
      continue;
    }
    if (!(t >= off.from && t < off.to)) off = tzOffsetRange(s.timeZone, t);
    const local = t + off.offset;
    const day = Math.floor(local / DAY_MS);
    if (day !== lastDay) {
      lastDay = day;
      lastDayId = yyyymmdd(day);
      const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
      lastTrading = s.weekdays.has(weekday) && !s.holidays.has(day);
      winUtc.length = 0;
      if (lastTrading) {
        for (const w of s.windows) {
          winUtc.push({ start: wallToUtcMs(s.timeZone, day * DAY_MS + w.startMs, 'earliest'), end: wallToUtcMs(s.timeZone, day * DAY_MS + w.endMs, 'earliest') });
        }
      }
    }
    if (!lastTrading) continue;
    for (const w of winUtc) {
      if (t >= w.start && t < w.end) {
        sessionId[i] = curId = lastDayId;
        windowStart[i] = curStart = w.start;
        windowEnd[i] = curEnd = w.end;
        break;
      }
    }
  }
  return { sessionId, windowStart, windowEnd };
}

/**
 * Flags the last bar of each session (the bar after which the trading day ends) for one
 * symbol's time-sorted bars: `1` where the next bar has another session id or there is no next bar.
 * Bars outside every window get `0`. The backtest uses it for end-of-day leverage rules.
 * @example lastBarOfSession(ts, 'us-rth') // Uint8Array with 1 at each day's 15:59 bar (1m bars)
 */
export function lastBarOfSession(ts: Float64Array, session: SessionLike | CompiledSession): Uint8Array {
  const { sessionId } = sessionIndex(ts, session);
  const out = new Uint8Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    if (sessionId[i] < 0) continue;
    let j = i + 1;
    while (j < ts.length && sessionId[j] < 0) j++;
    if (j >= ts.length || sessionId[j] !== sessionId[i]) out[i] = 1;
  }
  return out;
}

/**
 * Every bar open time the calendar expects in `[startMs, endMs)`: for each trading day and window,
 * `windowStart + k * barMs` while before the window end. Continuous markets: every multiple of
 * `barMs` since the epoch.
 * @example sessionTimestamps('us-rth', Date.parse('2024-03-11'), Date.parse('2024-03-12'), 60_000).length // 390
 */
export function sessionTimestamps(session: SessionLike | CompiledSession, startMs: number, endMs: number, barMs: number): Float64Array {
  const s = asCompiled(session);
  const out: number[] = [];
  if (s.continuous) {
    for (let t = Math.ceil(startMs / barMs) * barMs; t < endMs; t += barMs) out.push(t);
    return Float64Array.from(out);
  }
  const firstDay = Math.floor((startMs + tzOffsetMs(s.timeZone, startMs)) / DAY_MS) - 1;
  const lastDay = Math.floor((endMs + tzOffsetMs(s.timeZone, endMs)) / DAY_MS) + 1;
  for (let day = firstDay; day <= lastDay; day++) {
    const weekday = (((day + 4) % 7) + 7) % 7;
    if (!s.weekdays.has(weekday) || s.holidays.has(day)) continue;
    for (const w of s.windows) {
      const a = wallToUtcMs(s.timeZone, day * DAY_MS + w.startMs, 'earliest');
      const b = wallToUtcMs(s.timeZone, day * DAY_MS + w.endMs, 'earliest');
      for (let t = a; t < b; t += barMs) if (t >= startMs && t < endMs) out.push(t);
    }
  }
  return Float64Array.from(out);
}
