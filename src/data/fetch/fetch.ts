/**
 * `fetchToStore`: the fetch loop. For each series it asks only for what the store lacks (the
 * requested range minus what the manifest records as fetched, plus what an earlier fetch left
 * pending), checks every page with the data layer's rules before anything of it is stored, drops
 * rows that overlap earlier pages (counted), and commits page by page, so an interrupted fetch
 * keeps what it got and the next one resumes after it.
 */
import { ConfigError, DataError } from '../../core/errors';
import { tsSeries } from '../bars';
import { parseDuration } from '../interval';
import { checkBars } from '../validate';
import pl from 'nodejs-polars';
import { BarStore, gapSummary, type SeriesRows } from '../store/store';
import { seriesKey, assertStoreName, type GapSummary, type SeriesId } from '../store/layout';
import { toMs } from '../store/load';
import { isoMs, mergeRanges, rangesLength, subtractRanges, type TimeRange } from '../store/ranges';
import { alpacaConnector } from './alpaca';
import { binanceConnector } from './binance';
import { realClock, type Clock } from './budget';
import { BAR_COLUMNS, FETCH_INTERVALS, SOURCES, type Connector, type FetchInterval, type Source } from './connector';
import { hyperliquidConnector } from './hyperliquid';
import type { Page, PageRows } from './paging';
import { silentProgress, type ProgressSink } from './progress';
import type { RetryOptions } from './retry';

/** Options of {@link fetchToStore}. */
export interface FetchOptions {
  source: Source;
  symbols: string[];
  interval: FetchInterval;
  /** First bar time (inclusive): ISO text (`2024-01-01` = midnight UTC), ms or Date. */
  start: string | number | Date;
  /** End (exclusive); default now. Bars that have not closed yet are never fetched. */
  end?: string | number | Date;
  /** Also fetch funding rates (binance-futures, hyperliquid). */
  funding?: boolean;
  /** Also fetch mark-price bars (binance-futures). */
  mark?: boolean;
  /** Store folder (created when missing). */
  to: string;
  /** Another host for the provider (testnet, regional endpoint, a local test server). */
  baseUrl?: string;
  /** Alpaca data feed (default `iex`) and price adjustment (default `raw`). */
  feed?: 'iex' | 'sip';
  adjustment?: 'raw' | 'split' | 'dividend' | 'all';
  /** Limit of one request, ms (default 30 000). */
  timeoutMs?: number;
  retry?: RetryOptions;
  clock?: Clock;
  progress?: ProgressSink;
  /** Environment the Alpaca credentials come from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Stops the fetch; what was stored stays, the rest stays pending. */
  signal?: AbortSignal;
  /** Rows per page (default: the provider's most); tests use small pages. */
  pageBars?: number;
  /** Weight (Alpaca: requests) per minute to stay under (default: the provider's documented limit). */
  weightPerMinute?: number;
  /** Hyperliquid funding rows per full page (default 500). */
  fundingPage?: number;
}

/** What a fetch did for one series. */
export interface SeriesReport {
  key: string;
  kind: SeriesId['kind'];
  symbol: string;
  /** Ranges asked for; empty when the store already had everything. */
  asked: [string, string][];
  pages: number;
  /** Rows new to the store. */
  added: number;
  /** Rows that were already stored (overlapping or repeated pages) or repeated inside a page, with the same values. */
  duplicates: number;
  /** Rows already stored with other values, replaced. */
  replaced: number;
  /** Rows the provider sent outside the range asked for (overlap with the previous page), dropped. */
  outside: number;
  /** Pages asked again because the provider answered with nothing of the range asked for. */
  stale: number;
  /** Rows stored for the series after the fetch. */
  rows: number;
  first?: string;
  last?: string;
  gaps?: GapSummary;
}

/** What {@link fetchToStore} returns. */
export interface FetchReport {
  store: string;
  source: Source;
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
  /** Time spent waiting for rate limits and backoff, ms. */
  waitedMs: number;
  series: SeriesReport[];
}

/** What {@link createConnector} needs: the provider, its host, its limits and credentials. */
export type ConnectorOptions = Pick<FetchOptions, 'source' | 'baseUrl' | 'feed' | 'adjustment' | 'timeoutMs' | 'retry' | 'progress' | 'env' | 'signal' | 'pageBars' | 'weightPerMinute' | 'fundingPage'>;

/**
 * The connector of `o.source`, as {@link fetchToStore} uses it (retries are noted on `o.progress`).
 * @throws ConfigError when Alpaca's credentials are not in the environment.
 * @example createConnector({ source: 'binance' }, realClock).source // 'binance'
 */
export function createConnector(o: ConnectorOptions, clock: Clock): Connector {
  const common = { baseUrl: o.baseUrl, clock, timeoutMs: o.timeoutMs, retry: o.retry, signal: o.signal, pageBars: o.pageBars };
  const onRetry = (e: { provider: string; reason: string; waitMs: number; attempt: number }): void =>
    (o.progress ?? silentProgress).note(`${e.provider}: ${e.reason}; retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)} s`);
  switch (o.source) {
    case 'binance':
    case 'binance-futures':
      return binanceConnector({ ...common, onRetry, futures: o.source === 'binance-futures', weightPerMinute: o.weightPerMinute });
    case 'hyperliquid':
      return hyperliquidConnector({ ...common, onRetry, weightPerMinute: o.weightPerMinute, fundingPage: o.fundingPage });
    case 'alpaca':
      return alpacaConnector({ ...common, onRetry, env: o.env, feed: o.feed, adjustment: o.adjustment, requestsPerMinute: o.weightPerMinute });
  }
}

function checkOptions(o: FetchOptions): void {
  if (!SOURCES.includes(o.source)) throw new ConfigError(`unknown source (use ${SOURCES.join(', ')})`, { key: '--source', value: o.source });
  if (!FETCH_INTERVALS.includes(o.interval)) throw new ConfigError(`unsupported interval (use ${FETCH_INTERVALS.join(', ')})`, { key: '--interval', value: o.interval });
  if (o.symbols.length === 0) throw new ConfigError('name at least one symbol', { key: '--symbols' });
  for (const s of o.symbols) assertStoreName(s, 'symbol');
  if (new Set(o.symbols).size !== o.symbols.length) throw new ConfigError('a symbol is named twice', { key: '--symbols', value: o.symbols.join(' ') });
  if (o.funding && o.source !== 'binance-futures' && o.source !== 'hyperliquid') throw new ConfigError('funding rates come from perpetuals: use --source binance-futures or hyperliquid', { key: '--funding' });
  if (o.mark && o.source !== 'binance-futures') throw new ConfigError('mark-price bars come from binance-futures only', { key: '--mark' });
  if ((o.feed || o.adjustment) && o.source !== 'alpaca') throw new ConfigError('--feed and --adjustment are Alpaca options', { key: o.feed ? '--feed' : '--adjustment' });
}

/** Drops rows repeated inside a page (same time, same values; counted); a time repeated with other values is an error. */
function dedupePage(rows: PageRows, names: readonly string[], fail: (msg: string, row: number,
  column: string) => DataError): { rows: PageRows; duplicates: number } {
  const seen = new Map<number, number>();
  const keep: number[] = [];
  let duplicates = 0;
  rows.ts.forEach((t, i) => {
    const j = seen.get(t);
    if (j === undefined) {
      seen.set(t, i);
      keep.push(i);
      return;
    }
    const differs = names.find((c) => !Object.is(rows.cols[c][i], rows.cols[c][j]));
    if (differs) throw fail(`the page holds this time twice with different ${differs}`, i, differs);
    duplicates++;
  });
  const cols: Record<string, number[]> = {};
  for (const c of names) cols[c] = keep.map((i) => rows.cols[c][i]);
  return { rows: { ts: keep.map((i) => rows.ts[i]), cols }, duplicates };
}

/**
 * Checks one page with the data layer's rules: finite times, strictly increasing; bars by
 * `checkBars` (prices finite and > 0, high/low bound open and close, volume finite and >= 0),
 * every time on the interval's grid; funding rates finite.
 * @throws DataError naming the provider, symbol, time, column and value of the first problem.
 */
function checkPage(page: Page, rows: PageRows, id: SeriesId, ctx: { source: Source; stepMs?: number; grid: boolean }): SeriesRows {
  const where = `${ctx.source} ${id.symbol}${id.interval ? ` ${id.interval}` : ''}${id.kind === 'bars' ? '' : ` ${id.kind}`}`;
  const fail = (msg: string, row: number, column: string, value?: unknown): DataError =>
    new DataError(`${where}: page rejected, nothing of it stored: ${msg} at ${Number.isFinite(rows.ts[row]) ? isoMs(rows.ts[row]) : `row ${row}`}`, {
      file: page.url,
      symbol: id.symbol,
      row,
      column,
      value: value ?? (column === 'ts' ? rows.ts[row] : rows.cols[column]?.[row]),
    });
  const n = rows.ts.length;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = rows.ts[i];
    if (!Number.isFinite(ts[i])) throw fail('time is missing or not a number', i, 'ts');
    if (i > 0 && ts[i] <= ts[i - 1]) throw fail(ts[i] === ts[i - 1] ? 'duplicate time' : 'times go backwards', i, 'ts');
    if (ctx.grid && ctx.stepMs && ts[i] % ctx.stepMs !== 0) throw fail(`time is not on the ${id.interval} grid`, i, 'ts');
  }
  const cols: Record<string, Float64Array> = {};
  for (const [c, v] of Object.entries(rows.cols)) cols[c] = Float64Array.from(v);
  if (id.kind === 'funding') {
    for (let i = 0; i < n; i++) if (!Number.isFinite(cols.rate[i])) throw fail('funding rate must be a finite number', i, 'rate');
  } else if (n > 0) {
    const frame = pl.DataFrame([tsSeries(ts), ...BAR_COLUMNS.map((c) => pl.Series(c, cols[c], pl.Float64))]);
    const issue = checkBars(frame, { allowMixedIntervals: true, maxPerRule: 1 })[0];
    if (issue) throw fail(issue.message, issue.row, issue.column, issue.value);
  }
  return { ts, cols };
}

/** A page de-duplicated ({@link dedupePage}) and checked ({@link checkPage}); the duplicates dropped are counted. */
function checkedPage(page: Page, id: SeriesId, ctx: { source: Source; stepMs?: number; grid: boolean }): { rows: SeriesRows; duplicates: number } {
  const names = id.kind === 'funding' ? ['rate'] : BAR_COLUMNS;
  const where = `${ctx.source} ${id.symbol}${id.interval ? ` ${id.interval}` : ''}${id.kind === 'bars' ? '' : ` ${id.kind}`}`;
  const fail = (msg: string, row: number, column: string): DataError =>
    new DataError(`${where}: page rejected, nothing of it stored: ${msg} at ${Number.isFinite(page.rows.ts[row]) ? isoMs(page.rows.ts[row]) : `row ${row}`}`, { file: page.url, symbol: page.symbol, row, column });
  const unique = dedupePage(page.rows, names, fail);
  return { rows: checkPage(page, unique.rows, id, ctx), duplicates: unique.duplicates };
}

/**
 * The bars of one symbol with open times in `range` (`[start, end)`, ms UTC), through `connector`,
 * each page de-duplicated and checked exactly as {@link fetchToStore} does; nothing is stored.
 * Rows are in time order; a time the provider has no bar for (no trades) is simply absent.
 * Repeated rows the provider sent are dropped as {@link fetchToStore} drops them, and counted in `duplicates`.
 * Used by `quantbook live` to backfill the bars a stream missed.
 * @throws DataError for a page that fails the checks, a provider error or retries used up.
 * @example await fetchBarRange(createConnector({ source: 'binance' }, realClock), 'BTCUSDT', '1m', [t0, t0 + 180_000])
 * // { ts: [t0, t0 + 60000, t0 + 120000], cols: { open, ... }, duplicates: 0 }
 */
export async function fetchBarRange(
  connector: Connector,
  symbol: string,
  interval: FetchInterval,
  range: TimeRange,
): Promise<SeriesRows & { duplicates: number }> {
  const id: SeriesId = { kind: 'bars', source: connector.source, symbol, interval };
  const ctx = { source: connector.source, stepMs: parseDuration(interval), grid: !(connector.sessions && interval === '1d') };
  const parts: SeriesRows[] = [];
  let duplicates = 0;
  for await (const page of connector.bars([symbol], interval, range, 'bars')) {
    const checked = checkedPage(page, id, ctx);
    parts.push(checked.rows);
    duplicates += checked.duplicates;
  }
  const ts = Float64Array.from(parts.flatMap((p) => Array.from(p.ts)));
  const cols = Object.fromEntries(BAR_COLUMNS.map((c) => [c, Float64Array.from(parts.flatMap((p) => Array.from(p.cols[c])))]));
  return { ts, cols, duplicates };
}

/**
 * Fetches bars (and optionally funding rates and mark-price bars) of `symbols` from a provider
 * into a bar store, incrementally: only ranges the store lacks are asked for.
 * @throws ConfigError for bad options or missing credentials; DataError for a page that fails
 *   validation (naming provider, symbol and time; nothing of that page is stored), a provider
 *   error, or retries used up. What was stored before the error stays, and the rest stays
 *   pending for the next fetch.
 * @example await fetchToStore({ source: 'binance', symbols: ['BTCUSDT', 'ETHUSDT'], interval: '1m', start: '2024-01-01', end: '2024-02-01', to: 'store' })
 * // { requests: 90, series: [{ key: 'bars/binance/BTCUSDT/1m', added: 44640, ... }, ...] }
 */
export async function fetchToStore(o: FetchOptions): Promise<FetchReport> {
  checkOptions(o);
  const clock = o.clock ?? realClock;
  const progress = o.progress ?? silentProgress;
  const stepMs = parseDuration(o.interval);
  const startMs = toMs(o.start, '--start');
  const nowMs = clock.now();
  // Only bars that have closed: the newest bar may still change.
  const lastClosed = Math.floor(nowMs / stepMs) * stepMs;
  const endMs = Math.min(o.end === undefined ? lastClosed : toMs(o.end, '--end'), lastClosed);
  if (!(endMs > startMs)) throw new ConfigError(`nothing to fetch: end ${isoMs(endMs)} is not after start ${isoMs(startMs)}`, { key: '--end' });
  const connector = createConnector(o, clock);
  const store = BarStore.open(o.to, { create: true, nowMs });
  const release = store.lock();
  const report: FetchReport = { store: o.to, source: o.source, requests: 0, retries: 0, waitedMs: 0, series: [] };
  const grid = !(connector.sessions && o.interval === '1d');

  const run = async (kind: SeriesId['kind'], symbols: readonly string[], pagesOf: (symbols: string[], range: TimeRange) => AsyncGenerator<Page>): Promise<void> => {
    const ids = new Map(symbols.map((s) => [s, { kind, source: o.source, symbol: s, ...(kind === 'funding' ? {} : { interval: o.interval }) } as SeriesId]));
    const reports = new Map<string, SeriesReport>();
    const wanted = new Map<string, TimeRange[]>();
    for (const [s, id] of ids) {
      const want = mergeRanges([...subtractRanges([[startMs, endMs]], store.fetched(id)), ...store.pending(id)]);
      wanted.set(s, want);
      reports.set(s, { key: seriesKey(id), kind, symbol: s, asked: want.map(([a, b]) => [isoMs(a), isoMs(b)]), pages: 0, added: 0, duplicates: 0, replaced: 0,
        outside: 0, stale: 0, rows: 0 });
      if (want.length > 0) store.markPending(id, want, clock.now(), kind === 'funding' ? undefined : connector.options);
      progress.begin(label(s), rangesLength(want));
    }
    function label(s: string): string {
      return `${o.source} ${s}${kind === 'funding' ? ' funding' : ` ${o.interval}${kind === 'mark' ? ' mark' : ''}`}`;
    }
    // Symbols with the same missing ranges share requests where the provider takes several.
    const groups = new Map<string, string[]>();
    for (const [s, want] of wanted) {
      if (want.length === 0) continue;
      const k = JSON.stringify(want);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    const per = kind === 'funding' ? 1 : connector.symbolsPerRequest;
    const done = new Map<string, number>();
    try {
      for (const [k, members] of groups) {
        for (let i = 0; i < members.length; i += per) {
          const chunk = members.slice(i, i + per);
          for (const range of JSON.parse(k) as TimeRange[]) {
            for await (const page of pagesOf(chunk, range)) {
              const id = ids.get(page.symbol)!;
              const r = reports.get(page.symbol)!;
              const { rows, duplicates } = checkedPage(page, id, { source: o.source, stepMs: kind === 'funding' ? undefined : stepMs, grid });
              const c = store.commit(id, rows, [page.covered], clock.now());
              r.pages++;
              r.added += c.added;
              r.duplicates += c.duplicates + duplicates;
              r.replaced += c.replaced;
              r.outside += page.outside;
              r.stale += page.stale;
              done.set(page.symbol, (done.get(page.symbol) ?? 0) + Math.max(0, page.covered[1] - page.covered[0]));
              progress.update(label(page.symbol), { pages: r.pages, bars: r.added, doneMs: done.get(page.symbol)! });
            }
          }
        }
      }
    } finally {
      for (const [s, id] of ids) {
        const r = reports.get(s)!;
        const e = store.entry(id);
        if (e && !connector.sessions && kind !== 'funding' && r.pages > 0) {
          store.setGaps(id, gapSummary(store.read(id).ts, store.fetched(id), stepMs));
        }
        const after = store.entry(id);
        r.rows = after?.rows ?? 0;
        if (after?.first) r.first = after.first;
        if (after?.last) r.last = after.last;
        if (after?.gaps) r.gaps = after.gaps;
        report.series.push(r);
        progress.end(label(s), summaryLine(label(s), r, store.pending(id)));
      }
    }
  };

  const c = connector;
  try {
    await run('bars', o.symbols, (syms, range) => c.bars(syms, o.interval, range, 'bars'));
    if (o.mark) await run('mark', o.symbols, (syms, range) => c.bars(syms, o.interval, range, 'mark'));
    if (o.funding) {
      const funding = c.funding!.bind(c);
      await run('funding', o.symbols, async function* (syms, range) {
        for (const s of syms) yield* funding(s, range);
      });
    }
  } finally {
    release();
    report.requests = c.http.requests;
    report.retries = c.http.retries;
    report.waitedMs = c.http.waitedMs;
  }
  return report;
}

function summaryLine(label: string, r: SeriesReport, pending: TimeRange[]): string {
  const span = r.first && r.last ? `${r.first.slice(0, 16).replace('T', ' ')} .. ${r.last.slice(0, 16).replace('T', ' ')} UTC` : 'no rows';
  if (r.asked.length === 0) return `${label}: up to date, nothing asked (${r.rows} rows, ${span})`;
  const extra = [
    r.duplicates ? `${r.duplicates} duplicates dropped` : '',
    r.outside ? `${r.outside} overlapping rows dropped` : '',
    r.replaced ? `${r.replaced} rows replaced by new values` : '',
    r.stale ? `${r.stale} stale pages asked again` : '',
    r.gaps ? `${r.gaps.count} gaps (${r.gaps.missingBars} bars missing at the provider)` : '',
    pending.length ? `still pending: ${pending.map(([a, b]) => `${isoMs(a)}..${isoMs(b)}`).join(', ')}` : '',
  ].filter(Boolean);
  return `${label}: ${r.pages} pages, ${r.added} new rows, ${r.rows} stored, ${span}${extra.length ? `; ${extra.join('; ')}` : ''}`;
}
