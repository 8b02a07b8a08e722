/**
 * Funding-rate series of perpetual futures.
 */
import pl from 'nodejs-polars';
import { DataError } from '../../core/errors';
import { tsSeries } from '../bars';
import { readFrame } from './files';
import { locateStore } from '../store/layout';
import { loadStoreFunding } from '../store/load';
import { findColumn } from './normalize';
import { timestampColumnToMs, type TimestampFormat } from './timestamps';

/** A funding-rate frame: `ts` (UTC ms, the funding time) and `rate` (f64 per funding period; 0.0001 = 1 bp). */
export type FundingRates = pl.DataFrame;

/** Funding as typed arrays for the backtest's hot loop. */
export interface FundingArrays {
  /** Funding times, ms UTC. */
  ts: Float64Array;
  /** Rate paid by longs to shorts per funding period (negative: shorts pay longs). */
  rate: Float64Array;
}

/** Options of {@link loadFundingRates}. */
export interface FundingOptions {
  /** Source column of the rate; default `rate`, else `funding_rate`, else `open` (freqtrade layout). */
  rateColumn?: string;
  /** Source timestamp column; default found by the usual aliases (`date`, `ts`, ...). */
  tsColumn?: string;
  timestamp?: TimestampFormat;
  timeZone?: string;
  /** Bar store only: the symbol (default from the path `STORE/funding/<source>/<symbol>`) and source. */
  symbol?: string;
  source?: string;
}

/**
 * Loads a funding-rate series: freqtrade's `*-funding_rate.feather` bar layout (the rate is in
 * `open`), any IPC/Parquet/CSV file with a `rate` or `funding_rate` column, or one symbol's
 * funding in a bar store (`STORE/funding/<source>/<symbol>`, or the store with `symbol`).
 * @throws DataError for an empty file, a missing column, bad timestamps or a non-finite rate.
 * @example loadFundingRates('../shared/data/real/perp/XRP_USDT_USDT-8h-funding_rate.feather').height // 91
 */
export function loadFundingRates(path: string, opts: FundingOptions = {}): FundingRates {
  if (locateStore(path)) return loadStoreFunding(path, { symbol: opts.symbol, source: opts.source });
  const raw = readFrame(path);
  if (raw.height === 0) throw new DataError('no rows: the file holds no funding rates', { file: path });
  const tsCol = findColumn(raw.columns, 'ts', { ts: opts.tsColumn }, path);
  if (tsCol === undefined) throw new DataError('missing timestamp column (pass tsColumn)', { file: path, column: 'ts' });
  const rateCol = opts.rateColumn ?? ['rate', 'funding_rate', 'open'].find((c) => raw.columns.includes(c));
  if (!rateCol || !raw.columns.includes(rateCol)) {
    throw new DataError(`missing rate column (the file has ${raw.columns.join(', ')}; pass rateColumn)`, { file: path, column: rateCol ?? 'rate' });
  }
  const ts = timestampColumnToMs(raw.getColumn(tsCol), { file: path, column: tsCol, timeZone: opts.timeZone }, opts.timestamp);
  const rate = raw.getColumn(rateCol).cast(pl.Float64).toTypedArray() as Float64Array;
  for (let i = 0; i < rate.length; i++) {
    if (!Number.isFinite(rate[i])) throw new DataError('funding rate must be finite', { file: path, row: i, column: rateCol, value: rate[i] });
    if (i > 0 && !(ts[i] > ts[i - 1])) throw new DataError('funding times must be strictly increasing', { file: path, row: i, column: tsCol, value: new Date(ts[i]) });
  }
  return pl.DataFrame([tsSeries(ts), pl.Series('rate', rate, pl.Float64)]);
}

/**
 * Copies a funding frame into typed arrays.
 * @example fundingToArrays(loadFundingRates(path)).rate.length // 91
 */
export function fundingToArrays(funding: FundingRates): FundingArrays {
  return {
    ts: funding.getColumn('ts').cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array,
    rate: funding.getColumn('rate').cast(pl.Float64).toTypedArray() as Float64Array,
  };
}

/** How far a funding series covers a span of bars: see {@link fundingCoverage}. */
export interface FundingCoverage {
  /** First and last funding time of the series, ISO 8601 UTC. */
  from: string;
  to: string;
  /** Funding interval used to count (ms): the series' median step rounded to the minute (8 h when it has one time). */
  intervalMs: number;
  /** Funding times the bars span, `(firstBar, lastBar]`, on the series' own grid. */
  fundingTimes: number;
  /** Of those, the ones the series lacks (before its start, after its end, or in holes): no funding is charged for them. */
  uncoveredFundingTimes: number;
}

const EIGHT_HOURS = 8 * 3_600_000;

/**
 * Counts the funding times a span of bars crosses that a funding series lacks. Funding is charged
 * at each funding time in `(fromMs, toMs]` (the backtest's rule), so the expected times are the
 * points `ts[0] + k * interval` in that span and the covered ones are the series' times in it;
 * `uncoveredFundingTimes = expected - covered` (never below 0). Cost: one pass over the series,
 * nothing in proportion to the span.
 * @param funding - funding times (ms UTC, strictly increasing) and rates.
 * @param fromMs - open time of the first bar; `toMs` - of the last bar.
 * @throws DataError for an empty series.
 * @example fundingCoverage(xrpFunding, Date.parse('2021-11-15'), Date.parse('2021-11-21T22:30Z')).uncoveredFundingTimes // 9 (three days at 8 h)
 */
export function fundingCoverage(funding: FundingArrays, fromMs: number, toMs: number, opts: { intervalMs?: number } = {}): FundingCoverage {
  const ts = funding.ts;
  if (ts.length === 0) throw new DataError('funding series has no rows');
  const intervalMs = opts.intervalMs ?? medianStepToMinute(ts) ?? EIGHT_HOURS;
  const anchor = ts[0];
  const gridUpTo = (t: number): number => Math.floor((t - anchor) / intervalMs);
  const fundingTimes = Math.max(0, gridUpTo(toMs) - gridUpTo(fromMs));
  let covered = 0;
  for (let i = 0; i < ts.length; i++) if (ts[i] > fromMs && ts[i] <= toMs) covered++;
  return {
    from: new Date(ts[0]).toISOString(),
    to: new Date(ts[ts.length - 1]).toISOString(),
    intervalMs,
    fundingTimes,
    uncoveredFundingTimes: Math.max(0, fundingTimes - covered),
  };
}

/** Median step of increasing times, rounded to the minute (exchange funding times carry a few ms of jitter); undefined for one time. */
function medianStepToMinute(ts: Float64Array): number | undefined {
  if (ts.length < 2) return undefined;
  const steps = new Float64Array(ts.length - 1);
  for (let i = 1; i < ts.length; i++) steps[i - 1] = ts[i] - ts[i - 1];
  steps.sort();
  const m = steps[steps.length >> 1];
  return Math.max(60_000, Math.round(m / 60_000) * 60_000);
}
