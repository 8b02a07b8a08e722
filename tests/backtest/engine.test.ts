import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/engine';
import { roundToLot } from '../../src/backtest/sizing';
import { DataError } from '../../src/core/errors';
import { HOUR, T0, cfg, constSignals, flat, market } from './fixtures';

const YEAR_MS = 365 * 86_400_000;

describe('Kelly sizing, fills and costs (hand-computed)', () => {
  it('sizes half-Kelly, fills at the next open with slippage and fees, then skips small rebalances', () => {
    const m = market({ A: flat(4) });
    // f = 0.5 * 0.01 / 0.1^2 = 0.5 of 10,000 at 100 = 50 units.
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg());
    expect(r.decisions).toBeNull();
    expect(r.positions![0]).toBe(0);
    expect(r.positions![1]).toBeCloseTo(50, 12);
    const fillPrice = 100 * (1 + 2e-4); // crypto slippage 2 bps
    const fee = 50 * fillPrice * 10e-4; // crypto fee 10 bps
    const cash = 10_000 - 50 * fillPrice - fee;
    expect(r.cash[1]).toBeCloseTo(cash, 9);
    expect(r.equity[1]).toBeCloseTo(cash + 50 * 100, 9);
    expect(r.costs.fees).toBeCloseTo(fee, 12);
    expect(r.costs.slippage).toBeCloseTo(50 * 100 * 2e-4, 12);
    // Bars 1..3 want 0.5 * 9,994 / 100 = 49.97: a 0.03-unit order, under 0.5% of equity.
    expect(r.limits.counts.minTrade).toBe(3);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0].exitReason).toBe('end');
    expect(r.trades[0].pnl).toBeCloseTo(cash + 5000 - 10_000, 9);
  });

  it('fills at the same bar close with fill: close', () => {
    const m = market({ A: { open: [100, 100, 100], close: [110, 120, 130] } });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg({ fill: 'close', classes: { crypto: { feeBps: 0, slippageBps: 0 } } }));
    expect(r.positions![0]).toBeCloseTo(roundToLot((0.5 * 10_000) / 110, 0.001), 12);
    expect(r.cash[0]).toBeCloseTo(10_000 - r.positions![0] * 110, 9);
  });

  it('caps one symbol at 60% of equity and counts it', () => {
    const m = market({ A: flat(2) });
    const r = runBacktest(m, constSignals(m, 0.02, 0.1), cfg()); // f = 1.0
    expect(r.limits.counts.perSymbolCap).toBe(2);
    expect(r.positions![1]).toBeCloseTo(60, 12);
    expect(r.limits.bindingMask[0] & 1).toBe(1);
  });

  it('scales a class to its gross cap pro rata, then cuts the last buy to the cash on hand', () => {
    const m = market({ A: flat(2), B: flat(2), C: flat(2) });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg()); // 0.5 each, 1.5 gross -> 1/3 each
    expect(r.limits.counts.grossIntraday).toBe(6);
    const q = roundToLot(10_000 / 3 / 100, 0.001);
    const unit = 100 * 1.0002 * 1.001;
    const left = 10_000 - 2 * q * unit;
    expect(r.positions![3]).toBeCloseTo(q, 12);
    expect(r.positions![4]).toBeCloseTo(q, 12);
    expect(r.positions![5]).toBeCloseTo(roundToLot(left / unit, 0.001), 12);
    expect(r.limits.counts.cash).toBe(1);
    expect(r.limits.bySymbol.cash).toEqual([0, 0, 1]);
    expect(r.cash[1]).toBeGreaterThanOrEqual(0);
  });

  it('cuts short targets of long-only classes and counts it', () => {
    const m = market({ A: flat(3) });
    const r = runBacktest(m, constSignals(m, -0.01, 0.1), cfg());
    expect(r.limits.counts.longOnly).toBe(3);
    expect(r.trades).toHaveLength(0);
  });

  it('shorts a perpetual and floors sigma at sigmaFloor', () => {
    const m = market({ P: flat(2) });
    // sigma 0.001 is floored to 0.05: f = 0.5 * -0.001 / 0.0025 = -0.2.
    const r = runBacktest(m, constSignals(m, -0.001, 0.001), cfg({ defaultClass: 'perp', sigmaFloor: 0.05 }));
    expect(r.positions![1]).toBeCloseTo(-20, 12);
  });

  it('rounds stock quantities to whole shares', () => {
    const m = market({ S: flat(2, 33) });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg({ defaultClass: 'stock', limits: { perSymbolCap: 3 } }));
    // f = 0.5 * 4 = 2 -> 20,000 / 33 = 606.06 shares -> 606.
    expect(r.positions![1]).toBe(606);
  });
});

describe('other sizings behind the same interface', () => {
  it('holds a fixed target weight, or its sign-of-mu version', () => {
    const m = market({ A: flat(2) });
    const long = runBacktest(m, constSignals(m, -0.01), cfg({ defaultClass: 'perp', sizing: { kind: 'targetWeight', weight: 0.2 } }));
    expect(long.positions![1]).toBeCloseTo(20, 12);
    const signed = runBacktest(m, constSignals(m, -0.01), cfg({ defaultClass: 'perp', sizing: { kind: 'targetWeight', weight: 0.2, direction: 'signal' } }));
    expect(signed.positions![1]).toBeCloseTo(-20, 12);
  });

  it('targets an annual volatility from the forecast sigma of its horizon', () => {
    const m = market({ A: flat(2) });
    // Hourly 24x7 bars: 8,760 a year; sigma 0.02 over 30 bars is 0.02 * sqrt(8760 / 30) a year.
    const r = runBacktest(m, constSignals(m, 0.01, 0.02, 30), cfg({ sizing: { kind: 'volTarget', annualVol: 0.15 } }));
    expect(r.periodsPerYear).toBe(8760);
    const f = 0.15 / (0.02 * Math.sqrt(8760 / 30));
    expect(r.positions![1]).toBeCloseTo(roundToLot((f * 10_000) / 100, 0.001), 12);
  });

  it('scales the base sizing by the regime multiplier of the bar', () => {
    const m = market({ A: flat(4) });
    const regime = Uint8Array.of(1, 1, 3, 3); // chop, chop, shock, shock
    const r = runBacktest(m, { ...constSignals(m, 0.01, 0.1), regime }, cfg({ sizing: { kind: 'regime', base: { kind: 'kelly', fraction: 0.5 } } }));
    // Kelly 0.5 x chop 0.3 = 0.15 of 10,000 at 100; then shock 0 closes it.
    expect(r.positions![1]).toBeCloseTo(15, 12);
    expect(r.positions![3]).toBe(0);
    expect(() => runBacktest(m, constSignals(m, 0.01), cfg({ sizing: { kind: 'regime', base: { kind: 'kelly' } } }))).toThrow(/needs signals.regime/);
  });
});

describe('stock session rules, interest and funding', () => {
  const stockCosts = { stock: { feeBps: 0, slippageBps: 0 } };

  it('holds 4x intraday and reduces to 2x at the session close, at that bar\'s close', () => {
    const m = market({ A: flat(4), B: flat(4) }, { sessionEnd: [2] });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg({ defaultClass: 'stock', classes: stockCosts, limits: { perSymbolCap: 3 }, interest: { borrowRateAnnual: 0 } }));
    // f = 0.5 * 4 = 2 per symbol: gross 4 intraday (at the cap, not above), 2 at the close.
    expect(r.grossExposure[1] / r.equity[1]).toBeCloseTo(4, 12);
    expect(r.grossExposure[2] / r.equity[2]).toBeCloseTo(2, 12);
    expect(r.positions![4]).toBe(100);
    expect(r.limits.counts.grossAtClose).toBe(2);
    expect(r.limits.counts.grossIntraday).toBe(0);
  });

  it('holds a position without a forecast, but still cuts it to the at-close cap', () => {
    const m = market({ A: flat(4), B: flat(4) }, { sessionEnd: [2] });
    const valid = Uint8Array.of(1, 1, 1, 1, 1, 0, 1, 1); // B has no forecast at bar 2, the session's last
    const r = runBacktest(m, { ...constSignals(m, 0.01, 0.1), valid }, cfg({ defaultClass: 'stock', classes: stockCosts, limits: { perSymbolCap: 3 }, interest: { borrowRateAnnual: 0 } }));
    expect(r.fallbacks.noForecast).toEqual([0, 1]);
    expect(r.grossExposure[2] / r.equity[2]).toBeCloseTo(2, 12);
    expect(r.positions![5]).toBe(100);
  });

  it('charges interest on borrowed cash by elapsed time', () => {
    const m = market({ A: flat(3) });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg({ defaultClass: 'stock', classes: stockCosts, limits: { perSymbolCap: 3 } }));
    // 200 shares at 100 from bar 1: 10,000 borrowed for one hour (bar 1 -> bar 2).
    const interest = (10_000 * 0.065 * HOUR) / YEAR_MS;
    expect(r.costs.interest).toBeCloseTo(interest, 12);
    expect(r.equity[2]).toBeCloseTo(10_000 - interest, 9);
  });

  it('charges funding to longs and pays it to shorts at each funding time', () => {
    const m = market({ P: { open: [100, 100, 102, 102], close: [100, 100, 102, 102] } });
    const funding = { P: { ts: Float64Array.of(T0 + 1.5 * HOUR, T0 + 10 * HOUR), rate: Float64Array.of(0.001, 0.001) } };
    const base = cfg({ defaultClass: 'perp', classes: { perp: { feeBps: 0, slippageBps: 0 } } });
    const long = runBacktest(m, constSignals(m, 0.002, 0.1), base, { funding });
    // 10 units held over 1.5h, priced at bar 2's open: 10 * 102 * 0.001.
    expect(long.costs.funding).toBeCloseTo(10 * 102 * 0.001, 12);
    expect(long.trades[0].funding).toBeCloseTo(1.02, 12);
    const short = runBacktest(m, constSignals(m, -0.002, 0.1), base, { funding });
    expect(short.costs.funding).toBeCloseTo(-1.02, 12);
    expect(short.fallbacks.perpsWithoutFunding).toEqual([]);
    expect(runBacktest(m, constSignals(m, 0.002, 0.1), base).fallbacks.perpsWithoutFunding).toEqual(['P']);
  });
});

describe('kill switches say when and why', () => {
  it('stops on the maximum drawdown and stays flat', () => {
    const m = market({ A: { open: [100, 100, 100, 70, 70, 80], close: [100, 100, 100, 70, 70, 80] } });
    const r = runBacktest(m, constSignals(m, 0.0012, 0.1), cfg({ killSwitches: { maxDrawdown: {}, dailyLoss: null, consecutiveLosses: null,
      fundingSpike: null } }));
    // f = 0.06: loses 1.8% at bar 3 — below 15%, so it keeps going.
    expect(r.killEvents).toHaveLength(0);
    const big = runBacktest(m, constSignals(m, 0.012, 0.1), cfg({ killSwitches: { maxDrawdown: { threshold: 0.1 }, dailyLoss: null, consecutiveLosses: null,
      fundingSpike: null } }));
    expect(big.killEvents).toHaveLength(1);
    const e = big.killEvents[0];
    expect(e).toMatchObject({ switch: 'maxDrawdown', bar: 3, time: T0 + 3 * HOUR, threshold: 0.1, action: { kind: 'stop' }, resumeTime: null });
    // The peak is the starting capital: fees already put equity below it at bar 1.
    expect(e.value).toBeCloseTo(1 - big.equity[3] / 10_000, 12);
    expect(big.stoppedAt).toBe(T0 + 3 * HOUR);
    expect(big.positions![4 * 1]).toBe(0);
    expect(big.positions![5]).toBe(0);
    expect(big.trades[0].exitReason).toBe('killSwitch');
  });

  it('pauses for the rest of the day on the daily loss, and resumes next session', () => {
    const p = [100, 100, 100, 95, 95, 95, 95];
    const m = market({ A: { open: p, close: p } }, { sessionEnd: [4], barMs: 6 * HOUR });
    const r = runBacktest(m, constSignals(m, 0.012, 0.1), cfg({ killSwitches: { maxDrawdown: null, dailyLoss: {}, consecutiveLosses: null,
      fundingSpike: null } }));
    const e = r.killEvents[0];
    expect(e.switch).toBe('dailyLoss');
    expect(e.bar).toBe(3);
    expect(e.action).toEqual({ kind: 'pauseRestOfDay' });
    expect(e.resumeTime).toBe(m.ts[5]);
    expect(r.positions![4]).toBe(0);
    expect(r.positions![6]).toBeGreaterThan(0);
  });

  it('pauses after consecutive losing trades', () => {
    const down = [100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87];
    const m = market({ A: { open: down, close: down } });
    const s = { ...constSignals(m, 0.01, 0.1), entry: new Int8Array(down.length).fill(1) };
    const r = runBacktest(m, s, cfg({ rule: { kind: 'entryExit', horizonBars: 1 }, killSwitches: { maxDrawdown: null, dailyLoss: null, consecutiveLosses: { count: 3, action: { kind: 'pause', minutes: 180 } }, fundingSpike: null } }));
    const e = r.killEvents[0];
    expect(e.switch).toBe('consecutiveLosses');
    expect(e.value).toBe(3);
    expect(r.trades.slice(0, 3).every((t) => t.pnl < 0)).toBe(true);
    expect(e.resumeTime).toBe(m.ts[e.bar + 3]);
  });

  it('pauses on a funding spike and names the perpetual', () => {
    const m = market({ P: flat(6) });
    const funding = { P: { ts: Float64Array.of(T0 + 2 * HOUR), rate: Float64Array.of(-0.02) } };
    const r = runBacktest(m, constSignals(m, 0.002, 0.1), cfg({ defaultClass: 'perp', killSwitches: { maxDrawdown: null, dailyLoss: null, consecutiveLosses: null, fundingSpike: {} } }), { funding });
    expect(r.killEvents[0]).toMatchObject({ switch: 'fundingSpike', bar: 2, value: -0.02, symbol: 'P', action: { kind: 'pause', minutes: 480 }, resumeTime: null });
    expect(r.positions![3]).toBe(0);
  });
});

describe('entry / exit rule', () => {
  it('leaves after the horizon and reports the entry score', () => {
    const m = market({ A: flat(6) });
    const s = { ...constSignals(m, 0.01, 0.1), entry: Int8Array.of(1, 0, 0, 0, 0, 0), score: Float64Array.of(0.7, 0, 0, 0, 0, 0) };
    const r = runBacktest(m, s, cfg({ rule: { kind: 'entryExit', horizonBars: 2 } }));
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ decisionBar: 0, entryBar: 1, exitBar: 3, exitReason: 'horizon', score: 0.7, side: 'long' });
  });

  it('exits at the stop price, or at a worse open when the bar gaps through it', () => {
    const m = market({ A: { open: [100, 100, 99, 99], close: [100, 100, 99, 99], low: [100, 100, 90, 99] } });
    const s = { ...constSignals(m, 0.01, 0.1), entry: Int8Array.of(1, 0, 0, 0) };
    const conf = cfg({ rule: { kind: 'entryExit', horizonBars: 10, stopLoss: 0.05 } });
    const r = runBacktest(m, s, conf);
    const entry = 100 * 1.0002;
    expect(r.trades[0].exitReason).toBe('stop');
    expect(r.trades[0].exitBar).toBe(2);
    expect(r.trades[0].exitPrice).toBeCloseTo(entry * 0.95 * (1 - 2e-4), 9);
    const gap = market({ A: { open: [100, 100, 80, 80], close: [100, 100, 80, 80] } });
    expect(runBacktest(gap, { ...constSignals(gap, 0.01, 0.1), entry: Int8Array.of(1, 0, 0, 0) }, conf).trades[0].exitPrice).toBeCloseTo(80 * (1 - 2e-4), 9);
  });
});

describe('gaps and bad input', () => {
  it('cancels an order when the symbol has no bar to fill at, and counts both', () => {
    const m = market({ A: { open: [100, NaN, 100], close: [100, NaN, 100] } });
    const r = runBacktest(m, constSignals(m, 0.01, 0.1), cfg());
    expect(r.fallbacks.cancelledOrders).toBe(1);
    expect(r.fallbacks.missingQuotes).toEqual([1]);
    expect(r.positions![2]).toBe(0);
  });

  it('rejects forecasts that do not line up, NaN forecasts and non-positive prices', () => {
    const m = market({ A: flat(3) });
    const s = constSignals(m, 0.01);
    expect(() => runBacktest(m, { ...s, mu: new Float64Array(2) }, cfg())).toThrow(/do not line up/);
    s.mu[1] = NaN;
    expect(() => runBacktest(m, s, cfg())).toThrow(DataError);
    expect(() => runBacktest(m, s, cfg())).toThrow(/row 1, column "mu"/);
    const bad = market({ A: { open: [100, 100, 100], close: [100, -1, 100] } });
    expect(() => runBacktest(bad, constSignals(bad, 0.01), cfg())).toThrow(/price must be positive.*row 1, column "close"/);
  });

  it('rejects a symbol without a class and funding for a non-perpetual', () => {
    const m = market({ A: flat(3) });
    expect(() => runBacktest(m, constSignals(m, 0.01), { killSwitches: {} })).toThrow(/no instrument class/);
    expect(() => runBacktest(m, constSignals(m, 0.01), cfg(), { funding: { A: { ts: new Float64Array(0), rate: new Float64Array(0) } } })).toThrow(/not perp/);
  });
});

describe('roundToLot', () => {
  it('rounds toward zero without losing a lot to binary fractions', () => {
    expect(roundToLot(0.3 / 0.1, 1)).toBe(3);
    expect(roundToLot(1.2349, 0.001)).toBeCloseTo(1.234, 15);
    expect(roundToLot(-2.7, 1)).toBe(-2);
    expect(roundToLot(0.0009, 0.001)).toBe(0);
  });
});
