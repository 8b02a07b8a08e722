/**
 * What every connector yields, and the two paging loops they share: fixed time windows of `limit`
 * bars (kline endpoints paged by start time) and cursor paging of point series (funding rates).
 */
import { DataError } from '../../core/errors';
import type { TimeRange } from '../store/ranges';

/** Rows of one page as received and parsed (not yet checked): times in ms UTC and value columns. */
export interface PageRows {
  ts: number[];
  cols: Record<string, number[]>;
}

/** One page of one symbol, cut to the time range it covers. */
export interface Page {
  symbol: string;
  /** The range this page answers for, `[start, end)`: after it is stored, the range counts as fetched. */
  covered: TimeRange;
  /** Rows with `ts` inside `covered`, in the order the provider sent them. */
  rows: PageRows;
  /** Rows the provider sent outside the requested range (overlap with the previous page), dropped. */
  outside: number;
  /** Requests repeated because the provider sent a page with nothing in the range asked for. */
  stale: number;
  /** Where it came from, for messages (no credentials). */
  url: string;
}

/** A page request's answer before cutting: every row sent, and the URL. */
export interface RawPage {
  rows: PageRows;
  url: string;
}

/** Requests asked again when the provider answers with a page that is entirely outside the range asked for. */
export const STALE_PAGE_RETRIES = 2;

function cut(raw: PageRows, from: number, to: number): { rows: PageRows; outside: number } {
  const keep: number[] = [];
  raw.ts.forEach((t, i) => {
    if (t >= from && t < to) keep.push(i);
  });
  const cols: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(raw.cols)) cols[k] = keep.map((i) => v[i]);
  return { rows: { ts: keep.map((i) => raw.ts[i]), cols }, outside: raw.ts.length - keep.length };
}

async function askUntilInside(
  ask: () => Promise<RawPage>,
  from: number,
  to: number,
  who: { provider: string; symbol: string },
): Promise<{ raw: RawPage; rows: PageRows; outside: number; stale: number }> {
  for (let stale = 0; ; stale++) {
    const raw = await ask();
    const { rows, outside } = cut(raw.rows, from, to);
    if (raw.rows.ts.length === 0 || rows.ts.length > 0) return { raw, rows, outside, stale };
    if (stale >= STALE_PAGE_RETRIES) {
      throw new DataError(`${who.provider}: ${raw.rows.ts.length} rows all outside the range asked for (${new Date(from).toISOString()} ..), ${stale + 1} times: the provider ignores the start time`, {
        file: raw.url,
        symbol: who.symbol,
        value: new Date(raw.rows.ts[0]).toISOString(),
      });
    }
  }
}

/**
 * Pages a kline endpoint by fixed time windows of `limit` bars: each request asks for
 * `[cursor, cursor + limit * step)`. A window with no bars (no trading, an outage) is a covered
 * range with no rows; a full page that ends early (overlap ate into it) covers only up to its
 * last bar, and the next window starts after it; rows outside the window are dropped and counted.
 * @param fetchWindow - asks for bars with open times in `[startMs, endMs]` (both inclusive).
 */
export async function* windowPages(
  range: TimeRange,
  stepMs: number,
  limit: number,
  who: { provider: string; symbol: string },
  fetchWindow: (startMs: number, endMsInclusive: number) => Promise<RawPage>,
): AsyncGenerator<Page> {
  let cursor = Math.ceil(range[0] / stepMs) * stepMs;
  while (cursor < range[1]) {
    const winEnd = Math.min(range[1], cursor + limit * stepMs);
    const from = cursor;
    const got = await askUntilInside(() => fetchWindow(from, winEnd - 1), from, winEnd, who);
    const full = got.raw.rows.ts.length >= limit;
    const last = got.rows.ts.length > 0 ? Math.max(...got.rows.ts) : undefined;
    const end = full && last !== undefined ? Math.min(winEnd, last + stepMs) : winEnd;
    yield { symbol: who.symbol, covered: [cursor, end], rows: got.rows, outside: got.outside, stale: got.stale, url: got.raw.url };
    cursor = end;
  }
}

/**
 * Pages a point series (funding rates) by start time: each request asks from the cursor to the
 * end of the range; a full page moves the cursor past its last row, a short page ends the range.
 * @param fetchFrom - asks for rows with times in `[startMs, endMs]` (both inclusive).
 */
export async function* cursorPages(
  range: TimeRange,
  limit: number,
  who: { provider: string; symbol: string },
  fetchFrom: (startMs: number, endMsInclusive: number) => Promise<RawPage>,
): AsyncGenerator<Page> {
  let cursor = range[0];
  while (cursor < range[1]) {
    const from = cursor;
    const got = await askUntilInside(() => fetchFrom(from, range[1] - 1), from, range[1], who);
    const full = got.raw.rows.ts.length >= limit;
    const last = got.rows.ts.length > 0 ? Math.max(...got.rows.ts) : undefined;
    const end = full && last !== undefined ? last + 1 : range[1];
    yield { symbol: who.symbol, covered: [cursor, end], rows: got.rows, outside: got.outside, stale: got.stale, url: got.raw.url };
    cursor = end;
  }
}

/** A number from a JSON number or numeric string (exchanges send prices as strings), NaN otherwise. */
export function jsonNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

/**
 * Checks that a response body is an array.
 * @throws DataError naming the provider, URL and symbol otherwise (an error object, a changed API).
 */
export function expectArray(body: unknown, who: { provider: string; symbol: string; url: string }): unknown[] {
  if (Array.isArray(body)) return body;
  throw new DataError(`${who.provider}: expected a JSON array, got ${JSON.stringify(body)?.slice(0, 200)}`, { file: who.url, symbol: who.symbol });
}
