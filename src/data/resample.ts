/**
 * Resampling bars to a coarser interval.
 *
 * Conventions (the same as polars/pandas with `label='left', closed='left'`):
 * - `ts` is a bar's open time; a bucket `[start, start + every)` takes every bar whose open
 *   time falls inside it and is labelled `start`. So 1-minute bars 09:30 ... 09:59 make the
 *   30-minute bar labelled 09:30, and the 09:59 bar (09:59-10:00) is its last.
 * - open = first open, high = max high, low = min low, close = last close, volume = sum.
 * - Without a session (or with `24x7`), buckets are aligned to the Unix epoch in UTC
 *   (30m at :00/:30, 4h at 00:00, 04:00, ... UTC, 1d at UTC midnight; 1w at the epoch's
 *   weekday, Thursday 00:00 UTC).
 * - With a calendar session, buckets are aligned to each window's open and never span a
 *   window edge (US RTH 1h: 09:30, 10:30, ..., 15:30 with a 30-minute last bucket; the A-share
 *   lunch break ends the morning's buckets at 11:30); `1d` gives one bar per session labelled
 *   at the session open. Bars outside every window are left out and counted.
 * - Buckets hold whatever bars exist: no bucket is created without a bar, and partial buckets
 *   (at the data's start or end, or a window's short last bucket) are kept, with `count` telling
 *   how many source bars each one has.
 */
import pl from 'nodejs-polars';
import { ConfigError, DataError } from '../core/errors';
import { type BarArrays, type Bars, adoptSymbolBlocks, allocBarArrays, allocSymbolBlocks, eachSymbol, selectBarColumns } from './bars';
import { type BarIntervals, DAY_MS, assertMultiple, firstUnorderedRow, intervalFor, parseDuration } from './interval';
import { asCompiled, windowRuns, type CompiledSession, type SessionLike, type WindowRuns } from './sessions';

/** Resampled arrays: OHLCV plus the number of source bars per bucket. */
export interface ResampledArrays extends BarArrays {
  count: Int32Array;
  /** Source bars outside every session window (left out). */
  outsideSession: number;
}

/**
 * Resamples one symbol's time-sorted bars (kernel on typed arrays). See the module comment.
 * @param everyMs - target interval in ms; a whole multiple of the bar interval is checked by {@link resample}.
 * @example resampleArrays(oneMinute, 1_800_000).ts // 30-minute labels
 */
export function resampleArrays(a: BarArrays, everyMs: number, session?: SessionLike | CompiledSession): ResampledArrays {
  const plan = planBuckets(a, everyMs, session === undefined ? undefined : asCompiled(session));
  const out = allocBarArrays(plan.buckets, a.symbol);
  const count = new Int32Array(plan.buckets);
  fillBuckets(a, plan, everyMs, out, count);
  return { ...out, count, outsideSession: plan.outsideSession };
}

/** One symbol's resampling plan: its runs, how buckets are anchored, and how many there are. */
interface BucketPlan {
  runs: WindowRuns;
  anchor: number;
  buckets: number;
  outsideSession: number;
}

function planBuckets(a: BarArrays, everyMs: number, s: CompiledSession | undefined): BucketPlan {
  const calendar = s !== undefined && !s.continuous;
  if (calendar && everyMs > DAY_MS) {
    throw new ConfigError('with a calendar session, resample to at most 1d', { key: 'every', value: everyMs });
  }
  // Without a calendar, all bars form one run.
  const runs: WindowRuns = calendar
    ? windowRuns(a.ts, s)
    : { count: 1, start: Int32Array.of(0, a.ts.length), sessionId: Int32Array.of(0), windowStart: Float64Array.of(Number.NaN),
      windowEnd: Float64Array.of(Number.NaN) };
  const anchor = !calendar ? EPOCH : everyMs >= DAY_MS ? SESSION_OPEN : WINDOW_START;
  let outsideSession = 0;
  for (let r = 0; r < runs.count; r++) if (runs.sessionId[r] < 0) outsideSession += runs.start[r + 1] - runs.start[r];
  return { runs, anchor, buckets: countBuckets(a.ts, runs, everyMs, anchor), outsideSession };
}

/*
 * The kernel's two passes live in small functions, each run in full on its first call: V8 then
 * optimizes them with complete type feedback instead of deoptimizing a large function part way.
 * Bars are sorted, so a bucket's bars are contiguous: pass 1 counts buckets, pass 2 fills them.
 * Bars outside every window (runs with session id -1) belong to no bucket.
 */

/** How buckets are anchored: the Unix epoch, the bar's window start, or (1d) the open of its session's first window. */
const EPOCH = 0;
const WINDOW_START = 1;
const SESSION_OPEN = 2;

/** Open time of the bucket holding a bar at `t`, in a window opening at `windowStart` of a session opening at `sessionOpen`. */
function bucketOf(t: number, everyMs: number, anchor: number, windowStart: number, sessionOpen: number): number {
  if (anchor === EPOCH) return Math.floor(t / everyMs) * everyMs;
  return anchor === SESSION_OPEN ? sessionOpen : windowStart + Math.floor((t - windowStart) / everyMs) * everyMs;
}

/** The session open as of run r: the run's window start when r begins a session (after another session or outside bars). */
function sessionOpenAt(runs: WindowRuns, r: number, previous: number): number {
  return runs.start[r] === 0 || runs.sessionId[r - 1] !== runs.sessionId[r] ? runs.windowStart[r] : previous;
}

function countBuckets(ts: Float64Array, runs: WindowRuns, everyMs: number, anchor: number): number {
  let m = 0;
  let last = Number.NaN;
  let sessionOpen = Number.NaN;
  for (let r = 0; r < runs.count; r++) {
    if (runs.sessionId[r] < 0) continue;
    const w = runs.windowStart[r];
    sessionOpen = sessionOpenAt(runs, r, sessionOpen);
    for (let i = runs.start[r]; i < runs.start[r + 1]; i++) {
      const b = bucketOf(ts[i], everyMs, anchor, w, sessionOpen);
      if (b === b && b !== last) {
        m++;
        last = b;
      }
    }
  }
  return m;
}

function fillBuckets(a: BarArrays, plan: BucketPlan, everyMs: number, out: BarArrays, count: Int32Array): void {
  const { runs, anchor } = plan;
  const { ts, open, high, low, close, volume } = a;
  const { ts: oTs, open: oOpen, high: oHigh, low: oLow, close: oClose, volume: oVolume } = out;
  let k = -1;
  let last = Number.NaN;
  let sessionOpen = Number.NaN;
  for (let r = 0; r < runs.count; r++) {
    if (runs.sessionId[r] < 0) continue;
    const w = runs.windowStart[r];
    sessionOpen = sessionOpenAt(runs, r, sessionOpen);
    for (let i = runs.start[r]; i < runs.start[r + 1]; i++) {
      const b = bucketOf(ts[i], everyMs, anchor, w, sessionOpen);
      if (b !== b) continue; // NaN time stamp
      if (b !== last) {
        k++;
        last = b;
        oTs[k] = b;
        oOpen[k] = open[i];
        oHigh[k] = high[i];
        oLow[k] = low[i];
      } else {
        if (high[i] > oHigh[k]) oHigh[k] = high[i];
        if (low[i] < oLow[k]) oLow[k] = low[i];
      }
      oClose[k] = close[i];
      oVolume[k] += volume[i];
      count[k]++;
    }
  }
}

/** Output of {@link resample}. */
export interface ResampleResult {
  /** Resampled bars with an Int32 `count` column (source bars per bucket) after the contract columns. */
  bars: Bars;
  /** Source bars outside every session window, left out (0 without a calendar session). */
  outsideSession: number;
}

/**
 * Resamples a Bars frame (each symbol separately) to `every`, e.g. `'30m'`, `'1h'`, `'4h'`, `'1d'`.
 * See the module comment for the label and closed-side conventions. A frame without rows gives
 * one without rows. `barMs` (only checked: `every` must be a whole multiple of it) is inferred per
 * symbol unless given: one interval, or one per symbol as `validateBars` returns them (`intervalMs`).
 * @throws ConfigError for a bad duration; DataError when `every` is not a whole multiple of a
 *   symbol's bar interval, or timestamps are not strictly increasing.
 * @example resample(oneMinuteRth, '30m', { session: 'us-rth' }).bars.height // 13 bars per day per symbol
 */
export function resample(bars: Bars, every: string | number, opts: { session?: SessionLike; barMs?: BarIntervals; file?: string } = {}): ResampleResult {
  const everyMs = typeof every === 'number' ? every : parseDuration(every);
  const session = opts.session === undefined ? undefined : asCompiled(opts.session);
  const plans: { a: BarArrays; plan: BucketPlan }[] = [];
  let outsideSession = 0;
  for (const { arrays: a } of eachSymbol(bars)) {
    const barMs = intervalFor(opts.barMs, a.symbol, a.ts);
    if (barMs) assertMultiple(everyMs, barMs, opts.file);
    const bad = firstUnorderedRow(a.ts);
    if (bad >= 0) throw new DataError('timestamps must be strictly increasing to resample (validate or repair first)', { file: opts.file, symbol: a.symbol, row: bad, column: 'ts', value: new Date(a.ts[bad]) });
    const plan = planBuckets(a, everyMs, session);
    outsideSession += plan.outsideSession;
    plans.push({ a, plan });
  }
  // A symbol frame without rows gives its columns without rows, as a frame without symbol does.
  if (plans.length === 0) return { bars: selectBarColumns(bars).withColumn(pl.Series('count', new Int32Array(0))), outsideSession };
  // Every symbol's buckets go into one set of columns, made into one frame (which keeps the arrays).
  const blocks = allocSymbolBlocks(
    plans.map((p) => p.plan.buckets),
    plans.map((p) => p.a.symbol),
  );
  const count = new Int32Array(blocks.all.ts.length);
  let start = 0;
  plans.forEach((p, i) => {
    fillBuckets(p.a, p.plan, everyMs, blocks.bySymbol[i], count.subarray(start, start + p.plan.buckets));
    start += p.plan.buckets;
  });
  return { bars: adoptSymbolBlocks(blocks, { count: pl.Series('count', count) }), outsideSession };
}
