/**
 * Gap filling inside trading windows only: a missing bar between two recorded
 * bars of the same window gets open = high = low = close = the last close and
 * volume 0, and is marked `filled`. Nothing is filled across a window edge
 * (lunch break, overnight, weekend, holiday) nor before a window's first
 * recorded bar, which has no close of its own window to carry.
 */
import pl from 'nodejs-polars';
import { DataError } from '../core/errors';
import { type BarArrays, type Bars, arraysToBars, concatBars, eachSymbol } from './bars';
import { inferIntervalMs } from './interval';
import { asCompiled, sessionIndex, type CompiledSession, type SessionLike } from './sessions';

/** Counts of one symbol's gap filling. */
export interface GapCounts {
  /** Bars inserted. */
  filled: number;
  /** Bars missing at the start or end of a window that has recorded bars (left unfilled). */
  edgeMissing: number;
  /** Recorded bars outside every session window (kept, never used to fill). */
  outsideSession: number;
}

/** Output of the typed-array kernel: the completed arrays plus a `filled` flag per bar. */
export interface FilledArrays extends BarArrays {
  filled: Uint8Array;
  counts: GapCounts;
}

/**
 * Fills gaps of one symbol's time-sorted bars (kernel on typed arrays).
 * @param barMs - bar interval in ms.
 * @throws DataError when timestamps are not strictly increasing.
 * @example fillGapsArrays(oneMinuteBars, 60_000, 'us-rth').counts.filled // bars inserted
 */
export function fillGapsArrays(a: BarArrays, barMs: number, session: SessionLike | CompiledSession): FilledArrays {
  const s = asCompiled(session);
  const idx = sessionIndex(a.ts, s);
  const n = a.ts.length;
  let extra = 0;
  const counts: GapCounts = { filled: 0, edgeMissing: 0, outsideSession: 0 };
  const sameStretch = (i: number): boolean => idx.sessionId[i] >= 0 && idx.sessionId[i - 1] >= 0 && (s.continuous || idx.windowStart[i] === idx.windowStart[i - 1]);
  for (let i = 1; i < n; i++) {
    const step = a.ts[i] - a.ts[i - 1];
    if (!(step > 0)) throw new DataError('timestamps must be strictly increasing to fill gaps (validate or repair first)', { row: i, column: 'ts', symbol: a.symbol, value: new Date(a.ts[i]) });
    if (sameStretch(i) && step > barMs) extra += Math.round(step / barMs) - 1;
  }
  const m = n + extra;
  const out: FilledArrays = {
    ts: new Float64Array(m),
    open: new Float64Array(m),
    high: new Float64Array(m),
    low: new Float64Array(m),
    close: new Float64Array(m),
    volume: new Float64Array(m),
    filled: new Uint8Array(m),
    counts,
    ...(a.symbol !== undefined ? { symbol: a.symbol } : {}),
  };
  let k = 0;
  let windowBars = 0; // recorded + filled bars in the current window
  const closeWindow = (i: number): void => {
    // bars the window should hold minus the ones it has
    if (!s.continuous && i >= 0 && idx.sessionId[i] >= 0) counts.edgeMissing += Math.round((idx.windowEnd[i] - idx.windowStart[i]) / barMs) - windowBars;
  };
  for (let i = 0; i < n; i++) {
    if (idx.sessionId[i] < 0) counts.outsideSession++;
    if (i > 0 && sameStretch(i)) {
      const c = a.close[i - 1];
      for (let t = a.ts[i - 1] + barMs; t < a.ts[i]; t += barMs) {
        out.ts[k] = t;
        out.open[k] = c;
        out.high[k] = c;
        out.low[k] = c;
        out.close[k] = c;
        out.filled[k] = 1;
        k++;
        windowBars++;
        counts.filled++;
      }
    } else if (idx.sessionId[i] >= 0) {
      if (i > 0) closeWindow(i - 1);
      windowBars = 0;
    }
    out.ts[k] = a.ts[i];
    out.open[k] = a.open[i];
    out.high[k] = a.high[i];
    out.low[k] = a.low[i];
    out.close[k] = a.close[i];
    out.volume[k] = a.volume[i];
    k++;
    if (idx.sessionId[i] >= 0) windowBars++;
  }
  closeWindow(n - 1);
  return out;
}

/** Output of {@link fillGaps}. */
export interface FillGapsResult {
  /** Bars with a boolean `filled` column after the contract columns. */
  bars: Bars;
  /** Bars inserted, all symbols. */
  filled: number;
  bySymbol: Record<string, GapCounts>;
}

/**
 * Fills gaps inside session windows for every symbol and marks the inserted rows.
 * The bar interval is inferred per symbol unless `barMs` is given.
 * @param session - calendar deciding where gaps may be filled, e.g. `'us-rth'`, `'24x7'`, `'cn-a'`.
 * @throws DataError for unsorted or duplicate timestamps, or a symbol with a single bar and no `barMs`.
 * @example fillGaps(bars, '24x7').filled // 40 for the crypto-5m folder
 */
export function fillGaps(bars: Bars, session: SessionLike, opts: { barMs?: number } = {}): FillGapsResult {
  const s = asCompiled(session);
  const frames: Bars[] = [];
  const bySymbol: Record<string, GapCounts> = {};
  let filled = 0;
  for (const { arrays: a } of eachSymbol(bars)) {
    const key = a.symbol ?? '';
    const barMs = opts.barMs ?? inferIntervalMs(a.ts);
    if (!barMs) throw new DataError('cannot infer the bar interval of a single bar; pass barMs', { symbol: a.symbol });
    const f = fillGapsArrays(a, barMs, s);
    bySymbol[key] = f.counts;
    filled += f.counts.filled;
    // One frame per symbol right away, so the typed arrays can be freed symbol by symbol.
    frames.push(arraysToBars(f, { filled: pl.Series('filled', f.filled).cast(pl.Bool) }));
  }
  const out = concatBars(frames);
  return { bars: out, filled, bySymbol };
}
