/**
 * Gap filling inside trading windows only: a missing bar between two recorded
 * bars of the same window gets open = high = low = close = the last close and
 * volume 0, and is marked `filled`. Nothing is filled across a window edge
 * (lunch break, overnight, weekend, holiday) nor before a window's first
 * recorded bar, which has no close of its own window to carry.
 */
import pl from 'nodejs-polars';
import { DataError } from '../core/errors';
import { type BarArrays, type Bars, adoptBarArrays, allocBarArrays, concatBars, eachSymbol } from './bars';
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
  const { sessionId, windowStart, windowEnd } = sessionIndex(a.ts, s);
  const { ts, open, high, low, close, volume } = a;
  const n = ts.length;
  const counts: GapCounts = { filled: 0, edgeMissing: 0, outsideSession: 0 };
  // joined[i] = 1 when bar i continues the stretch of bar i - 1 (both in one window; 24x7: both in session).
  const joined = new Uint8Array(n);
  let extra = 0;
  for (let i = 1; i < n; i++) {
    const step = ts[i] - ts[i - 1];
    if (!(step > 0)) throw new DataError('timestamps must be strictly increasing to fill gaps (validate or repair first)', { row: i, column: 'ts', symbol: a.symbol, value: new Date(ts[i]) });
    if (sessionId[i] >= 0 && sessionId[i - 1] >= 0 && (s.continuous || windowStart[i] === windowStart[i - 1])) {
      joined[i] = 1;
      if (step > barMs) extra += Math.ceil(step / barMs) - 1; // the bars the fill loop below inserts
    }
  }
  const m = n + extra;
  const out: FilledArrays = { ...allocBarArrays(m, a.symbol), filled: new Uint8Array(m), counts };
  const { ts: oTs, open: oOpen, high: oHigh, low: oLow, close: oClose, volume: oVolume } = out;
  let k = 0;
  let windowBars = 0; // recorded + filled bars in the current window
  let lastIn = -1; // last bar inside a window
  const closeWindow = (): void => {
    // bars the window should hold minus the ones it has
    if (!s.continuous && lastIn >= 0) counts.edgeMissing += Math.round((windowEnd[lastIn] - windowStart[lastIn]) / barMs) - windowBars;
  };
  for (let i = 0; i < n; i++) {
    const inside = sessionId[i] >= 0;
    if (!inside) counts.outsideSession++;
    if (joined[i]) {
      const c = close[i - 1];
      for (let t = ts[i - 1] + barMs; t < ts[i]; t += barMs) {
        oTs[k] = t;
        oOpen[k] = c;
        oHigh[k] = c;
        oLow[k] = c;
        oClose[k] = c;
        out.filled[k] = 1;
        k++;
        windowBars++;
        counts.filled++;
      }
    } else if (inside && (lastIn < 0 || windowStart[lastIn] !== windowStart[i])) {
      closeWindow();
      windowBars = 0;
    }
    oTs[k] = ts[i];
    oOpen[k] = open[i];
    oHigh[k] = high[i];
    oLow[k] = low[i];
    oClose[k] = close[i];
    oVolume[k] = volume[i];
    k++;
    if (inside) {
      windowBars++;
      lastIn = i;
    }
  }
  closeWindow();
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
    frames.push(adoptBarArrays(f, { filled: pl.Series('filled', f.filled).cast(pl.Bool) }));
  }
  const out = concatBars(frames);
  return { bars: out, filled, bySymbol };
}
