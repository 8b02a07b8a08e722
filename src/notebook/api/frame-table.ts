/**
 * A polars DataFrame as a table payload (head and tail rows as JSON) and as
 * escaped HTML. Works by duck typing so importing it does not load polars.
 */
import { escapeHtml } from '../../plot/html';
import type { TableCell, TablePayload } from '../records/mime';

/** The slice of the nodejs-polars DataFrame API used here. */
export interface FrameLike {
  height: number;
  columns: string[];
  dtypes: unknown[];
  head(n: number): { toRecords(): Array<Record<string, unknown>> };
  tail(n: number): { toRecords(): Array<Record<string, unknown>> };
}

/** The slice of the nodejs-polars Series API used here. */
export interface SeriesLike {
  name: string;
  toFrame(): FrameLike;
}

/**
 * True when `x` looks like a nodejs-polars DataFrame.
 * @example isFrameLike(pl.DataFrame({ a: [1] })) // true; isFrameLike({}) // false
 */
export function isFrameLike(x: unknown): x is FrameLike {
  const f = x as Partial<FrameLike> | null;
  return typeof f === 'object' && f !== null && typeof f.height === 'number' && Array.isArray(f.columns)
    && Array.isArray(f.dtypes) && typeof f.head === 'function' && typeof f.tail === 'function';
}

/**
 * True when `x` looks like a nodejs-polars Series.
 * @example isSeriesLike(pl.Series('a', [1])) // true
 */
export function isSeriesLike(x: unknown): x is SeriesLike {
  const s = x as Partial<SeriesLike> | null;
  return typeof s === 'object' && s !== null && typeof s.toFrame === 'function' && typeof s.name === 'string';
}

const SHORT_DTYPES: Record<string, string> = {
  Float64: 'f64', Float32: 'f32', Int64: 'i64', Int32: 'i32', Int16: 'i16', Int8: 'i8',
  UInt64: 'u64', UInt32: 'u32', UInt16: 'u16', UInt8: 'u8', String: 'str', Utf8: 'str', Boolean: 'bool', Date: 'date',
};

/**
 * polars' short dtype name, as its own table printout shows it.
 * @example shortDtype('DataType(Datetime(ms,))') // 'datetime[ms]'
 */
export function shortDtype(dtype: unknown): string {
  const raw = String(dtype).replace(/^DataType\((.*)\)$/, '$1');
  const dt = /^Datetime\((\w+),\s*([^)]*)\)$/.exec(raw);
  if (dt) return dt[2] ? `datetime[${dt[1]}, ${dt[2]}]` : `datetime[${dt[1]}]`;
  return SHORT_DTYPES[raw] ?? raw.toLowerCase();
}

function toCell(v: unknown): TableCell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  return JSON.stringify(v) ?? String(v);
}

/**
 * The rows a reader needs: the whole frame when it has at most `maxRows`
 * rows, else the first and last `maxRows / 2`.
 * @param maxRows - default 20.
 * @example tablePayload(df30).head.length // 10 (and tail.length 10)
 */
export function tablePayload(frame: FrameLike, maxRows = 20): TablePayload {
  const columns = frame.columns.map((name, i) => ({ name, dtype: shortDtype(frame.dtypes[i]) }));
  const rows = (recs: Array<Record<string, unknown>>) => recs.map((r) => frame.columns.map((c) => toCell(r[c])));
  if (frame.height <= maxRows) return { columns, height: frame.height, head: rows(frame.head(frame.height).toRecords()), tail: [] };
  const half = Math.max(1, Math.floor(maxRows / 2));
  return { columns, height: frame.height, head: rows(frame.head(half).toRecords()), tail: rows(frame.tail(half).toRecords()) };
}

/**
 * A cell as display text: floats to 6 significant digits, ISO datetimes
 * without the `T` and a zero millisecond part.
 * @example formatCell(0.123456789) // '0.123457'
 */
export function formatCell(v: TableCell): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v)) {
    return v.replace('T', ' ').replace(/\.000Z$/, '').replace(/Z$/, '');
  }
  return String(v);
}

/**
 * The payload as an escaped HTML table with a shape caption and an ellipsis row between head and tail.
 * @example tableHtml(tablePayload(pl.DataFrame({ a: [1] }))) // '<table class="quantbook-frame"><caption>shape: (1, 1)</caption>...'
 */
export function tableHtml(t: TablePayload): string {
  const cell = (v: TableCell) => (v === null ? '<td class="null">null</td>'
    : `<td${typeof v === 'number' ? ' class="num"' : ''}>${escapeHtml(formatCell(v))}</td>`);
  const row = (r: TableCell[]) => `<tr>${r.map(cell).join('')}</tr>`;
  const head = t.columns.map((c) => `<th>${escapeHtml(c.name)}<br><small>${escapeHtml(c.dtype)}</small></th>`).join('');
  const hidden = t.height - t.head.length - t.tail.length;
  const gap = t.tail.length > 0
    ? `<tr class="gap"><td colspan="${Math.max(1, t.columns.length)}">&hellip; ${hidden.toLocaleString('en-US')} more rows &hellip;</td></tr>`
    : '';
  return `<table class="quantbook-frame"><caption>shape: (${t.height.toLocaleString('en-US')}, ${t.columns.length})</caption>`
    + `<thead><tr>${head}</tr></thead><tbody>${t.head.map(row).join('')}${gap}${t.tail.map(row).join('')}</tbody></table>`;
}
