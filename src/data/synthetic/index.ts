/**
 * The seeded synthetic market generator (see `market.ts` for the model).
 */
import pl from 'nodejs-polars';
import { arraysToBars, type Bars } from '../bars';
import { simulateMarket, type SyntheticSeries, type SyntheticMarket, type SyntheticMarketOptions } from './market';
import { DEFAULT_REGIMES, type RegimeSpec } from './regimes';

export { simulateMarket, type SyntheticMarket, type SyntheticMarketOptions, type SyntheticSeries, type SyntheticSymbol } from './market';
export { simulateFunding, type SyntheticFundingOptions } from './funding';
export { DEFAULT_REGIMES, simulateRegimes, type RegimeSpec } from './regimes';

/**
 * A simulated market as one multi-symbol Bars frame (symbols in the order given).
 * @param withRegime - also add the `regime` label column (Int8), default false.
 * @example marketToBars(simulateMarket(opts)).columns // ['ts', 'symbol', 'open', 'high', 'low', 'close', 'volume']
 */
export function marketToBars(market: SyntheticMarket, withRegime = false): Bars {
  const extra: Record<string, pl.Series> = {};
  if (withRegime) {
    const n = market.series.reduce((s, x) => s + x.ts.length, 0);
    const reg = new Int8Array(n);
    let off = 0;
    for (const s of market.series) {
      reg.set(s.regime, off);
      off += s.ts.length;
    }
    extra.regime = pl.Series('regime', reg, pl.Int8);
  }
  return arraysToBars(market.series, extra);
}

/** Options of {@link syntheticSeries}: one 24x7 symbol, `n` bars from 2020-01-01 UTC. */
export interface SyntheticSeriesOptions {
  seed: number;
  /** Number of bars. */
  n: number;
  /** Bar length in ms; default 60_000. */
  barMs?: number;
  /** First open; default 100. */
  price?: number;
  /** Base annualized volatility; default 0.6. */
  annualVol?: number;
  regimes?: readonly RegimeSpec[];
  garch?: { alpha: number; beta: number };
  jumpSize?: number;
}

/**
 * One continuous (24x7) synthetic series of exactly `n` bars: the quick way to get many varied
 * training series (change the seed, volatility or regimes).
 * @example syntheticSeries({ seed: 1, n: 1000 }).close.length // 1000
 */
export function syntheticSeries(opts: SyntheticSeriesOptions): SyntheticSeries {
  const barMs = opts.barMs ?? 60_000;
  const start = Date.UTC(2020, 0, 1);
  const options: SyntheticMarketOptions = {
    seed: opts.seed,
    session: '24x7',
    barMs,
    start,
    end: start + opts.n * barMs,
    symbols: [{ symbol: 'SYN', price: opts.price ?? 100, annualVol: opts.annualVol ?? 0.6, tick: 1e-6, volumeStep: 1e-3 }],
    regimes: opts.regimes ?? DEFAULT_REGIMES,
    garch: opts.garch,
    jumpSize: opts.jumpSize,
  };
  return simulateMarket(options).series[0];
}
