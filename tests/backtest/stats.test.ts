import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { periodsPerYear } from '../../src/backtest/annualize';
import { runBacktest } from '../../src/backtest/engine';
import { marketFromBars } from '../../src/backtest/market';
import { loadBars, resample } from '../../src/data';
import { realData } from '../support/paths';
import type { Trade } from '../../src/backtest/ledger';
import { backtestStats, computeStats, drawdown } from '../../src/backtest/stats';
import { DataError } from '../../src/core/errors';

const DAY = 86_400_000;

function trade(pnl: number, returnOnNotional: number, exitReason: Trade['exitReason'] = 'signal'): Trade {
  return {
    symbol: 'A', side: 'long', decisionBar: 0, entryBar: 0, exitBar: 1, entryTime: 0, exitTime: 1, entryPrice: 1, exitPrice: 1,
    maxQuantity: 1, pnl, fees: 0, slippage: 0, funding: 0, returnOnNotional, returnOnEquity: 0, exitReason, score: NaN,
  };
}

describe('computeStats on hand-computed values', () => {
  // Equity 100 -> 110 -> 99 -> 108.9: returns +10%, -10%, +10%.
  const curve = {
    ts: Float64Array.of(0, DAY, 2 * DAY, 3 * DAY),
    equity: Float64Array.of(100, 110, 99, 108.9),
    grossExposure: Float64Array.of(0, 55, 99, 0),
    costs: { fees: 1, slippage: 0.5, interest: 0.25, funding: -0.1, tradedNotional: 412.95 },
  };
  const trades = [trade(10, 0.1), trade(-4, -0.04), trade(2, 0.02), trade(5, 0.05, 'end')];
  const s = computeStats(curve, trades, { periodsPerYear: 365 });

  it('returns, volatility, Sharpe and Sortino', () => {
    expect(s.periods).toBe(3);
    expect(s.totalReturnPct).toBeCloseTo(8.9, 12);
    const mean = 0.1 / 3;
    const std = Math.sqrt(((0.1 - mean) ** 2 * 2 + (-0.1 - mean) ** 2) / 2);
    expect(s.annualVolPct).toBeCloseTo(100 * std * Math.sqrt(365), 10);
    expect(s.sharpe).toBeCloseTo((mean / std) * Math.sqrt(365), 10);
    // Downside deviation over all 3 periods: sqrt(0.01 / 3).
    expect(s.sortino).toBeCloseTo((mean / Math.sqrt(0.01 / 3)) * Math.sqrt(365), 10);
    expect(s.profitFactorPerPeriod).toBeCloseTo(2, 12);
  });

  it('CAGR from calendar time (3 days of 365.25-day years), drawdown and Calmar', () => {
    const years = 3 / 365.25;
    expect(s.years).toBeCloseTo(years, 15);
    expect(s.cagrPct).toBeCloseTo(100 * (1.089 ** (1 / years) - 1), 6);
    expect(s.maxDrawdownPct).toBeCloseTo(10, 12);
    // Peak at day 1, not recovered by the end (108.9 < 110): 2 bars, 2 days.
    expect(s.maxDrawdownDurationBars).toBe(2);
    expect(s.maxDrawdownDurationDays).toBe(2);
    expect(s.calmar).toBeCloseTo((1.089 ** (1 / years) - 1) / 0.1, 6);
  });

  it('trade statistics over closed trades only', () => {
    expect(s.trades).toBe(3);
    expect(s.openTrades).toBe(1);
    expect(s.profitFactor).toBeCloseTo(12 / 4, 12);
    expect(s.winRatePct).toBeCloseTo(200 / 3, 12);
    expect(s.expectancy).toBeCloseTo(8 / 3, 12);
    expect(s.expectancyPct).toBeCloseTo((100 * 0.08) / 3, 12);
  });

  it('exposure, leverage, turnover and costs', () => {
    expect(s.exposureTimePct).toBe(50);
    expect(s.avgGrossLeverage).toBeCloseTo((0.5 + 1) / 4, 12);
    expect(s.turnoverAnnual).toBeCloseTo(412.95 / ((100 + 110 + 99 + 108.9) / 4) / (3 / 365.25), 9);
    expect([s.feesPaid, s.slippagePaid, s.interestPaid, s.fundingPaid]).toEqual([1, 0.5, 0.25, -0.1]);
  });

  it('uses the risk-free rate compounded per period and the minimum acceptable return', () => {
    const withRf = computeStats(curve, [], { periodsPerYear: 365, riskFreeRateAnnual: 0.05, minAcceptableReturn: 0.01 });
    const rf = 1.05 ** (1 / 365) - 1;
    const mean = 0.1 / 3;
    const std = Math.sqrt(((0.1 - mean) ** 2 * 2 + (-0.1 - mean) ** 2) / 2);
    expect(withRf.sharpe).toBeCloseTo(((mean - rf) / std) * Math.sqrt(365), 10);
    expect(withRf.sortino).toBeCloseTo(((mean - 0.01) / Math.sqrt(0.11 ** 2 / 3)) * Math.sqrt(365), 10);
    expect(Number.isNaN(withRf.winRatePct)).toBe(true);
  });
});

describe('computeStats against a pandas reference', () => {
  it('matches tests/backtest/reference/stats_reference.py', () => {
    const ref = JSON.parse(readFileSync(join(__dirname, 'reference', 'stats_reference.json'), 'utf8')) as Record<string, number>;
    const n = 500;
    const equity = Float64Array.from({ length: n },
      (_, t) => 100_000 * Math.exp(0.0004 * t + 0.02 * Math.sin(t / 7) - 0.15 * Math.exp(-(((t - 300) / 25) ** 2))));
    const ts = Float64Array.from({ length: n }, (_, t) => 1_704_067_200_000 + t * DAY);
    const s = computeStats({ ts, equity }, [], { periodsPerYear: 365, riskFreeRateAnnual: 0.03 });
    const noRf = computeStats({ ts, equity }, [], { periodsPerYear: 365 });
    expect(s.periods).toBe(ref.periods);
    for (const k of ['years', 'totalReturnPct', 'cagrPct', 'annualVolPct', 'sharpe', 'maxDrawdownPct', 'calmar', 'profitFactorPerPeriod'] as const) {
      expect(s[k], k).toBeCloseTo(ref[k], 9);
    }
    expect(noRf.sortino).toBeCloseTo(ref.sortino, 9);
    expect(s.maxDrawdownDurationBars).toBe(ref.maxDrawdownDurationBars);
  });
});

describe('drawdown and annualisation', () => {
  it('measures the longest drawdown to recovery, or to the end', () => {
    const d = drawdown(Float64Array.of(0, 1, 2, 3, 4, 5, 6), Float64Array.of(1, 2, 1.5, 2, 2.5, 2, 2.4));
    expect(d.max).toBeCloseTo(0.25, 15);
    // 2 -> recovered at index 3 (2 bars); 2.5 at index 4 -> never recovered (2 bars to the end).
    expect(d.longestBars).toBe(2);
    [0, 0, 0.25, 0, 0, 0.2, 0.04].forEach((v, i) => expect(d.series[i]).toBeCloseTo(v, 12));
  });

  it('annualises from bar spacing and calendar', () => {
    expect(periodsPerYear(60_000, 'usEquity')).toBe(98_280);
    expect(periodsPerYear(60_000, '24x7')).toBe(525_600);
    expect(periodsPerYear(3_600_000, '24x7')).toBe(8_760);
    expect(periodsPerYear(300_000, { tradingDaysPerYear: 250, sessionMinutes: 240 })).toBe(12_000);
    // One bar per session: daily bars are trading days, not 252 x 390 / 1440 = 68.25.
    expect(periodsPerYear(86_400_000, 'usEquity')).toBe(252);
    expect(periodsPerYear(86_400_000, '24x7')).toBe(365);
    expect(periodsPerYear(390 * 60_000, 'usEquity')).toBe(252);
    expect(periodsPerYear(7 * 86_400_000, 'usEquity')).toBeCloseTo(365.25 / 7, 12);
  });

  it('annualises daily bars of the recorded A-share and crypto pairs with 252 and 365 periods', () => {
    const cn = resample(loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 }), '1d', { session: 'cn-a' }).bars;
    const stock = marketFromBars(cn, { session: 'cn-a' });
    expect(stock.ts.length).toBeGreaterThan(40);
    const signals = { mu: new Float64Array(stock.ts.length).fill(0.01), sigma: new Float64Array(stock.ts.length).fill(0.1), horizonBars: 1 };
    const r = runBacktest(stock, signals, { defaultClass: 'stock' });
    expect(r.periodsPerYear).toBe(252);
    // Sharpe scales with sqrt(252): the same curve at the old 68.25 periods would read sqrt(68.25 / 252) of it.
    const s = backtestStats(r);
    expect(s.sharpe).toBeCloseTo(backtestStats(r, { periodsPerYear: 68.25 }).sharpe * Math.sqrt(252 / 68.25), 12);
    const crypto = marketFromBars(resample(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather')), '1d').bars);
    const n = crypto.ts.length;
    expect(runBacktest(crypto, { mu: new Float64Array(n), sigma: new Float64Array(n).fill(0.1), horizonBars: 1 }, { defaultClass: 'crypto' }).periodsPerYear).toBe(365);
  });

  it('rejects curves it cannot measure', () => {
    expect(() => computeStats({ ts: Float64Array.of(0), equity: Float64Array.of(1) }, [], { periodsPerYear: 1 })).toThrow(DataError);
    expect(() => computeStats({ ts: Float64Array.of(0, 1), equity: Float64Array.of(1, 0) }, [], { periodsPerYear: 1 })).toThrow(/row 1, column "equity"/);
  });
});
