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
  if (!tsCol) throw new DataError('missing timestamp column (pass tsColumn)', { file: path, column: 'ts' });
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
