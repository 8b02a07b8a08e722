/**
 * backtesting.py's published SmaCross statistics, reproduced with `conventions: 'backtesting.py'`.
 *
 * Data: tests/backtest/fixtures/GOOG.csv, backtesting.py's `backtesting/test/GOOG.csv`
 * (kernc/backtesting.py, blob at commit d22d625aac2eb4c23c7cae5629b67d6617e378a9; see
 * tests/backtest/fixtures/README.md). Strategy: `SmaCross` of `backtesting/test/_test.py`
 * (fast 10, slow 30; on a crossover close the position and go all in the other way), run by
 * `Backtest(GOOG, SmaCross, finalize_trades=True).run()` with the defaults: cash 10,000, no
 * commission, market orders at the next open, whole shares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtestingPyStats } from '../../src/backtest/conventions';
import { runBacktest } from '../../src/backtest/engine';
import { alignSeries } from '../../src/backtest/market';
import { backtestStats } from '../../src/backtest/stats';
import { ruleSignals } from '../../src/backtest/targets';

function goog() {
  const rows = readFileSync(join(__dirname, 'fixtures', 'GOOG.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const col = (k: number) => rows.map((r) => Number(r[k]));
  return alignSeries([{ symbol: 'GOOG', ts: rows.map((r) => Date.parse(`${r[0]}T00:00:00Z`)), open: col(1), high: col(2), low: col(3), close: col(4) }], '24x7');
}

const sma = (c: Float64Array, n: number, lag: number): number => {
  let s = 0;
  for (let i = c.length - n - lag; i < c.length - lag; i++) s += c[i];
  return s / n;
};

/**
 * backtesting.py's `test_compute_stats` expected values for `Backtest(GOOG, SmaCross,
 * finalize_trades=True).run()` (backtesting/test/_test.py, the version with '# Long Trades',
 * 'Kelly Criterion' and 'Alpha [%]'; "These values are also used on the website"). The search
 * index's copy of that file did not name its commit; kernc/backtesting.py at commit
 * 23761697fec258040b3df2066a98c2b5c1379ec8 has the same trade count, exposure, peak, drawdown,
 * best and worst trade, with an equity final of 51,422.99 from an older engine.
 */
const EXPECTED = {
  'Exposure Time [%]': 96.74115456238361,
  'Equity Final [$]': 51959.94999999997,
  'Equity Peak [$]': 75787.44,
  'Return [%]': 419.59949999999964,
  'Return (Ann.) [%]': 21.338952529139753,
  'Volatility (Ann.) [%]': 36.541528967898145,
  'Sharpe Ratio': 0.5839644134181166,
  'Sortino Ratio': 1.0929459039159732,
  'Calmar Ratio': 0.4447456445221315,
  'Max. Drawdown [%]': -47.98012705007589,
  '# Trades': 66,
  'Win Rate [%]': 46.96969696969697,
  'Best Trade [%]': 53.59595229490424,
  'Worst Trade [%]': -18.39887353835481,
  'Avg. Trade [%]': 2.5479693282886906,
  'Profit Factor': 2.174469316409448,
  'Expectancy [%]': 3.2930986285628268,
  SQN: 1.0880865497975716,
} as const;

/** SmaCross as a rule: after an upward crossing of SMA(10) over SMA(30) go all in long, after a downward one all in short. */
function smaCross(m: ReturnType<typeof goog>, size = 1 - Number.EPSILON) {
  return ruleSignals(m, (view) => {
    const c = view.series('close', 0);
    const f0 = sma(c, 10, 1);
    const s0 = sma(c, 30, 1);
    const f1 = sma(c, 10, 0);
    const s1 = sma(c, 30, 0);
    return [f0 < s0 && f1 > s1 ? size : s0 < f0 && s1 > f1 ? -size : NaN];
  }, { warmupBars: 30 });
}

const NO_KILL = { maxDrawdown: null, dailyLoss: null, consecutiveLosses: null, fundingSpike: null };
const FREE = { stock: { feeBps: 0, slippageBps: 0 } };

describe('backtesting.py conventions', () => {
  const m = goog();

  it('reproduces backtesting.py\'s published SmaCross statistics on GOOG within 0.5% (trade count exact)', () => {
    expect(m.ts.length).toBe(2148);
    const r = runBacktest(m, smaCross(m), { conventions: 'backtesting.py', capital: 10_000, defaultClass: 'stock', classes: FREE, killSwitches: NO_KILL });
    expect(r.periodsPerYear).toBe(252);
    const got = backtestingPyStats(r);
    expect(got['# Trades']).toBe(EXPECTED['# Trades']);
    for (const [k, v] of Object.entries(EXPECTED)) expect({ k, rel: Math.abs(got[k as keyof typeof got] / v - 1) < 0.005 }).toEqual({ k, rel: true });
    // Every trade but the last was closed by the next crossing; the last at the last close.
    expect(r.trades.map((t) => t.exitReason).filter((x) => x !== 'signal')).toEqual(['finalClose']);
    expect(new Set(r.trades.map((t) => t.side))).toEqual(new Set(['long', 'short']));
  });

  it('changes sizing, fills and statistics together: the default conventions read the same run differently', () => {
    const preset = runBacktest(m, smaCross(m), { conventions: 'backtesting.py', capital: 10_000, defaultClass: 'stock', classes: FREE, killSwitches: NO_KILL });
    // Default: targets sized at the decision's close, stock leverage x1 per weight, limits apply (60% cap).
    const dflt = runBacktest(m, smaCross(m), { capital: 10_000, defaultClass: 'stock', classes: FREE, killSwitches: NO_KILL });
    expect(dflt.limits.counts.perSymbolCap).toBeGreaterThan(0);
    expect(Math.max(...dflt.trades.map((t) => t.maxQuantity * t.entryPrice))).toBeLessThan(0.61 * Math.max(...dflt.equity));
    // backtestStats follows the preset; the same curve under the default definitions (arithmetic Sharpe
    // over bars, exposure over bars with a position at the close) reads differently.
    const s = backtestStats(preset);
    expect(s.sharpe).toBeCloseTo(EXPECTED['Sharpe Ratio'], 6);
    expect(s.cagrPct).toBeCloseTo(EXPECTED['Return (Ann.) [%]'], 6);
    const plain = backtestStats({ ...preset, config: { ...preset.config, conventions: 'default' } });
    expect(Math.abs(plain.sharpe - s.sharpe)).toBeGreaterThan(0.05);
    expect(plain.exposureTimePct).toBeLessThan(s.exposureTimePct);
    expect(() => runBacktest(m, { mu: new Float64Array(m.ts.length), sigma: new Float64Array(m.ts.length).fill(0.1), horizonBars: 1 }, { conventions: 'backtesting.py', defaultClass: 'stock' })).toThrow(/backtesting.py conventions take targets/);
  });
});
