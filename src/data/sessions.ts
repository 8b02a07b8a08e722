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
 * Per-bar arrays expanded from {@link windowRuns}; kernels that walk bars in order use the runs.
 * @param ts - bar open times, ms UTC (any order).
 * @example sessionIndex(new Float64Array([Date.parse('2024-03-11T13:30:00Z')]), 'us-rth').sessionId[0] // 20240311 (09:30 EDT)
 */
export function sessionIndex(ts: Float64Array, session: SessionLike | CompiledSession): SessionIndex {
  const runs = windowRuns(ts, session);
  const n = ts.length;
  const sessionId = new Int32Array(n);
  const windowStart = new Float64Array(n);
  const windowEnd = new Float64Array(n);
  for (let r = 0; r < runs.count; r++) {
    const from = runs.start[r];
    const to = runs.start[r + 1];
    sessionId.fill(runs.sessionId[r], from, to);
    windowStart.fill(runs.windowStart[r], from, to);
    windowEnd.fill(runs.windowEnd[r], from, to);
  }
  return { sessionId, windowStart, windowEnd };
}

/**
 * Bars grouped into runs: maximal stretches of consecutive bars in one window, or outside every
 * window. Time-sorted bars give one run per window that has bars (plus the stretches between
 * them), so a kernel walking bars in order needs a few thousand runs instead of per-bar arrays.
 */
export interface WindowRuns {
  /** Number of runs. */
  count: number;
  /** First bar of each run, then the bar count: run `r` holds bars `start[r]` to `start[r + 1] - 1`. */
  start: Int32Array;
  /** Trading day `yyyymmdd` of each run (as in {@link SessionIndex}), `-1` for a run outside every window. */
  sessionId: Int32Array;
  /** UTC ms where each run's window opens; NaN outside. */
  windowStart: Float64Array;
  /** UTC ms where each run's window closes (exclusive); NaN outside. */
  windowEnd: Float64Array;
}

/**
 * The runs of consecutive bars sharing a window (see {@link WindowRuns}); {@link sessionIndex}
 * holds the same facts per bar. Cost: one comparison per bar plus a window lookup per run.
 * @param ts - bar open times, ms UTC (any order; unsorted bars give more, shorter runs).
 * @example windowRuns(oneDayOfRthMinutes, 'us-rth').count // 1 (390 bars, one window)
 */
export function windowRuns(ts: Float64Array, session: SessionLike | CompiledSession): WindowRuns {
  const locator = new WindowLocator(asCompiled(session));
  const n = ts.length;
  let cap = 16;
  let start = new Int32Array(cap + 1);
  let sessionId = new Int32Array(cap);
  let windowStart = new Float64Array(cap);
  let windowEnd = new Float64Array(cap);
  let count = 0;
  let i = 0;
  while (i < n) {
    locator.locate(ts[i]);
    const id = locator.id;
    // consecutive bars outside every window share one run
    if (id < 0 && count > 0 && sessionId[count - 1] < 0) {
      i++;
      continue;
    }
    if (count === cap) {
      cap *= 2;
      start = grow(start, cap + 1);
      sessionId = grow(sessionId, cap);
      windowStart = grow(windowStart, cap);
      windowEnd = grow(windowEnd, cap);
    }
    start[count] = i;
    sessionId[count] = id < 0 ? -1 : id;
    windowStart[count] = id < 0 ? Number.NaN : locator.start;
    windowEnd[count] = id < 0 ? Number.NaN : locator.end;
    count++;
    i++;
    if (id < 0) continue;
    i = endOfWindow(ts, i, locator.start, locator.end);
  }
  start[count] = n;
  return { count, start: start.subarray(0, count + 1), sessionId: sessionId.subarray(0, count), windowStart: windowStart.subarray(0, count),
    windowEnd: windowEnd.subarray(0, count) };
}

/** The first bar from `i` on that is not in `[start, end)`: sorted bars mostly fall in the previous bar's window again, one comparison each. */
function endOfWindow(ts: Float64Array, i: number, start: number, end: number): number {
  while (i < ts.length && ts[i] >= start && ts[i] < end) i++;
  return i;
}

function grow<T extends Int32Array | Float64Array>(a: T, length: number): T {
  const out = new (a.constructor as new (n: number) => T)(length);
  out.set(a);
  return out;
}

/** A day's trading windows as UTC instants (none on a closed day), with its session id. */
interface DayWindows {
  id: number;
  windows: { start: number; end: number }[];
}

/**
 * Day windows per compiled session (never changed once compiled), shared by every lookup on it:
 * a multi-symbol frame asks for the same days once per symbol, each costing several time-zone
 * conversions.
 */
const dayWindowCache = new WeakMap<CompiledSession, Map<number, DayWindows>>();

function dayWindows(s: CompiledSession, day: number): DayWindows {
  let cache = dayWindowCache.get(s);
  if (!cache) {
    cache = new Map();
    dayWindowCache.set(s, cache);
  }
  let out = cache.get(day);
  if (!out) {
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    const trading = s.weekdays.has(weekday) && !s.holidays.has(day);
    out = {
      id: yyyymmdd(day),
      windows: trading
        ? s.windows.map((w) => ({ start: wallToUtcMs(s.timeZone, day * DAY_MS + w.startMs, 'earliest'), end: wallToUtcMs(s.timeZone, day * DAY_MS + w.endMs, 'earliest') }))
        : [],
    };
    cache.set(day, out);
  }
  return out;
}

/**
 * Finds the window holding an instant. Kept out of the per-bar loop (which only calls it when a
 * bar leaves the previous window) so that loop stays small and stays optimized.
 */
class WindowLocator {
  id = -1;
  start = Number.NaN;
  end = Number.NaN;
  private day = Number.NaN;
  private dayId = -1;
  private windows: { start: number; end: number }[] = [];
  private offset = { offset: 0, from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };

  constructor(private readonly s: CompiledSession) {}

  locate(t: number): void {
    const s = this.s;
    if (s.continuous) {
      const day = Math.floor(t / DAY_MS);
      if (day !== this.day) {
        this.day = day;
        this.dayId = yyyymmdd(day);
      }
      this.id = this.dayId;
      this.start = day * DAY_MS;
      this.end = (day + 1) * DAY_MS;
      return;
    }
    if (!(t >= this.offset.from && t < this.offset.to)) this.offset = tzOffsetRange(s.timeZone, t);
    const day = Math.floor((t + this.offset.offset) / DAY_MS);
    if (day !== this.day) {
      const d = dayWindows(s, day);
      this.day = day;
      this.dayId = d.id;
      this.windows = d.windows;
    }
    this.id = -1;
    for (const w of this.windows) {
      if (t >= w.start && t < w.end) {
        this.id = this.dayId;
        this.start = w.start;
        this.end = w.end;
        return;
      }
    }
  }
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
    for (const w of dayWindows(s, day).windows) {
      for (let t = w.start; t < w.end; t += barMs) if (t >= startMs && t < endMs) out.push(t);
    }
  }
  return Float64Array.from(out);
}

/** What {@link detectContinuous} saw in a symbol's bar times. */
export interface ContinuityEvidence {
  /** Whether the bars show a market open around the clock, every day. */
  continuous: boolean;
  /** Bars on a Saturday or Sunday (UTC). */
  weekendBars: number;
  /** Whether there are bars on both a Saturday and a Sunday (UTC). */
  bothWeekendDays: boolean;
  /** UTC hours of the day (0-23) holding at least one bar. */
  hoursWithBars: number;
}

/**
 * Whether bar times look like a 24x7 market: bars on both a Saturday and a Sunday (UTC) and in at
 * least 20 of the 24 UTC hours. Exchanges with hours (US, China, Tokyo, even futures that reopen on
 * Sunday evening) miss Saturdays and most night hours of their zone; crypto has both.
 * One pass over the bars, no allocation beyond a few counters.
 * @param ts - bar open times, ms UTC (any order).
 * @example detectContinuous(loadedCryptoBars.ts).continuous // true
 */
export function detectContinuous(ts: Float64Array): ContinuityEvidence {
  let hours = 0; // bit h set: a bar in UTC hour h
  let weekendBars = 0;
  let days = 0; // bit 0: a Saturday bar, bit 1: a Sunday bar
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (!Number.isFinite(t)) continue;
    const day = Math.floor(t / DAY_MS);
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    if (weekday === 6 || weekday === 0) {
      weekendBars++;
      days |= weekday === 6 ? 1 : 2;
    }
    hours |= 1 << Math.floor((t - day * DAY_MS) / 3_600_000);
  }
  let hoursWithBars = 0;
  for (let h = 0; h < 24; h++) if (hours & (1 << h)) hoursWithBars++;
  const bothWeekendDays = days === 3;
  return { continuous: bothWeekendDays && hoursWithBars >= 20, weekendBars, bothWeekendDays, hoursWithBars };
}
