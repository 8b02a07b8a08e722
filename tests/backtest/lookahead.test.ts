import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/engine';
import { runStrategy, type Strategy } from '../../src/backtest/strategy';
import { ruleSignals, type RuleFn } from '../../src/backtest/targets';
import { Rng } from '../../src/core/random';
import { cfg, market } from './fixtures';

/** A random walk of n bars for `symbols`, with a few missing bars. */
function randomMarket(seed: number, n: number, symbols: string[]) {
  const rng = new Rng(seed);
  const bars: Record<string, { open: number[]; close: number[]; high: number[]; low: number[] }> = {};
  for (const sym of symbols) {
    const b = { open: [] as number[], close: [] as number[], high: [] as number[], low: [] as number[] };
    let p = 100;
    for (let t = 0; t < n; t++) {
      const o = p;
      p *= Math.exp(0.01 * rng.normal());
      const gap = t > 0 && rng.uniform() < 0.01;
      b.open.push(gap ? NaN : o);
      b.close.push(gap ? NaN : p);
      b.high.push(gap ? NaN : Math.max(o, p) * 1.002);
      b.low.push(gap ? NaN : Math.min(o, p) * 0.998);
    }
    bars[sym] = b;
  }
  return market(bars, { sessionEnd: Array.from({ length: n / 24 }, (_, d) => d * 24 + 23) });
}

/** Momentum: mu = mean of the last 20 returns, sigma = their std; enters on a 3-bar rise. */
const momentum: Strategy = {
  horizonBars: 1,
  warmupBars: 21,
  onBar(view, row) {
    for (let s = 0; s < view.symbols.length; s++) {
      const c = view.series('close', s);
      let sum = 0;
      let sumSq = 0;
      let k = 0;
      for (let i = c.length - 20; i < c.length; i++) {
        const r = c[i] / c[i - 1] - 1;
        if (Number.isNaN(r)) continue;
        sum += r;
        sumSq += r * r;
        k++;
      }
      row.mu[s] = sum / k;
      row.sigma[s] = Math.sqrt(sumSq / k - (sum / k) ** 2);
      row.entry[s] = view.at('close', s) > view.at('close', s, 3) ? 1 : 0;
      row.score[s] = view.at('close', s) / view.at('close', s, 1);
    }
  },
};

describe('the strategy sees data up to bar t only', () => {
  const S = ['A', 'B', 'C'];
  const n = 240;
  for (const rule of [{ kind: 'rebalance' }, { kind: 'entryExit', horizonBars: 5, stopLoss: 0.02 }]) {
    it(`changing any bar after t leaves every decision at or before t unchanged (${rule.kind})`, () => {
      const config = cfg({ rule, killSwitches: {}, sizing: { kind: 'kelly', fraction: 0.5 } });
      const base = randomMarket(7, n, S);
      const ref = runBacktest(base, runStrategy(base, momentum), config, { recordDecisions: true });
      expect(ref.trades.length).toBeGreaterThan(5);
      const rng = new Rng(99);
      let changedFuture = 0;
      for (const t of [25, 60, 119, 200, n - 2]) {
        // Scramble every price after bar t (and drop some bars).
        const m = { ...base, open: base.open.slice(), high: base.high.slice(), low: base.low.slice(), close: base.close.slice() };
        for (let i = (t + 1) * S.length; i < m.close.length; i++) {
          const k = rng.uniform() < 0.05 ? NaN : Math.exp(0.2 * rng.normal());
          m.open[i] *= k;
          m.high[i] *= k * 1.05;
          m.low[i] *= k * 0.95;
          m.close[i] *= k;
        }
        const r = runBacktest(m, runStrategy(m, momentum), config, { recordDecisions: true });
        const upto = (t + 1) * S.length;
        expect(Array.from(r.decisions!.subarray(0, upto))).toEqual(Array.from(ref.decisions!.subarray(0, upto)));
        expect(Array.from(r.positions!.subarray(0, upto))).toEqual(Array.from(ref.positions!.subarray(0, upto)));
        expect(Array.from(r.equity.subarray(0, t + 1))).toEqual(Array.from(ref.equity.subarray(0, t + 1)));
        expect(r.killEvents.filter((e) => e.bar <= t)).toEqual(ref.killEvents.filter((e) => e.bar <= t));
        if (Array.from(r.equity.subarray(t + 1)).join() !== Array.from(ref.equity.subarray(t + 1)).join()) changedFuture++;
      }
      // The scrambled future did change results, so the comparisons above can fail.
      expect(changedFuture).toBeGreaterThanOrEqual(3);
    });
  }

  it('a rule callback with stops and a 4-hour timeframe: changing any bar after t leaves every decision at or before t unchanged', () => {
    // Regime on closed 4h bars (above their 3-bar mean), entry when the hourly close is above the last closed 4h close; 2% stop.
    const rule: RuleFn = (view) => {
      const n = view.symbols.length;
      const target = new Float64Array(n);
      const stopLoss = new Float64Array(n).fill(NaN);
      const h4 = view.timeframe('4h');
      for (let s = 0; s < n; s++) {
        if (h4.count < 3) continue;
        const up = h4.at('close', s) > (h4.at('close', s) + h4.at('close', s, 1) + h4.at('close', s, 2)) / 3;
        const c = view.at('close', s);
        target[s] = up && c > h4.at('close', s) ? 0.3 : 0;
        stopLoss[s] = c * 0.98;
      }
      return { target, stopLoss };
    };
    const config = cfg({ killSwitches: {} });
    const base = randomMarket(11, n, S);
    const ref = runBacktest(base, ruleSignals(base, rule), config, { recordDecisions: true });
    expect(ref.trades.length).toBeGreaterThan(5);
    expect(ref.trades.some((t) => t.exitReason === 'stop')).toBe(true);
    const rng = new Rng(5);
    let changedFuture = 0;
    for (const t of [30, 61, 119, 200, n - 2]) {
      const m = { ...base, open: base.open.slice(), high: base.high.slice(), low: base.low.slice(), close: base.close.slice() };
      for (let i = (t + 1) * S.length; i < m.close.length; i++) {
        const k = rng.uniform() < 0.05 ? NaN : Math.exp(0.2 * rng.normal());
        m.open[i] *= k;
        m.high[i] *= k * 1.05;
        m.low[i] *= k * 0.95;
        m.close[i] *= k;
      }
      const r = runBacktest(m, ruleSignals(m, rule), config, { recordDecisions: true });
      const upto = (t + 1) * S.length;
      expect(Array.from(r.decisions!.subarray(0, upto))).toEqual(Array.from(ref.decisions!.subarray(0, upto)));
      expect(Array.from(r.positions!.subarray(0, upto))).toEqual(Array.from(ref.positions!.subarray(0, upto)));
      expect(Array.from(r.equity.subarray(0, t + 1))).toEqual(Array.from(ref.equity.subarray(0, t + 1)));
      if (Array.from(r.equity.subarray(t + 1)).join() !== Array.from(ref.equity.subarray(t + 1)).join()) changedFuture++;
    }
    expect(changedFuture).toBeGreaterThanOrEqual(3);
  });

  it('refuses to read past the current bar', () => {
    const m = randomMarket(1, 48, ['A']);
    const peek: Strategy = {
      horizonBars: 1,
      onBar(view, row) {
        row.sigma[0] = 0.01;
        row.mu[0] = view.at('close', 0, -1);
      },
    };
    expect(() => runStrategy(m, peek)).toThrow(/can read lags 0\.\.0, not -1/);
    const lengths: number[] = [];
    runStrategy(m, {
      horizonBars: 1,
      onBar(view, row) {
        lengths.push(view.series('close', 0).length, view.times().length);
        row.sigma[0] = 0.01;
        expect(view.series('close', 0)[view.t + 1]).toBeUndefined();
      },
    });
    expect(lengths.slice(0, 4)).toEqual([1, 1, 2, 2]);
  });
});
