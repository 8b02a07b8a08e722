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
import { type BarArrays, type Bars, adoptBarArrays, allocBarArrays, concatBars, eachSymbol } from './bars';
import { DAY_MS, assertMultiple, inferIntervalMs, parseDuration } from './interval';
import { asCompiled, sessionIndex, type CompiledSession, type SessionLike } from './sessions';

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
  const n = a.ts.length;
  const bucket = new Float64Array(n);
  let outsideSession = 0;
  const s = session === undefined ? undefined : asCompiled(session);
  if (!s || s.continuous) {
    for (let i = 0; i < n; i++) bucket[i] = Math.floor(a.ts[i] / everyMs) * everyMs;
  } else {
    if (everyMs > DAY_MS) {
      throw new ConfigError('with a calendar session, resample to at most 1d', { key: 'every', value: everyMs });
    }
    const idx = sessionIndex(a.ts, s);
    let sessionOpen = Number.NaN;
    for (let i = 0; i < n; i++) {
      if (idx.sessionId[i] < 0) {
        bucket[i] = Number.NaN;
        outsideSession++;
        continue;
      }
      if (i === 0 || idx.sessionId[i] !== idx.sessionId[i - 1]) sessionOpen = idx.windowStart[i];
      const w = idx.windowStart[i];
      bucket[i] = everyMs >= DAY_MS ? sessionOpen : w + Math.floor((a.ts[i] - w) / everyMs) * everyMs;
    }
  }
  // Count buckets, then fill: one pass each, bars are sorted so buckets are contiguous.
  let m = 0;
  let last = Number.NaN;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(bucket[i])) continue;
    if (bucket[i] !== last) {
      m++;
      last = bucket[i];
    }
  }
  const out: ResampledArrays = { ...allocBarArrays(m, a.symbol), count: new Int32Array(m), outsideSession };
  let k = -1;
  last = Number.NaN;
  for (let i = 0; i < n; i++) {
    const b = bucket[i];
    if (Number.isNaN(b)) continue;
    if (b !== last) {
      k++;
      last = b;
      out.ts[k] = b;
      out.open[k] = a.open[i];
      out.high[k] = a.high[i];
      out.low[k] = a.low[i];
    } else {
      if (a.high[i] > out.high[k]) out.high[k] = a.high[i];
      if (a.low[i] < out.low[k]) out.low[k] = a.low[i];
    }
    out.close[k] = a.close[i];
    out.volume[k] += a.volume[i];
    out.count[k]++;
  }
  return out;
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
 * See the module comment for the label and closed-side conventions.
 * @throws ConfigError for a bad duration; DataError when `every` is not a whole multiple of a
 *   symbol's bar interval, or timestamps are not strictly increasing.
 * @example resample(oneMinuteRth, '30m', { session: 'us-rth' }).bars.height // 13 bars per day per symbol
 */
export function resample(bars: Bars, every: string | number, opts: { session?: SessionLike; barMs?: number; file?: string } = {}): ResampleResult {
  const everyMs = typeof every === 'number' ? every : parseDuration(every);
  const session = opts.session === undefined ? undefined : asCompiled(opts.session);
  const frames: Bars[] = [];
  let outsideSession = 0;
  for (const { arrays: a } of eachSymbol(bars)) {
    const barMs = opts.barMs ?? inferIntervalMs(a.ts);
    if (barMs) assertMultiple(everyMs, barMs, opts.file);
    for (let i = 1; i < a.ts.length; i++) {
      if (!(a.ts[i] > a.ts[i - 1])) throw new DataError('timestamps must be strictly increasing to resample (validate or repair first)', { file: opts.file, symbol: a.symbol, row: i, column: 'ts', value: new Date(a.ts[i]) });
    }
    const r = resampleArrays(a, everyMs, session);
    outsideSession += r.outsideSession;
    frames.push(adoptBarArrays(r, { count: pl.Series('count', r.count) }));
  }
  return { bars: concatBars(frames), outsideSession };
}
