/**
 * The maximum-drawdown kill switch on the recorded crypto pairs: notebook 03's config
 * (half-Kelly, 60% per-symbol cap, the default kill switches with a 15% drawdown stop) on a
 * losing strategy (fading the historical forecaster: mu negated), which pauses many times on
 * losing streaks and daily losses before it reaches the drawdown limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestConfigInput } from '../../src/backtest/config';
import { runBacktest } from '../../src/backtest/engine';
import { forecastSignals } from '../../src/backtest/forecastSignals';
import { marketFromBars, type MarketArrays } from '../../src/backtest/market';
import type { BacktestResult } from '../../src/backtest/result';
import { backtestStats } from '../../src/backtest/stats';
import type { Signals } from '../../src/backtest/signals';
import { drawdown } from '../../src/backtest/stats';
import { loadBars } from '../../src/data';
import { createBaseline } from '../../src/forecast/baselines';
import { realData } from '../support/paths';
import { HOUR, T0, cfg, constSignals, market } from './fixtures';

const NOTEBOOK_03: BacktestConfigInput = { defaultClass: 'crypto', sizing: { kind: 'kelly', fraction: 0.5 }, limits: { perSymbolCap: 0.6 } };

describe('the maximum-drawdown stop on the recorded crypto pairs', () => {
  let m: MarketArrays;
  let fade: Signals;
  beforeAll(async () => {
    m = marketFromBars(loadBars(realData('crypto-5m')), { session: '24x7' });
    const fc = await forecastSignals(m, createBaseline('historical'), { horizonBars: 30, seed: 1 });
    fade = { ...fc.signals, mu: fc.signals.mu.map((x) => -x) };
  }, 60_000);

  /** Drawdown of the curve with the starting capital in front (as backtestStats measures it). */
  const ddSeries = (r: BacktestResult): Float64Array => {
    const eq = Float64Array.from([r.config.capital, ...r.equity]);
    return drawdown(new Float64Array(eq.length).map((_, i) => i), eq).series.subarray(1);
  };

  it('reproduces the fall past the limit when other switches\' pauses reset the peak (the old rule)', () => {
    const r = runBacktest(m, fade, { ...NOTEBOOK_03, killSwitches: { maxDrawdown: { threshold: 0.15, peakReset: 'afterAnyPause' } } });
    expect(r.killEvents.length).toBeGreaterThan(10);
    expect(r.killEvents.some((e) => e.switch === 'maxDrawdown')).toBe(false);
    expect(backtestStats(r).maxDrawdownPct).toBeGreaterThan(20);
  });

  it('fires at the first close 15% below the running peak, and the fall stops within one bar and the exit costs', () => {
    const r = runBacktest(m, fade, NOTEBOOK_03);
    const S = m.symbols.length;
    const stops = r.killEvents.filter((e) => e.switch === 'maxDrawdown');
    expect(stops).toHaveLength(1);
    const k = stops[0].bar;
    // Other switches paused it first, without resetting the peak.
    expect(r.killEvents.filter((e) => e.bar < k).length).toBeGreaterThan(5);
    const dd = ddSeries(r);
    // The first crossing: every close before k is under the limit, bar k is at or past it.
    expect(Math.max(...dd.subarray(0, k))).toBeLessThan(0.15);
    expect(dd[k]).toBeGreaterThanOrEqual(0.15);
    expect(stops[0].value).toBeCloseTo(dd[k], 12);
    expect(r.stoppedAt).toBe(m.ts[k]);
    // Flat from the next open on; the equity never moves again (cash earns nothing by default).
    for (let t = k + 1; t < m.ts.length; t++) for (let s = 0; s < S; s++) expect(r.positions![t * S + s]).toBe(0);
    expect(r.equity[m.ts.length - 1]).toBe(r.equity[k + 1]);
    // The bound: the limit, plus bar k's move, plus the gap from close k to open k+1 and the exit costs,
    // all measured from the market and the positions held at k's close.
    const peak = Math.max(r.config.capital, ...r.equity.subarray(0, k + 1));
    const barMove = (r.equity[k - 1] - r.equity[k]) / peak;
    let gapAndCosts = 0;
    for (let s = 0; s < S; s++) {
      const q = r.positions![k * S + s];
      if (q === 0) continue;
      const o = m.open[(k + 1) * S + s];
      gapAndCosts += q * (m.close[k * S + s] - o) + Math.abs(q) * o * (0.0002 + 1.0002 * 0.001);
    }
    const maxDd = backtestStats(r).maxDrawdownPct / 100;
    expect(maxDd).toBeGreaterThan(0.15);
    expect(maxDd).toBeLessThanOrEqual(0.15 + barMove + gapAndCosts / peak + 1e-12);
    expect(barMove + gapAndCosts / peak).toBeLessThan(0.02);
    expect(maxDd).toBeLessThan(0.17);
  });
});

describe('the drawdown peak and pauses', () => {
  const NONE = { dailyLoss: null, consecutiveLosses: null, fundingSpike: null };

  it('resets the peak after its own pause (default) so that it does not fire again at once', () => {
    // 0.012 / 0.1^2 * 0.5 = 0.6 of equity long; a 30% drop loses 18% > 10%.
    const p = [100, 100, 100, 70, 70, 70, 70, 70, 70, 70];
    const m = market({ A: { open: p, close: p } });
    const r = runBacktest(m, constSignals(m, 0.012, 0.1), cfg({ killSwitches: { ...NONE, maxDrawdown: { threshold: 0.1, action: { kind: 'pause', minutes: 120 } } } }));
    expect(r.killEvents).toHaveLength(1);
    expect(r.killEvents[0]).toMatchObject({ switch: 'maxDrawdown', bar: 3, resumeTime: T0 + 5 * HOUR });
    expect(r.positions![6]).toBeGreaterThan(0);
  });

  it('keeps the peak through another switch\'s pause and fires while still paused', () => {
    // Day 1 loses 6% (daily loss, 3%, pauses the rest of the day); the position is flattened at the next
    // open, which gaps down: the drawdown from the start crosses 10% while the account is paused.
    const p = [100, 100, 100, 90, 75, 75, 75, 75];
    const m = market({ A: { open: [100, 100, 100, 90, 70, 75, 75, 75], close: p } }, { sessionEnd: [5] });
    const r = runBacktest(m, constSignals(m, 0.012, 0.1), cfg({ killSwitches: { ...NONE, dailyLoss: {}, maxDrawdown: { threshold: 0.1 } } }));
    expect(r.killEvents.map((e) => [e.switch, e.bar])).toEqual([['dailyLoss', 3], ['maxDrawdown', 4]]);
    expect(r.stoppedAt).toBe(T0 + 4 * HOUR);
    // Never trades again after the next session starts.
    expect(r.positions![6]).toBe(0);
    expect(r.positions![7]).toBe(0);
  });
});
