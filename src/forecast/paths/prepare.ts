/**
 * From one symbol's bars to what the outlook needs: bars inside the session only,
 * the last few trading days for session features (VWAP, Bollinger bands), the
 * model's context window on the session's bar grid (missing bars as NaN, never
 * filled with a price), the current bar, and the warm-up check.
 */
import { DataError } from '../../core/errors';
import type { BarArrays } from '../../data/bars';
import { bollinger, sessionVwapArrays } from '../../data/features';
import { fillGapsArrays } from '../../data/gaps';
import { asCompiled, sessionIndex, type CompiledSession, type SessionLike } from '../../data/sessions';

/** Options of {@link prepareOutlook}. */
export interface PrepareOptions {
  /** Bar length, ms. */
  barMs: number;
  /** Calendar whose windows decide which bars count (others are left out and counted). */
  session: SessionLike | CompiledSession;
  /** Bars of context wanted (L). */
  lookback: number;
  /** The forecaster's context length: the context never exceeds it. */
  contextLength: number;
  /** Trading days kept for session features. Default 3. */
  featureSessions?: number;
  /** SMA / Bollinger window in bars. Default 20. */
  bollingerWindow?: number;
  /** Bollinger band width in standard deviations. Default 2. */
  bollingerK?: number;
}

/** Bars needed against bars available (context positions on the session grid). */
export interface WarmUp {
  required: number;
  available: number;
  /** max(0, required - available). */
  missing: number;
}

/** What {@link prepareOutlook} returns. */
export interface PreparedOutlook {
  barMs: number;
  /** Open time of the current (last) bar, ms UTC. */
  lastOpenMs: number;
  /** Its close time (open + bar length): the forecast origin. */
  asOfMs: number;
  current: { open: number; high: number; low: number; close: number; volume: number };
  /** Model input: the last `lookbackUsed` positions of the session grid, NaN where a bar is missing. */
  context: { ts: Float64Array; open: Float64Array; close: Float64Array; high: Float64Array; low: Float64Array; volume: Float64Array; missing: number };
  lookbackUsed: number;
  /** Bars of the last `featureSessions` trading days with their session VWAP and Bollinger bands. */
  features: BarArrays & { vwap: Float64Array; midband: Float64Array; upper: Float64Array; lower: Float64Array; sessions: number };
  /** Today's session VWAP at the current bar (NaN before any volume). */
  vwap: number;
  /** SMA (Bollinger middle band) at the current bar (NaN with fewer bars than the window). */
  midband: number;
  bollingerUpper: number;
  bollingerLower: number;
  bollingerWindow: number;
  counts: { bars: number; outsideSession: number; barsInSession: number };
  /** First and last bar open times of the data given, ms UTC. */
  span: { first: number; last: number };
}

/** The bars inside the session's windows, and how many were left out. */
function sessionBars(a: BarArrays, session: CompiledSession): { bars: BarArrays; sessionId: Int32Array; outside: number } {
  const { sessionId } = sessionIndex(a.ts, session);
  let outside = 0;
  for (let i = 0; i < sessionId.length; i++) if (sessionId[i] < 0) outside++;
  if (outside === 0) return { bars: a, sessionId, outside };
  const keep = (x: Float64Array) => x.filter((_, i) => sessionId[i] >= 0);
  const bars: BarArrays = { ts: keep(a.ts), open: keep(a.open), high: keep(a.high), low: keep(a.low), close: keep(a.close), volume: keep(a.volume),
    ...(a.symbol ? { symbol: a.symbol } : {}) };
  return { bars, sessionId: sessionId.filter((id) => id >= 0), outside };
}

/**
 * Bars needed and available for a forecast from `bars` (the context positions on the session grid,
 * missing bars counted as positions): required = min(lookback, contextLength).
 * @example warmUpStatus(firstFiveMinutes, { barMs: 60_000, session: 'us-rth', lookback: 480, contextLength: 512 }).missing // 475
 */
export function warmUpStatus(bars: BarArrays, opts: Pick<PrepareOptions, 'barMs' | 'session' | 'lookback' | 'contextLength'>): WarmUp {
  const s = asCompiled(opts.session);
  const inside = sessionBars(bars, s).bars;
  const required = Math.min(opts.lookback, opts.contextLength);
  // Grid positions are at least the recorded bars: the last `required` of them settle the question.
  const available = inside.ts.length === 0 ? 0 : fillGapsArrays(tailBars(inside, inside.ts.length - required), opts.barMs, s).ts.length;
  return { required, available, missing: Math.max(0, required - available) };
}

function tailBars(a: BarArrays, from: number): BarArrays {
  if (from <= 0) return a;
  const cut = (x: Float64Array) => x.subarray(from);
  return { ts: cut(a.ts), open: cut(a.open), high: cut(a.high), low: cut(a.low), close: cut(a.close), volume: cut(a.volume),
    ...(a.symbol ? { symbol: a.symbol } : {}) };
}

/**
 * Prepares one symbol's time-sorted, validated bars for an outlook (see the module comment).
 * @throws DataError when no bar is inside the session, or fewer context positions than
 *   min(lookback, contextLength) exist (the warm-up error: it says how many are missing).
 * @example prepareOutlook(arrays, { barMs: 60_000, session: '24x7', lookback: 480, contextLength: 512 }).context.close.length // 480
 */
export function prepareOutlook(bars: BarArrays, opts: PrepareOptions): PreparedOutlook {
  const s = asCompiled(opts.session);
  const featureSessions = opts.featureSessions ?? 3;
  const bollingerWindow = opts.bollingerWindow ?? 20;
  const { bars: inside, sessionId, outside } = sessionBars(bars, s);
  const n = inside.ts.length;
  if (n === 0) {
    throw new DataError(`no bar lies inside the ${s.spec.name} session (${bars.ts.length} bars given): pick the session of this market`, { key: 'session', symbol: bars.symbol });
  }
  const lookbackUsed = Math.min(opts.lookback, opts.contextLength);
  // Only the last `lookbackUsed` recorded bars can reach the context (missing bars only add positions).
  const grid = fillGapsArrays(tailBars(inside, n - lookbackUsed), opts.barMs, s);
  if (grid.ts.length < lookbackUsed) {
    const missing = lookbackUsed - grid.ts.length;
    throw new DataError(`warm-up: the forecast needs ${lookbackUsed} bars of context, the data has ${grid.ts.length} in the ${s.spec.name} session: ${missing} bars missing`, { key: 'lookback', symbol: bars.symbol, value: opts.lookback });
  }
  const from = grid.ts.length - lookbackUsed;
  const nanWhereFilled = (x: Float64Array) => Float64Array.from(x.subarray(from), (v, i) => (grid.filled[from + i] ? NaN : v));
  const context = { ts: grid.ts.slice(from), open: nanWhereFilled(grid.open), close: nanWhereFilled(grid.close), high: nanWhereFilled(grid.high),
    low: nanWhereFilled(grid.low), volume: nanWhereFilled(grid.volume), missing: 0 };
  for (let i = 0; i < lookbackUsed; i++) if (grid.filled[from + i]) context.missing++;

  // The last `featureSessions` trading days (distinct session ids, counted back from the current bar).
  let start = n - 1;
  let seen = 1;
  while (start > 0 && (sessionId[start - 1] === sessionId[start] || ++seen <= featureSessions)) start--;
  const fb = tailBars(inside, start);
  const vwap = sessionVwapArrays(fb, s);
  const bands = bollinger(fb.close, bollingerWindow, opts.bollingerK ?? 2);
  const last = n - 1;
  const m = fb.ts.length - 1;
  return {
    barMs: opts.barMs,
    lastOpenMs: inside.ts[last],
    asOfMs: inside.ts[last] + opts.barMs,
    current: { open: inside.open[last], high: inside.high[last], low: inside.low[last], close: inside.close[last], volume: inside.volume[last] },
    context,
    lookbackUsed,
    features: { ...fb, vwap, midband: bands.middle, upper: bands.upper, lower: bands.lower, sessions: Math.min(seen, featureSessions) },
    vwap: vwap[m],
    midband: bands.middle[m],
    bollingerUpper: bands.upper[m],
    bollingerLower: bands.lower[m],
    bollingerWindow,
    counts: { bars: bars.ts.length, outsideSession: outside, barsInSession: n },
    span: { first: bars.ts[0], last: bars.ts[bars.ts.length - 1] },
  };
}
