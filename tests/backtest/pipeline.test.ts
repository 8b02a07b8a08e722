import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestConfigInput } from '../../src/backtest/config';
import { runBacktest } from '../../src/backtest/engine';
import { forecastSignals } from '../../src/backtest/forecastSignals';
import { marketFromBars, type MarketArrays } from '../../src/backtest/market';
import { monteCarloOfRun } from '../../src/backtest/montecarlo';
import { forecastBacktest } from '../../src/backtest/pipeline';
import { backtestStats } from '../../src/backtest/stats';
import { sliceMarket, sliceSignals } from '../../src/backtest/walkforward';
import { loadBars } from '../../src/data';
import { createBaseline } from '../../src/forecast/baselines';
import { realData } from '../support/paths';

describe('forecastBacktest on two recorded crypto pairs', () => {
  let market: MarketArrays;
  const config: BacktestConfigInput = { defaultClass: 'crypto', sizing: { kind: 'kelly', fraction: 0.5 }, limits: { perSymbolCap: 0.6 } };
  beforeAll(() => {
    const m = marketFromBars(loadBars(realData('crypto-5m')), { symbols: ['ETH_BTC', 'LTC_BTC'] });
    market = sliceMarket(m, { start: 0, end: 3000 });
  });

  it('is forecastSignals -> runBacktest -> backtestStats -> monteCarloOfRun, number for number', async () => {
    const run = await forecastBacktest(market, createBaseline('historical'), { horizonBars: 12, seed: 3, config, monteCarlo: { simulations: 200, seed: 5 } });
    const fc = await forecastSignals(market, createBaseline('historical'), { horizonBars: 12, seed: 3 });
    const result = runBacktest(market, fc.signals, config);
    expect(Array.from(run.forecast.signals.mu)).toEqual(Array.from(fc.signals.mu));
    expect(Array.from(run.result.equity)).toEqual(Array.from(result.equity));
    expect(run.result.trades.length).toBe(result.trades.length);
    expect(run.result.trades.length).toBeGreaterThan(10);
    expect(run.stats).toEqual(backtestStats(result));
    const mc = monteCarloOfRun(result, { simulations: 200, seed: 5 });
    expect(run.monteCarlo?.bars.maxDrawdownPct).toEqual(mc.bars.maxDrawdownPct);
    expect(run.monteCarlo?.trades?.finalEquity).toEqual(mc.trades?.finalEquity);
    expect(run.market).toBe(market);
    // Without monteCarlo (or 0 paths) there is none.
    const noMc = await forecastBacktest(market, createBaseline('historical'), { horizonBars: 12, seed: 3, config, monteCarlo: { simulations: 0, seed: 1 } });
    expect(noMc.monteCarlo).toBeNull();
    expect(noMc.stats.sharpe).toBe(run.stats.sharpe);
  });

  it('trades only the range (earlier bars feed the windows) and passes the range\'s pUp to a strategy', async () => {
    const range = { start: 1000, end: 2500 };
    let seen: { bars: number; pUp: number } | null = null;
    const run = await forecastBacktest(market, createBaseline('trend'), {
      horizonBars: 6, range, config,
      trade: (m, signals, pUp) => {
        seen = { bars: m.ts.length, pUp: pUp.length };
        return runBacktest(m, signals, config);
      },
    });
    expect(seen).toEqual({ bars: 1500, pUp: 3000 });
    const fc = await forecastSignals(market, createBaseline('trend'), { horizonBars: 6, range });
    const ref = runBacktest(sliceMarket(market, range), sliceSignals(fc.signals, 2, range), config);
    expect(run.result.ts[0]).toBe(market.ts[1000]);
    expect(Array.from(run.result.equity)).toEqual(Array.from(ref.equity));
    expect(Array.from(run.pUp)).toEqual(Array.from(fc.pUp.subarray(2000, 5000)));
  });
});
