/**
 * The embedded default data set in `data/`: built by {@link buildDefaultDataset}
 * from fixed seeds, committed, and read by {@link loadDefaultDataset}. Notebooks,
 * forecast evaluation and backtests run on it by default. `data/README.md` lists the files.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pl from 'nodejs-polars';
import { writeFileAtomic } from '../core/output';
import type { Bars } from './bars';
import { loadBars, loadFundingRates, type FundingRates } from './load';
import { tsSeries } from './bars';
import { simulateFunding, simulateMarket, marketToBars } from './synthetic';

/** The folder of the committed data set (`<repo>/data`, also from `dist/`). */
export const DEFAULT_DATA_DIR = resolve(__dirname, '..', '..', 'data');

/** File names of the default data set, relative to its folder. */
export const DEFAULT_DATASET_FILES = {
  equities: 'equities-1m.parquet',
  crypto: 'crypto-5m.parquet',
  perp: 'perp-5m.parquet',
  funding: 'perp-8h-funding.parquet',
} as const;

/** The seed everything in `data/` is generated from. */
export const DEFAULT_DATASET_SEED = 20240310;

/** The frames of the default data set (each Bars frame has an extra Int8 `regime` column). */
export interface DefaultDataset {
  /** 3 US equities, 1-minute regular-hours bars, 2024-02-26 .. 2024-03-28 (spans the 2024-03-10 DST change; 2024-03-29 is a holiday). */
  equities: Bars;
  /** 3 crypto pairs, 5-minute 24x7 bars, 2024-03-01 .. 2024-03-28, with a few missing bars (0.2 %). */
  crypto: Bars;
  /** One perpetual, 5-minute 24x7 bars over the same span, correlated with the crypto pairs. */
  perp: Bars;
  /** 8-hourly funding of the perpetual (`ts`, `rate`). */
  funding: FundingRates;
}

/**
 * Generates the default data set in memory (deterministic: the same frames on every run).
 * @example buildDefaultDataset().equities.height // 28_080 (24 days x 390 bars x 3 symbols)
 */
export function buildDefaultDataset(): DefaultDataset {
  const equities = simulateMarket({
    seed: DEFAULT_DATASET_SEED,
    session: 'us-rth',
    barMs: 60_000,
    start: '2024-02-26T00:00:00Z',
    end: '2024-03-30T00:00:00Z',
    symbols: [
      { symbol: 'SYNA', price: 182.5, annualVol: 0.25, factorLoading: 0.7, volume: 20_000 },
      { symbol: 'SYNB', price: 46.2, annualVol: 0.45, factorLoading: 0.6, volume: 50_000 },
      { symbol: 'SYNC', price: 318.0, annualVol: 0.2, factorLoading: 0.5, volume: 8_000 },
    ],
  });
  const crypto = simulateMarket({
    seed: DEFAULT_DATASET_SEED + 1,
    session: '24x7',
    barMs: 300_000,
    start: '2024-03-01T00:00:00Z',
    end: '2024-03-29T00:00:00Z',
    missingBarProbability: 0.002,
    symbols: [
      { symbol: 'SYN_BTC', price: 61_500, annualVol: 0.6, factorLoading: 0.8, tick: 0.1, volume: 2, volumeStep: 0.0001 },
      { symbol: 'SYN_ETH', price: 3_400, annualVol: 0.75, factorLoading: 0.75, tick: 0.01, volume: 30, volumeStep: 0.001 },
      { symbol: 'SYN_SOL', price: 130, annualVol: 1.0, factorLoading: 0.6, tick: 0.001, volume: 800, volumeStep: 0.01 },
      { symbol: 'SYN_PERP', price: 0.62, annualVol: 0.9, factorLoading: 0.65, tick: 0.0001, volume: 2_000_000 },
    ],
  });
  const spot = { ...crypto, series: crypto.series.slice(0, 3) };
  const perpSeries = crypto.series[3];
  const funding = simulateFunding(perpSeries, { seed: DEFAULT_DATASET_SEED + 2 });
  return {
    equities: marketToBars(equities, true),
    crypto: marketToBars(spot, true),
    perp: marketToBars({ ...crypto, series: [perpSeries] }, true),
    funding: pl.DataFrame([tsSeries(funding.ts), pl.Series('rate', funding.rate, pl.Float64)]),
  };
}

/**
 * Writes the default data set as Parquet (zstd) into `dir` (default `data/`); the bytes are the
 * same on every run, which a test checks against the committed files.
 * @returns the paths written.
 * @example writeDefaultDataset('/tmp/qb') // ['/tmp/qb/equities-1m.parquet', ...]
 */
export function writeDefaultDataset(dir: string = DEFAULT_DATA_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const ds = buildDefaultDataset();
  return (Object.keys(DEFAULT_DATASET_FILES) as (keyof DefaultDataset)[]).map((k) => {
    const path = join(dir, DEFAULT_DATASET_FILES[k]);
    writeFileAtomic(path, ds[k].writeParquet({ compression: 'zstd' }));
    return path;
  });
}

/**
 * Reads the committed default data set (with the `regime` label kept on the bar frames).
 * @example loadDefaultDataset().crypto.getColumn('symbol').unique().len() // 3
 */
export function loadDefaultDataset(dir: string = DEFAULT_DATA_DIR): DefaultDataset {
  const bars = (f: string): Bars => loadBars(join(dir, f), { keep: ['regime'] });
  return {
    equities: bars(DEFAULT_DATASET_FILES.equities),
    crypto: bars(DEFAULT_DATASET_FILES.crypto),
    perp: bars(DEFAULT_DATASET_FILES.perp),
    funding: loadFundingRates(join(dir, DEFAULT_DATASET_FILES.funding)),
  };
}
