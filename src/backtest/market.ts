/**
 * Market data as the engine reads it: several symbols on one time grid, bar-major
 * typed arrays (index `t * S + s`), so that the per-bar loop over symbols walks
 * memory in order. A symbol without a bar at a grid time holds NaN there; the
 * engine then neither trades nor re-marks it (it keeps the last close).
 */
import { DataError } from '../core/errors';
import { barsToArraysBySymbol, type Bars } from '../data/bars';
import { lastBarOfSession, type SessionLike } from '../data/sessions';

/** Several symbols' OHLC on one time grid, bar-major. */
export interface MarketArrays {
  /** Symbol names; position `s` in every bar-major array. */
  readonly symbols: readonly string[];
  /** Bar open times, ms since epoch UTC, strictly increasing; length T. */
  readonly ts: Float64Array;
  /** Length T * S, index `t * S + s`; NaN where symbol s has no bar at ts[t]. */
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Length T; 1 on the last bar of a session (the last bar of the UTC day for 24x7 markets). */
  readonly sessionEnd: Uint8Array;
}

/** One symbol's bars as plain arrays (what a Bars -> typed-arrays adapter gives). */
export interface SymbolSeries {
  symbol: string;
  /** Bar open times, ms UTC, strictly increasing. */
  ts: ArrayLike<number>;
  open: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  /** Where the series came from, for error messages. */
  file?: string;
}

const PRICE_COLUMNS = ['open', 'high', 'low', 'close'] as const;

/**
 * Market arrays from a Bars frame (the data layer's contract): one symbol per
 * `symbol` value (a frame without that column is one symbol, named by `name`).
 *
 * @param opts.symbols - keep only these, in this order (default: all, in order of appearance).
 * @param opts.session - calendar of session ends (default `'24x7'`; `'us-rth'` for US equities).
 * @param opts.name - symbol of a frame without a `symbol` column (default `'asset'`).
 * @param opts.file - for error messages.
 * @throws DataError for a symbol not in the frame (listing those found) or bad bars (see `alignSeries`).
 * @example marketFromBars(loadBars('../shared/data/real/crypto-5m'), { session: '24x7' }).symbols.length; // 8
 */
export function marketFromBars(
  bars: Bars,
  opts: { symbols?: readonly string[]; session?: SessionLike; name?: string; file?: string } = {},
): MarketArrays & { missingBars: number[] } {
  const series = [...barsToArraysBySymbol(bars)].map(([symbol, a]) => ({ ...a, symbol: symbol || a.symbol || opts.name || 'asset', file: opts.file }));
  const found = series.map((s) => s.symbol);
  for (const s of opts.symbols ?? []) {
    if (!found.includes(s)) throw new DataError(`symbol ${s} is not in the data (found: ${found.join(', ')})`, { file: opts.file, symbol: s });
  }
  const keep = opts.symbols ? opts.symbols.map((sym) => series[found.indexOf(sym)]) : series;
  return alignSeries(keep, opts.session ?? '24x7');
}

/**
 * One symbol's closes out of the bar-major market arrays, as its own time series: element t is
 * `market.close[t * S + s]` (NaN where the symbol has no bar at `market.ts[t]`).
 *
 * @param symbol - the symbol's name, or its position in `market.symbols`.
 * @returns a new array of length T (not a view: the market arrays are bar-major).
 * @throws DataError for a name not in the market (listing those it has) or a position out of range.
 * @example symbolCloses(alignSeries([{ symbol: 'A', ts: [0, 60_000], open: [1, 2], high: [1, 2], low: [1, 2], close: [1, 2] }]), 'A'); // Float64Array [1, 2]
 */
export function symbolCloses(market: MarketArrays, symbol: string | number): Float64Array {
  const S = market.symbols.length;
  const s = typeof symbol === 'number' ? symbol : market.symbols.indexOf(symbol);
  if (!Number.isInteger(s) || s < 0 || s >= S) {
    throw new DataError(`symbol ${symbol} is not in the market (symbols: ${market.symbols.join(', ')})`, { symbol: String(symbol) });
  }
  const T = market.ts.length;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) out[t] = market.close[t * S + s];
  return out;
}

/**
 * Aligns several symbols on the union of their bar times (bar-major arrays).
 *
 * A time at which a symbol has no bar becomes NaN for that symbol (a real gap, not
 * filled); `missingBars` counts them per symbol so that the result can report them.
 *
 * @param series - one entry per symbol.
 * @param session - the calendar whose last bar of each session gets `sessionEnd = 1`
 *   (the data layer's `lastBarOfSession`); default `'24x7'` (the last bar of each UTC day),
 *   `'us-rth'` for US equities.
 * @throws DataError for an empty list, duplicate symbols, unequal column lengths,
 *   times not strictly increasing, or a non-positive or non-finite price (naming
 *   symbol, row and column).
 * @example
 * const m = alignSeries([
 *   { symbol: 'A', ts: [0, 60_000], open: [1, 2], high: [1, 2], low: [1, 2], close: [1, 2] },
 *   { symbol: 'B', ts: [60_000], open: [5], high: [5], low: [5], close: [5] },
 * ]);
 * m.close; // Float64Array [1, NaN, 2, 5]; m.missingBars: [0, 1]
 */
export function alignSeries(
  series: readonly SymbolSeries[],
  session: SessionLike = '24x7',
): MarketArrays & { missingBars: number[] } {
  if (series.length === 0) throw new DataError('no symbols to backtest');
  const seen = new Set<string>();
  for (const s of series) {
    if (seen.has(s.symbol)) throw new DataError(`duplicate symbol ${s.symbol}`, { symbol: s.symbol, file: s.file });
    seen.add(s.symbol);
    checkSeries(s);
  }
  const all = new Float64Array(series.reduce((n, s) => n + s.ts.length, 0));
  let k = 0;
  for (const s of series) for (let i = 0; i < s.ts.length; i++) all[k++] = s.ts[i];
  all.sort();
  let T = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[T++] = all[i];
  const ts = all.slice(0, T);
  const S = series.length;
  const cols = { open: new Float64Array(T * S).fill(NaN), high: new Float64Array(T * S).fill(NaN), low: new Float64Array(T * S).fill(NaN),
    close: new Float64Array(T * S).fill(NaN) };
  const missingBars: number[] = [];
  series.forEach((src, s) => {
    let t = 0;
    for (let i = 0; i < src.ts.length; i++) {
      while (ts[t] !== src.ts[i]) t++;
      for (const c of PRICE_COLUMNS) cols[c][t * S + s] = src[c][i];
    }
    missingBars.push(T - src.ts.length);
  });
  return { symbols: series.map((s) => s.symbol), ts, ...cols, sessionEnd: lastBarOfSession(ts, session), missingBars };
}

function checkSeries(s: SymbolSeries): void {
  const n = s.ts.length;
  for (const c of PRICE_COLUMNS) {
    if (s[c].length !== n) {
      throw new DataError(`column ${c} has ${s[c].length} values but ts has ${n}`, { symbol: s.symbol, file: s.file, column: c });
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(s.ts[i]) || (i > 0 && !(s.ts[i] > s.ts[i - 1]))) {
      throw new DataError('bar times must be finite and strictly increasing', { symbol: s.symbol, file: s.file, row: i, column: 'ts', value: s.ts[i] });
    }
    for (const c of PRICE_COLUMNS) {
      const v = s[c][i];
      if (!(v > 0) || !Number.isFinite(v)) {
        throw new DataError('price must be positive and finite', { symbol: s.symbol, file: s.file, row: i, column: c, value: v });
      }
    }
  }
}

/**
 * The median spacing between bars, ms. Above 20,001 bars it is the median of an
 * evenly strided sample of 20,000 spacings (bar spacing is nearly constant; sorting
 * a million of them would cost more than the backtest's step loop).
 * @throws DataError when there are fewer than two bars.
 * @example
 * medianBarMs(new Float64Array([0, 60_000, 120_000, 300_000])); // 60000
 */
export function medianBarMs(ts: Float64Array): number {
  if (ts.length < 2) throw new DataError('need at least two bars to know the bar spacing', { value: ts.length });
  const n = ts.length - 1;
  const stride = n > 20_000 ? n / 20_000 : 1;
  const d = new Float64Array(Math.min(n, 20_000));
  for (let k = 0; k < d.length; k++) {
    const i = 1 + Math.floor(k * stride);
    d[k] = ts[i] - ts[i - 1];
  }
  d.sort();
  const m = d.length >> 1;
  return d.length % 2 ? d[m] : (d[m - 1] + d[m]) / 2;
}
