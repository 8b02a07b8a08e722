/**
 * Targets, rules, probability sizing, brackets and timeframes: on hand-made bars where the
 * answer is worked out by hand, and on the recorded crypto pairs where the targets path must
 * give exactly what the forecast path gives for the same positions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestConfigInput } from '../../src/backtest/config';
import { runBacktest } from '../../src/backtest/engine';
import { marketFromBars, type MarketArrays } from '../../src/backtest/market';
import { monteCarloOfRun } from '../../src/backtest/montecarlo';
import { backtestStats } from '../../src/backtest/stats';
import type { Signals } from '../../src/backtest/signals';
import { probabilitySignals, ruleSignals, runTargets, targetSignals } from '../../src/backtest/targets';
import { sliceMarket, walkForwardBacktest } from '../../src/backtest/walkforward';
import { DataError } from '../../src/core/errors';
import { loadBars, resample } from '../../src/data';
import { realData } from '../support/paths';
import { thrownBy } from '../support/errors';
import { cfg, constSignals, flat, market } from './fixtures';

const MIN5 = 300_000;

describe('targets on hand-made bars', () => {
  it('fills weights and units at the next open, and NaN holds', () => {
    const m = market({ A: flat(5, 100), B: flat(5, 50) });
    // Bar 0: A 30% of equity, B 20 units; bar 1: hold both; bar 2: A flat, B hold; bar 3: B -> 10 units.
    const w = runTargets(m, { target: Float64Array.of(0.3, NaN, NaN, NaN, 0, NaN, NaN, NaN, NaN, NaN) }, cfg({ limits: { minTradeFraction: 0 } }));
    expect(Array.from(w.positions!)).toEqual([0, 0, 30, 0, 30, 0, 0, 0, 0, 0]);
    const u = runTargets(m, { target: Float64Array.of(NaN, 20, NaN, NaN, NaN, NaN, NaN, 10, NaN, NaN), unit: 'units' }, cfg({ limits: { minTradeFraction: 0 } }));
    expect(Array.from(u.positions!)).toEqual([0, 0, 0, 20, 0, 20, 0, 20, 0, 10]);
    expect(u.trades.map((t) => [t.symbol, t.entryBar])).toEqual([['B', 1]]);
    // Nothing is counted as a missing forecast: NaN is the user's "hold".
    expect(u.fallbacks.noForecast).toEqual([0, 0]);
  });

  it('applies the limits to targets and counts them', () => {
    const m = market({ A: flat(4, 100), B: flat(4, 100) });
    const r = runTargets(m, { target: new Float64Array(8).fill(0.9) }, cfg());
    // 0.9 -> per-symbol cap 0.6; 2 x 0.6 = 1.2 > crypto gross 1 -> scaled to 0.5 each.
    expect(r.limits.counts.perSymbolCap).toBe(8);
    expect(r.limits.counts.grossIntraday).toBe(8);
    expect(r.positions![2]).toBe(50); // 0.5 * 10,000 / 100
    expect(thrownBy(() => runTargets(m, { target: Float64Array.of(Infinity, 0, 0, 0, 0, 0, 0, 0) }, cfg()), DataError).message).toMatch(/target is infinite.*symbol "?A"?.*row 0/);
    // Five symbols: the mark pass reads four at a time, then one alone; a bad or NaN target there is seen too.
    const m5 = market({ A: flat(3, 100), B: flat(3, 100), C: flat(3, 100), D: flat(3, 100), E: flat(3, 100) });
    const w5 = (e: number) => Float64Array.of(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, e, 0.1, 0.1, 0.1, 0.1, 0.1);
    expect(thrownBy(() => runTargets(m5, { target: w5(-Infinity) }, cfg()), DataError).message).toMatch(/target is infinite.*symbol "?E"?.*row 1/);
    // E's NaN at bar 1 holds its position (bought at bar 1's open from bar 0's target).
    const held = runTargets(m5, { target: w5(NaN) }, cfg({ limits: { minTradeFraction: 0 } }));
    expect(held.positions![2 * 5 + 4]).toBe(held.positions![1 * 5 + 4]);
    expect(held.positions![1 * 5 + 4]).toBeGreaterThan(0);
  });

  it('sizes a probability of a win with binary Kelly', () => {
    const m = market({ A: flat(4, 100) });
    const run = (p: number, b: number) => runBacktest(m, probabilitySignals(m, new Float64Array(4).fill(p)), cfg({ limits: { minTradeFraction: 0 }, sizing: { kind: 'probability', fraction: 0.5, payoff: b } }));
    // f = 0.5 * (0.6 - 0.4 / 1) = 0.1 -> 10 units; b = 2: 0.5 * (0.6 - 0.2) = 0.2 -> 20 units.
    expect(run(0.6, 1).positions![1]).toBeCloseTo(10, 9);
    expect(run(0.6, 2).positions![1]).toBeCloseTo(20, 9);
    // p = 0.3 (f < 0) is a short, cut to flat in the long-only crypto class (counted).
    const short = run(0.3, 1);
    expect(short.positions![1]).toBe(0);
    expect(short.limits.counts.longOnly).toBeGreaterThan(0);
    expect(() => run(1.2, 1)).toThrow(/probability of a win must be in \[0, 1\]/);
  });
});

describe('stop-loss and take-profit brackets', () => {
  // Entry decided at bar 0, filled at bar 1's open (100).
  const open = [100, 100, 100, 100, 100, 100];
  const run = (bars: { high: number[]; low: number[]; open?: number[]; close?: number[] }, sl: number, tp: number, side = 1, target?: number[]) => {
    const m = market({ A: { open: bars.open ?? open, close: bars.close ?? open, high: bars.high, low: bars.low } });
    const T = m.ts.length;
    const goal = Float64Array.from(target ?? new Array(T).fill(side * 10));
    return runTargets(m, { target: goal, unit: 'units', stopLoss: new Float64Array(T).fill(sl), takeProfit: new Float64Array(T).fill(tp) }, cfg({ defaultClass: 'perp', limits: { minTradeFraction: 0 }, classes: { perp: { feeBps: 0, slippageBps: 0 } } }));
  };

  it('fills a long stop at its level when the range touches it, at the open when the bar gaps through', () => {
    const touch = run({ high: [100, 101, 101, 101, 101, 101], low: [100, 99, 97, 99, 99, 99] }, 98, 110);
    expect(touch.trades[0]).toMatchObject({ exitBar: 2, exitPrice: 98, exitReason: 'stop' });
    const gap = run({ open: [100, 100, 95, 100, 100, 100], high: [100, 101, 96, 101, 101, 101], low: [100, 99, 94, 99, 99, 99] }, 98, 110);
    expect(gap.trades[0]).toMatchObject({ exitBar: 2, exitPrice: 95, exitReason: 'stop' });
  });

  it('fills a take-profit at its level, or at a better open; a bar touching both takes the stop', () => {
    const tp = run({ high: [100, 101, 111, 101, 101, 101], low: [100, 99, 99, 99, 99, 99] }, 98, 110);
    expect(tp.trades[0]).toMatchObject({ exitBar: 2, exitPrice: 110, exitReason: 'takeProfit' });
    expect(tp.trades[0].pnl).toBeCloseTo(100, 9);
    const gapUp = run({ open: [100, 100, 112, 100, 100, 100], high: [100, 101, 113, 101, 101, 101], low: [100, 99, 111, 99, 99, 99] }, 98, 110);
    expect(gapUp.trades[0]).toMatchObject({ exitPrice: 112, exitReason: 'takeProfit' });
    const both = run({ high: [100, 101, 111, 101, 101, 101], low: [100, 99, 97, 99, 99, 99] }, 98, 110);
    expect(both.trades[0]).toMatchObject({ exitPrice: 98, exitReason: 'stop' });
  });

  it('mirrors both for a short', () => {
    const sl = run({ high: [100, 101, 103, 101, 101, 101], low: [100, 99, 99, 99, 99, 99] }, 102, 90, -1);
    expect(sl.trades[0]).toMatchObject({ side: 'short', exitPrice: 102, exitReason: 'stop' });
    const tp = run({ high: [100, 101, 101, 101, 101, 101], low: [100, 99, 89, 99, 99, 99] }, 102, 90, -1);
    expect(tp.trades[0]).toMatchObject({ side: 'short', exitPrice: 90, exitReason: 'takeProfit' });
  });

  it('stays flat after a bracket exit until the target changes', () => {
    const bars = { high: [100, 101, 101, 101, 101, 101], low: [100, 99, 97, 99, 99, 99] };
    const same = run(bars, 98, 110);
    expect(Array.from(same.positions!)).toEqual([0, 10, 0, 0, 0, 0]);
    // The target drops to 5 at bar 3: the position follows it at bar 4's open (the stop at 98 is not touched again).
    const changed = run(bars, 98, 110, 1, [10, 10, 10, 5, 5, 5]);
    expect(Array.from(changed.positions!)).toEqual([0, 10, 0, 0, 5, 5]);
  });
});

describe('targets on the recorded crypto pairs', () => {
  let m: MarketArrays;
  let S: number;
  let T: number;
  beforeAll(() => {
    m = marketFromBars(loadBars(realData('crypto-5m')), { session: '24x7' });
    S = m.symbols.length;
    T = m.ts.length;
  });

  /** mu from the last 12 bars' drift, sigma from their spread, causally (a cheap forecast). */
  const forecast = (): Signals => {
    const sig = constSignals(m, 0, 0.02, 12);
    for (let s = 0; s < S; s++) {
      for (let t = 13; t < T; t++) {
        const a = m.close[(t - 12) * S + s];
        const b = m.close[t * S + s];
        sig.mu[t * S + s] = a > 0 && b > 0 ? b / a - 1 : 0;
      }
    }
    return { ...sig, firstBar: 13 };
  };

  it('gives exactly the forecast path\'s run when the targets are the Kelly fractions it would size', () => {
    const sig = forecast();
    const config: BacktestConfigInput = { defaultClass: 'crypto', sizing: { kind: 'kelly', fraction: 0.5 } };
    const ref = runBacktest(m, sig, config);
    const w = new Float64Array(T * S).fill(NaN);
    for (let i = 13 * S; i < T * S; i++) {
      const sg = Math.max(sig.sigma[i], 0.005);
      // A symbol without a bar gets no decision in either path.
      w[i] = m.close[i] > 0 ? (0.5 * sig.mu[i]) / (sg * sg) : NaN;
    }
    const r = runTargets(m, { target: w, firstBar: 13 }, config);
    expect(ref.trades.length).toBeGreaterThan(100);
    expect(Array.from(r.equity)).toEqual(Array.from(ref.equity));
    expect(r.limits.counts).toEqual(ref.limits.counts);
    expect(r.killEvents).toEqual(ref.killEvents);
    expect(backtestStats(r)).toEqual(backtestStats(ref));
    // Monte Carlo and walk-forward take the targets too.
    expect(monteCarloOfRun(r, { simulations: 50, seed: 3 })).toEqual(monteCarloOfRun(ref, { simulations: 50, seed: 3 }));
    const folds = [{ train: [{ start: 0, end: 2000 }], test: { start: 2000, end: 3500 } },
      { train: [{ start: 1500, end: 3500 }], test: { start: 3500, end: T } }];
    const spec = { market: m, baseConfig: config, folds, objective: (s: { sharpe: number }) => s.sharpe };
    const wfTargets = walkForwardBacktest({ ...spec, signals: targetSignals(m, { target: w, firstBar: 13 }), candidates: [{ label: 'targets' }] });
    const wfForecast = walkForwardBacktest({ ...spec, signals: sig, candidates: [{ label: 'targets' }] });
    expect(Array.from(wfTargets.equity)).toEqual(Array.from(wfForecast.equity));
  });

  it('decides weights from the mark pass\'s sum exactly as the general pass does', () => {
    // Weights of a one-class book sum their capped sizes while the engine marks each bar; with
    // brackets (all NaN: no level is ever in force) the same weights go through the general pass.
    // Weights up to 0.9 bind the per-symbol cap (0.6) and the class's gross cap (1); NaN cells hold,
    // and the recorded bars have gaps (a bar without every symbol takes the general pass in both).
    const w = new Float64Array(T * S);
    for (let i = 0; i < T * S; i++) w[i] = i % 23 === 0 ? NaN : 0.9 * Math.sin(i * 0.37) * Math.cos(i * 0.011);
    const config: BacktestConfigInput = { defaultClass: 'perp', limits: { minTradeFraction: 0.002 } };
    const fast = runTargets(m, { target: w }, config);
    const general = runTargets(m, { target: w, stopLoss: new Float64Array(T * S).fill(NaN) }, config);
    expect(fast.limits.counts.perSymbolCap).toBeGreaterThan(100);
    expect(fast.limits.counts.grossIntraday).toBeGreaterThan(300);
    expect(fast.trades.length).toBeGreaterThan(100);
    expect(fast.fallbacks.missingQuotes.some((n) => n > 0)).toBe(true);
    expect(Array.from(fast.positions!)).toEqual(Array.from(general.positions!));
    expect(Array.from(fast.equity)).toEqual(Array.from(general.equity));
    expect(fast.limits).toEqual(general.limits);
    expect(fast.trades).toEqual(general.trades);
  });

  it('probability sizing gives the run of the binary-Kelly fractions given as targets', () => {
    // A probability of an up move from the last 12 bars' share of up bars, payoff 1.5, a third of Kelly.
    const p = new Float64Array(T * S).fill(0.5);
    const w = new Float64Array(T * S).fill(NaN);
    for (let s = 0; s < S; s++) {
      for (let t = 13; t < T; t++) {
        let up = 0;
        for (let k = t - 11; k <= t; k++) if (m.close[k * S + s] > m.close[(k - 1) * S + s]) up++;
        const i = t * S + s;
        p[i] = (up + 1) / 14;
        if (m.close[i] > 0) w[i] = (p[i] - (1 - p[i]) / 1.5) / 3;
      }
    }
    const config: BacktestConfigInput = { defaultClass: 'crypto', sizing: { kind: 'probability', fraction: 1 / 3, payoff: 1.5 } };
    const a = runBacktest(m, probabilitySignals(m, p, { firstBar: 13 }), config);
    const b = runTargets(m, { target: w, firstBar: 13 }, config);
    expect(a.trades.length).toBeGreaterThan(50);
    expect(Array.from(a.equity)).toEqual(Array.from(b.equity));
    // The trades carry the probability that opened them.
    expect(a.trades.every((t) => t.score > 0 && t.score < 1)).toBe(true);
  });

  it('an SMA crossover rule with a stop gives the run of the same targets computed all at once', () => {
    const sma = (c: Float64Array, n: number): number => {
      let sum = 0;
      for (let i = c.length - n; i < c.length; i++) sum += c[i];
      return sum / n;
    };
    const rule = ruleSignals(m, (view) => {
      const target = new Float64Array(S);
      const stopLoss = new Float64Array(S);
      for (let s = 0; s < S; s++) {
        const c = view.series('close', s);
        const fast = sma(c, 12);
        const slow = sma(c, 48);
        target[s] = fast === fast && slow === slow ? (fast > slow ? 0.12 : 0) : NaN;
        stopLoss[s] = c[c.length - 1] * 0.99;
      }
      return { target, stopLoss };
    }, { warmupBars: 48 });
    // The same crossover from whole arrays (prefix sums), bar by bar.
    const target = new Float64Array(T * S).fill(NaN);
    const stopLoss = new Float64Array(T * S).fill(NaN);
    for (let s = 0; s < S; s++) {
      const c = Float64Array.from({ length: T }, (_, t) => m.close[t * S + s]);
      for (let t = 48; t < T; t++) {
        const f = sma(c.subarray(0, t + 1), 12);
        const sl = sma(c.subarray(0, t + 1), 48);
        target[t * S + s] = f === f && sl === sl ? (f > sl ? 0.12 : 0) : NaN;
        stopLoss[t * S + s] = c[t] * 0.99;
      }
    }
    expect(Array.from(rule.target!)).toEqual(Array.from(target));
    const config = { defaultClass: 'crypto' };
    const a = runBacktest(m, rule, config);
    const b = runTargets(m, { target, stopLoss, firstBar: 48 }, config);
    expect(Array.from(a.equity)).toEqual(Array.from(b.equity));
    const stops = a.trades.filter((t) => t.exitReason === 'stop');
    expect(stops.length).toBeGreaterThan(5);
    // Each stop exit is the first bar since the entry whose low touched the level in force (the last
    // level given before that bar; a bar without a quote gives none).
    const levelAt = (s: number, j: number): number => {
      let k = j - 1;
      while (Number.isNaN(stopLoss[k * S + s])) k--;
      return stopLoss[k * S + s];
    };
    for (const t of stops) {
      const s = m.symbols.indexOf(t.symbol);
      expect(m.low[t.exitBar * S + s]).toBeLessThanOrEqual(levelAt(s, t.exitBar));
      for (let j = t.entryBar; j < t.exitBar; j++) if (m.low[j * S + s] > 0) expect(m.low[j * S + s]).toBeGreaterThan(levelAt(s, j));
    }
  });
});

describe('several timeframes on one clock', () => {
  let m: MarketArrays;
  beforeAll(() => {
    m = marketFromBars(loadBars(realData('crypto-5m')), { session: '24x7' });
  });

  it('shows a coarser bar only after its close, with the OHLC of the data layer\'s resampling', () => {
    const S = m.symbols.length;
    const seen: Array<{ t: number; n30: number; last30: number; n4h: number; last4h: number }> = [];
    ruleSignals(m, (view, t) => {
      const h30 = view.timeframe('30m');
      const h4 = view.timeframe('4h');
      seen.push({ t, n30: h30.count, last30: h30.count ? h30.times()[h30.count - 1] : NaN, n4h: h4.count, last4h: h4.count ? h4.times()[h4.count - 1] : NaN });
      return new Float64Array(S).fill(NaN);
    });
    for (const v of seen) {
      const closeOfBar = m.ts[v.t] + MIN5;
      // The last visible coarse bar has ended by this bar's close ...
      if (v.n30 > 0) expect(v.last30 + 30 * 60_000).toBeLessThanOrEqual(closeOfBar);
      if (v.n4h > 0) expect(v.last4h + 4 * 3_600_000).toBeLessThanOrEqual(closeOfBar);
      // ... and the one after it has not (it is still forming, or has not started).
      const next30 = (Number.isNaN(v.last30) ? Math.floor(m.ts[0] / 1_800_000) * 1_800_000 : v.last30 + 1_800_000) + 1_800_000;
      expect(next30).toBeGreaterThan(closeOfBar);
    }
    // The 4h bar that opens at 00:00 is seen first at the decision of the 03:55 bar, not before.
    const first4h = seen.find((v) => v.n4h > 0)!;
    expect(new Date(m.ts[first4h.t] + MIN5).getUTCMinutes()).toBe(0);
    // Its prices are the data layer's 4h resampling of the same bars.
    const view = { count: 0 };
    const eth = m.symbols.indexOf('ETH_BTC');
    const ref = resample(loadBars(realData('crypto-5m', 'ETH_BTC-5m.feather')), '4h').bars;
    const refClose = ref.getColumn('close').toArray() as number[];
    const refTs = (ref.getColumn('ts').toArray() as Array<number | Date>).map(Number);
    ruleSignals(m, (v, t) => {
      if (t === m.ts.length - 1) {
        const h4 = v.timeframe('4h');
        view.count = h4.count;
        const times = Array.from(h4.times());
        const closes = Array.from(h4.series('close', eth));
        const k = refTs.indexOf(times[10]);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(closes.slice(10, 20)).toEqual(refClose.slice(k, k + 10));
      }
      return new Float64Array(S).fill(NaN);
    });
    expect(view.count).toBeGreaterThan(20);
  });

  it('rejects a timeframe that is not a multiple of the bars', () => {
    expect(() => ruleSignals(sliceMarket(m, { start: 0, end: 100 }), (v) => (v.timeframe('7m'), [0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/multiple of the bar spacing/);
  });
});
