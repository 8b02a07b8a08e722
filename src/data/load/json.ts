/**
 * Exchange JSON layouts: kline arrays (`[[openTimeMs, open, high, low, close, volume, ...], ...]`)
 * and Alpaca market-data bars pages (`{"bars": {"SYM": [{"t","o","h","l","c","v"}]}, "next_page_token"}`).
 */
import pl from 'nodejs-polars';
import { DataError } from '../../core/errors';
import type { Bars } from '../bars';
import { normalizeBars, type NormalizeOptions } from './normalize';

function num(v: unknown, file: string | undefined, row: number, column: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (Number.isNaN(n) && !(typeof v === 'string' && v.trim().toLowerCase() === 'nan')) {
    throw new DataError('not a number', { file, row, column, value: v });
  }
  return n;
}

/**
 * Reads kline rows (the layout of exchange kline APIs): element 0 is the open time in epoch ms,
 * elements 1-5 are open, high, low, close, volume (numbers or numeric strings); later elements are ignored.
 * @throws DataError for an empty array, a short row or a non-numeric cell.
 * @example klinesToBars([[1509836520000, 1, 2, 0.5, 1.5, 10]]).getColumn('close').get(0) // 1.5
 */
export function klinesToBars(rows: unknown, opts: Pick<NormalizeOptions, 'symbol'> = {}, file?: string): Bars {
  if (!Array.isArray(rows)) throw new DataError('kline JSON must be an array of [time, open, high, low, close, volume] rows', { file });
  if (rows.length === 0) throw new DataError('no rows: the file holds no bars', { file });
  const n = rows.length;
  const cols = { ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n),
    volume: new Float64Array(n) };
  const names = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (!Array.isArray(r) || r.length < 6) throw new DataError('kline row must have at least 6 elements', { file, row: i, value: r });
    for (let k = 0; k < 6; k++) cols[names[k]][i] = num(r[k], file, i, names[k]);
  }
  return normalizeBars(pl.DataFrame(cols), { timestamp: { kind: 'epoch', unit: 'ms' }, symbol: opts.symbol }, file);
}

/** One page of Alpaca's bars endpoint (multi-symbol form, or single-symbol form with `symbol`). */
export interface AlpacaPage {
  bars: Record<string, AlpacaBar[] | null> | AlpacaBar[] | null;
  symbol?: string;
  next_page_token?: string | null;
}
interface AlpacaBar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/**
 * Merges one or more Alpaca bars pages into one multi-symbol Bars frame (`t` is RFC 3339 UTC).
 *
 * Pages are concatenated in the order given, so each symbol's bars stay in time order when the
 * pages are. Every page but the last must carry a `next_page_token`, and the last must not: a
 * missing page would otherwise drop bars silently.
 * @throws DataError for a malformed page, a broken token chain, or a bar with a bad field.
 * @example alpacaPagesToBars([{ bars: { AAPL: [{ t: '2024-01-02T14:30:00Z', o: 1, h: 1, l: 1, c: 1, v: 5 }] }, next_page_token: null }]).height // 1
 */
export function alpacaPagesToBars(pages: AlpacaPage[], file?: string): Bars {
  if (pages.length === 0) throw new DataError('no Alpaca pages given', { file });
  const ts: string[] = [];
  const sym: string[] = [];
  const o: number[] = [];
  const h: number[] = [];
  const l: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  pages.forEach((page, p) => {
    if (!page || typeof page !== 'object' || !('bars' in page)) {
      throw new DataError('not an Alpaca bars page (no "bars" key)', { file, row: p, value: page });
    }
    const token = page.next_page_token ?? null;
    const last = p === pages.length - 1;
    if (!last && token === null) throw new DataError('page has no next_page_token but more pages follow: pages out of order?', { file, row: p, key: 'next_page_token' });
    if (last && token !== null) throw new DataError('last page still has a next_page_token: later pages are missing', { file, row: p, key: 'next_page_token', value: token });
    const groups: [string, AlpacaBar[] | null][] = Array.isArray(page.bars)
      ? [[page.symbol ?? '', page.bars]]
      : Object.entries(page.bars ?? {});
    for (const [symbol, bars] of groups) {
      for (const [i, b] of (bars ?? []).entries()) {
        const where = { file, row: i, symbol, key: `page ${p}` };
        if (typeof b?.t !== 'string') throw new DataError('bar has no "t" timestamp', { ...where, column: 't', value: b?.t });
        ts.push(b.t);
        sym.push(symbol);
        o.push(num(b.o, file, i, 'o'));
        h.push(num(b.h, file, i, 'h'));
        l.push(num(b.l, file, i, 'l'));
        c.push(num(b.c, file, i, 'c'));
        v.push(num(b.v, file, i, 'v'));
      }
    }
  });
  if (ts.length === 0) throw new DataError('no rows: the pages hold no bars', { file });
  const raw = pl.DataFrame([
    pl.Series('t', ts, pl.String),
    pl.Series('symbol', sym, pl.String),
    pl.Series('o', o, pl.Float64),
    pl.Series('h', h, pl.Float64),
    pl.Series('l', l, pl.Float64),
    pl.Series('c', c, pl.Float64),
    pl.Series('v', v, pl.Float64),
  ]);
  const bars = normalizeBars(raw, { timestamp: { kind: 'iso' } }, file);
  return bars.getColumn('symbol').nUnique() === 1 && sym[0] === '' ? bars.drop('symbol') : bars;
}

/**
 * Parses JSON text that is kline rows, one Alpaca page, an array of Alpaca pages, or
 * newline-delimited Alpaca pages (one per line), and returns Bars.
 * @throws DataError for invalid JSON or an unknown layout.
 * @example jsonTextToBars('[[0, 1, 1, 1, 1, 5]]').height // 1
 */
export function jsonTextToBars(text: string, opts: Pick<NormalizeOptions, 'symbol'> = {}, file?: string): Bars {
  const trimmed = text.trim();
  if (trimmed === '') throw new DataError('empty file', { file });
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch (err) {
    const lines = trimmed.split(/\r?\n/).filter((s) => s.trim() !== '');
    if (lines.length > 1) {
      const pages = lines.map((line, i) => {
        try {
          return JSON.parse(line) as AlpacaPage;
        } catch {
          throw new DataError('invalid JSON line', { file, row: i, value: line });
        }
      });
      return alpacaPagesToBars(pages, file);
    }
    throw new DataError(`invalid JSON: ${(err as Error).message}`, { file });
  }
  if (Array.isArray(doc)) {
    if (doc.length > 0 && Array.isArray(doc[0])) return klinesToBars(doc, opts, file);
    if (doc.length > 0 && doc[0] && typeof doc[0] === 'object' && 'bars' in doc[0]) return alpacaPagesToBars(doc as AlpacaPage[], file);
    if (doc.length === 0) throw new DataError('no rows: the file holds no bars', { file });
  } else if (doc && typeof doc === 'object' && 'bars' in doc) {
    return alpacaPagesToBars([doc as AlpacaPage], file);
  }
  throw new DataError('unknown JSON layout: expected kline rows [[time, o, h, l, c, v], ...] or Alpaca bars pages', { file });
}
