/**
 * Gap filling inside trading windows only: a missing bar between two recorded
 * bars of the same window gets open = high = low = close = the last close and
 * volume 0, and is marked `filled`. Nothing is filled across a window edge
 * (lunch break, overnight, weekend, holiday) nor before a window's first
 * recorded bar, which has no close of its own window to carry.
 */
import pl from 'nodejs-polars';
import { dict } from '../core/dict';
import { DataError } from '../core/errors';
import { type BarArrays, type Bars, adoptSymbolBlocks, allocBarArrays, allocSymbolBlocks, eachSymbol, selectBarColumns, symbolColumnFromRuns } from './bars';
import { type BarIntervals, DAY_MS, firstUnorderedRow, intervalFor } from './interval';
import { asCompiled, windowRuns, type CompiledSession, type SessionLike, type WindowRuns } from './sessions';

/** Counts of one symbol's gap filling. */
export interface GapCounts {
  /** Bars inserted. */
  filled: number;
  /** Bars missing at the start or end of a window that has recorded bars (left unfilled). */
  edgeMissing: number;
  /** Recorded bars outside every session window (kept, never used to fill). */
  outsideSession: number;
}

/** Counts of {@link countGaps}: those of {@link GapCounts} plus the sessions that miss bars. */
export interface SessionGapCounts extends GapCounts {
  /** Sessions (trading days; UTC days in a continuous market) holding at least one bar `filled` would insert. */
  sessionsWithGaps: number;
}

/**
 * Most bars a fill may insert per input bar. A fill is refused (DataError naming the two
 * timestamps around the longest gap) above `MAX_FILL_FACTOR` x the input rows or above
 * {@link MAX_FILLED_BARS} bars in all: a bar stamped a century off would otherwise make the fill
 * allocate the whole century (3 rows, one in 2124: 52 million 1-minute bars, 3 GB).
 */
export const MAX_FILL_FACTOR = 100;

/** Most bars a filled output may hold (about 1 GB of the six Float64 columns); see {@link MAX_FILL_FACTOR}. */
export const MAX_FILLED_BARS = 20_000_000;

/** Output of the typed-array kernel: the completed arrays plus a `filled` flag per bar. */
export interface FilledArrays extends BarArrays {
  filled: Uint8Array;
  counts: GapCounts;
}

/**
 * Fills gaps of one symbol's time-sorted bars (kernel on typed arrays).
 * @param barMs - bar interval in ms.
 * @param opts.file - the file the bars came from, for messages.
 * @throws DataError when timestamps are not strictly increasing, or when the fill would insert more
 *   than {@link MAX_FILL_FACTOR} x the rows or make more than {@link MAX_FILLED_BARS} bars (naming
 *   the two timestamps around the longest gap).
 * @example fillGapsArrays(oneMinuteBars, 60_000, 'us-rth').counts.filled // bars inserted
 */
export function fillGapsArrays(a: BarArrays, barMs: number, session: SessionLike | CompiledSession, opts: { file?: string } = {}): FilledArrays {
  const gaps = planGaps(a, barMs, asCompiled(session));
  checkFillSize(a, gaps, a.ts.length + gaps.filled, opts.file);
  const out = allocBarArrays(a.ts.length + gaps.filled, a.symbol);
  const filled = new Uint8Array(out.ts.length);
  writeFilled(a, barMs, gaps, out, filled);
  return { ...out, filled, counts: gapCounts(gaps) };
}

/**
 * Counts the gaps of one symbol's time-sorted bars without filling them: memory and time in
 * proportion to the bars, not to the time they span (a gap of a century costs one subtraction).
 * The counts are those {@link fillGapsArrays} would report, plus the sessions holding missing bars.
 * @param barMs - bar interval in ms.
 * @throws DataError when timestamps are not strictly increasing.
 * @example countGaps(loadedBars, 300_000, '24x7').filled // 40 for ADA_BTC in crypto-5m
 */
export function countGaps(a: BarArrays, barMs: number, session: SessionLike | CompiledSession): SessionGapCounts {
  const gaps = planGaps(a, barMs, asCompiled(session));
  return { ...gapCounts(gaps), sessionsWithGaps: gaps.sessionsWithGaps };
}

/** Refuses a fill that would create more than {@link MAX_FILL_FACTOR} x the input rows or {@link MAX_FILLED_BARS} bars, naming the longest gap. */
function checkFillSize(a: BarArrays, gaps: GapList, totalBars: number, file?: string): void {
  if (gaps.filled === 0 || (gaps.filled <= MAX_FILL_FACTOR * a.ts.length && totalBars <= MAX_FILLED_BARS)) return;
  let g = 0;
  for (let k = 1; k < gaps.count; k++) if (gaps.bars[k] > gaps.bars[g]) g = k;
  const at = gaps.at[g];
  const from = new Date(a.ts[at - 1]).toISOString();
  const to = new Date(a.ts[at]).toISOString();
  throw new DataError(
    `refusing to fill ${gaps.filled} missing bars into ${a.ts.length} (more than ${MAX_FILL_FACTOR} x the rows or ${MAX_FILLED_BARS} bars in all); the longest gap, ${gaps.bars[g]} bars, lies between ${from} and ${to}: check those timestamps`,
    { file, symbol: a.symbol, row: at, column: 'ts', value: new Date(a.ts[at]) },
  );
}

/** Checks the order and finds the gaps of one symbol's bars (nothing written yet). */
function planGaps(a: BarArrays, barMs: number, s: CompiledSession): GapList {
  const runs = windowRuns(a.ts, s);
  const bad = firstUnorderedRow(a.ts);
  if (bad >= 0) throw new DataError('timestamps must be strictly increasing to fill gaps (validate or repair first)', { row: bad, column: 'ts', symbol: a.symbol, value: new Date(a.ts[bad]) });
  return findGaps(a.ts, runs, barMs, s.continuous);
}

/** Writes the filled bars into `out` and `filled` (zero-filled, of length bars + gaps.filled). */
function writeFilled(a: BarArrays, barMs: number, gaps: GapList, out: BarArrays, filled: Uint8Array): void {
  for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) copyAroundGaps(a[c], out[c], gaps);
  writeGapBars(a, barMs, gaps, out, filled);
}

function gapCounts(gaps: GapList): GapCounts {
  return { filled: gaps.filled, edgeMissing: gaps.edgeMissing, outsideSession: gaps.outside };
}

/*
 * The kernel's loops live in small functions, each run in full on its first call: V8 then
 * optimizes them with complete type feedback instead of deoptimizing a large function part way.
 */

/** Where bars are missing: `bars[g]` bars go in before bar `at[g]`, for g < count; plus the counts. */
interface GapList {
  count: number;
  at: Int32Array;
  /** Float64: a gap of decades holds more bars than an Int32 can count. */
  bars: Float64Array;
  filled: number;
  edgeMissing: number;
  outside: number;
  /** Sessions (continuous: UTC days) holding a missing bar. */
  sessionsWithGaps: number;
}

/** Finds the gaps of sorted bars: a gap is filled when both bars around it lie in one window (24x7: both in session). */
function findGaps(ts: Float64Array, runs: WindowRuns, barMs: number, continuous: boolean): GapList {
  let at = new Int32Array(64);
  let bars = new Float64Array(64);
  let count = 0;
  let filled = 0;
  let edgeMissing = 0;
  let outside = 0;
  // Sessions with a missing bar: in a continuous market the UTC days the missing bars fall on
  // (gaps come in time order, so days up to `lastDay` are counted already); else the run's session.
  let sessionsWithGaps = 0;
  let lastDay = -Infinity;
  const gapSessions = new Set<number>();
  for (let r = 0; r < runs.count; r++) {
    const from = runs.start[r];
    const to = runs.start[r + 1];
    if (runs.sessionId[r] < 0) {
      outside += to - from;
      continue;
    }
    // a run's first bar continues the previous run only in a continuous market
    const first = continuous && r > 0 && runs.sessionId[r - 1] >= 0 ? from : from + 1;
    let runFilled = 0;
    for (let i = first; i < to; i++) {
      const step = ts[i] - ts[i - 1];
      if (step > barMs) {
        if (count === at.length) {
          at = grow(at);
          bars = grow(bars);
        }
        at[count] = i;
        const n = Math.ceil(step / barMs) - 1;
        bars[count] = n;
        runFilled += n;
        count++;
        if (continuous) {
          const firstDay = Math.max(Math.floor((ts[i - 1] + barMs) / DAY_MS), lastDay + 1);
          const endDay = Math.floor((ts[i - 1] + n * barMs) / DAY_MS);
          if (endDay >= firstDay) sessionsWithGaps += endDay - firstDay + 1;
          lastDay = Math.max(lastDay, endDay);
        } else gapSessions.add(runs.sessionId[r]);
      }
    }
    filled += runFilled;
    // a window short of bars at its edges: the bars it should hold minus the bars it has (recorded + filled)
    if (!continuous) edgeMissing += Math.round((runs.windowEnd[r] - runs.windowStart[r]) / barMs) - (to - from + runFilled);
  }
  if (!continuous) sessionsWithGaps = gapSessions.size;
  return { count, at, bars, filled, edgeMissing, outside, sessionsWithGaps };
}

function grow<T extends Int32Array | Float64Array>(a: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length * 2);
  out.set(a);
  return out;
}

/** Copies recorded bars of one column, leaving room for the gaps' bars. */
function copyAroundGaps(from: Float64Array, to: Float64Array, gaps: GapList): void {
  let src = 0;
  let dst = 0;
  for (let g = 0; g < gaps.count; g++) {
    const i = gaps.at[g];
    to.set(from.subarray(src, i), dst);
    dst += i - src + gaps.bars[g];
    src = i;
  }
  to.set(from.subarray(src), dst);
}

/** Writes the inserted bars: open = high = low = close = the last close, volume 0 (left as allocated), flagged. */
function writeGapBars(a: BarArrays, barMs: number, gaps: GapList, out: BarArrays, filled: Uint8Array): void {
  const { ts, close } = a;
  const { ts: oTs, open: oOpen, high: oHigh, low: oLow, close: oClose } = out;
  let src = 0;
  let dst = 0;
  for (let g = 0; g < gaps.count; g++) {
    const i = gaps.at[g];
    dst += i - src;
    src = i;
    const c = close[i - 1];
    let t = ts[i - 1];
    for (let k = gaps.bars[g]; k > 0; k--) {
      t += barMs;
      oTs[dst] = t;
      oOpen[dst] = c;
      oHigh[dst] = c;
      oLow[dst] = c;
      oClose[dst] = c;
      filled[dst] = 1;
      dst++;
    }
  }
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
 * The bar interval is inferred per symbol unless `barMs` gives it: one interval for every symbol,
 * or one per symbol as `validateBars` returns them (`intervalMs`, keyed by symbol, `''` for a
 * frame without `symbol`), so a validated frame is not scanned for its interval twice; a symbol
 * missing from that record has its interval inferred. The output has the contract
 * columns plus `filled`; other columns of the input (e.g. `regime`) are not carried over. A frame
 * without rows gives one without rows (a frame without `symbol` still needs `barMs`).
 * @param session - calendar deciding where gaps may be filled, e.g. `'us-rth'`, `'24x7'`, `'cn-a'`.
 * @throws DataError for unsorted or duplicate timestamps, a symbol with a single bar and no `barMs`,
 *   or a fill larger than {@link MAX_FILL_FACTOR} x the rows or {@link MAX_FILLED_BARS} bars (naming the longest gap's two timestamps).
 * @example fillGaps(bars, '24x7').filled // 40 for the crypto-5m folder
 * @example const v = validateBars(bars); fillGaps(v.bars, 'us-rth', { barMs: v.intervalMs })
 */
export function fillGaps(bars: Bars, session: SessionLike, opts: { barMs?: BarIntervals } = {}): FillGapsResult {
  const s = asCompiled(session);
  const plans: { a: BarArrays; barMs: number; gaps: GapList }[] = [];
  // Keyed by symbol, user text: no prototype, so `constructor` or `__proto__` are plain keys.
  const bySymbol = dict<GapCounts>();
  let total = 0;
  let filled = 0;
  for (const { arrays: a } of eachSymbol(bars)) {
    const barMs = intervalFor(opts.barMs, a.symbol, a.ts);
    if (!barMs) throw new DataError('cannot infer the bar interval of a single bar; pass barMs', { symbol: a.symbol });
    const gaps = planGaps(a, barMs, s);
    total += a.ts.length + gaps.filled;
    checkFillSize(a, gaps, total);
    bySymbol[a.symbol ?? ''] = gapCounts(gaps);
    filled += gaps.filled;
    plans.push({ a, barMs, gaps });
  }
  // A symbol frame without rows gives its columns without rows, as a frame without symbol does.
  if (plans.length === 0) return { bars: selectBarColumns(bars).withColumn(pl.Series('filled', [], pl.Bool)), filled, bySymbol };
  // Every symbol's output goes into one set of columns, made into one frame; the frame keeps the
  // arrays, so the next per-symbol step (resample, VWAP) reads no column back.
  const blocks = allocSymbolBlocks(
    plans.map((p) => p.a.ts.length + p.gaps.filled),
    plans.map((p) => p.a.symbol),
  );
  const flags = new Uint8Array(blocks.all.ts.length);
  let start = 0;
  plans.forEach((p, i) => {
    const out = blocks.bySymbol[i];
    writeFilled(p.a, p.barMs, p.gaps, out, flags.subarray(start, start + out.ts.length));
    start += out.ts.length;
  });
  // The input's symbol column, sliced per symbol, plus a short chunk per symbol for its filled rows.
  const symbol = plans.length > 1 ? symbolColumnFromRuns(bars, plans.map((p) => p.a.ts.length + p.gaps.filled)) : undefined;
  return { bars: adoptSymbolBlocks(blocks, { filled: pl.Series('filled', flags).cast(pl.Bool) }, symbol), filled, bySymbol };
}
