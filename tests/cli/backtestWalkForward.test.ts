/**
 * `quantbook backtest --walk-forward`: the walk-forward optimisation of src/backtest/walkforward.ts
 * from the command line, on a recorded crypto pair.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatWalkForward, runBacktestCli } from '../../src/cli/backtest';
import { ConfigError } from '../../src/core/errors';
import { realData } from '../support/paths';

const ETH = realData('crypto-5m', 'ETH_BTC-5m.feather');
const tmp = () => mkdtempSync(join(tmpdir(), 'qb-wf-'));

describe('quantbook backtest --walk-forward', () => {
  it('chooses on each training window, trades the next block, and stitches the blocks', async () => {
    const out = tmp();
    const notes: string[] = [];
    const { walkForward: wf, runs } = await runBacktestCli({ data: ETH, class: 'crypto', compare: 'historical,trend,oracle', walkForward: true, folds: '3', trainBars: '1000', fractions: '0.5,1', out }, (l) => notes.push(l));
    expect(runs).toEqual([]);
    const r = wf!.result;
    // The oracle sees the future: named, not a candidate.
    expect(notes.join('\n')).toMatch(/oracle sees the future: left out/);
    expect(wf!.candidates).toEqual(['historical x 0.5 Kelly', 'historical x 1 Kelly', 'trend x 0.5 Kelly', 'trend x 1 Kelly']);
    // 5,760 bars: training 1000, then 3 test blocks of (5760 - 1000) / 3 = 1586 bars, back to back.
    expect(r.folds).toHaveLength(3);
    r.folds.forEach((f, i) => {
      expect(f.test).toEqual({ start: 1000 + i * 1586, end: 1000 + (i + 1) * 1586 });
      // Rolling window of 1000 bars before the test, its last 30 (the horizon) purged.
      expect(f.train).toEqual([{ start: f.test.start - 1000, end: f.test.start - 30 }]);
      // The chosen candidate is the best on the training window.
      expect(f.chosen).toBe(wf!.candidates[f.trainScores.indexOf(Math.max(...f.trainScores))]);
    });
    // Each block starts with the equity the previous one ended with: the stitched return is their product.
    const chained = r.folds.reduce((acc, f) => acc * (1 + f.testStats.totalReturnPct / 100), 1);
    expect(r.stats.totalReturnPct).toBeCloseTo((chained - 1) * 100, 8);
    expect(r.stats.trades).toBe(r.folds.reduce((n, f) => n + f.testStats.trades, 0));
    expect(r.ts.length).toBe(3 * 1586);
    // The file holds the same, with times.
    const file = JSON.parse(readFileSync(join(out, 'walkforward.json'), 'utf8'));
    expect(file.folds.map((f: { chosen: string }) => f.chosen)).toEqual(r.folds.map((f) => f.chosen));
    expect(file.folds[0].test).toEqual({ from: '2018-01-13T16:15:00.000Z', to: '2018-01-19T04:20:00.000Z', bars: 1586 });
    expect(file.stats.totalReturnPct).toBeCloseTo(r.stats.totalReturnPct, 10);
    const text = formatWalkForward(wf!);
    expect(text.split('\n')[0]).toMatch(/^walk-forward: 3 folds, rolling training window of 1000 bars \(last 30 purged\), test blocks of 1586 bars, chosen by sharpe among 4 candidates/);
    expect(text).toMatch(/out of sample, stitched/);
  }, 60_000);

  it('takes test blocks by size, an expanding window and another objective', async () => {
    const { walkForward: wf } = await runBacktestCli({ data: ETH, class: 'crypto', forecaster: 'historical', walkForward: true, trainBars: '2000', testBars: '1000', window: 'expanding', objective: 'totalReturnPct', mc: '0', out: tmp() });
    const folds = wf!.result.folds;
    expect(folds).toHaveLength(3); // (5760 - 2000) / 1000
    expect(folds.map((f) => f.train[0].start)).toEqual([0, 0, 0]);
    expect(folds[2].train[0].end).toBe(4000 - 30);
    expect(wf!.record.walkForward).toMatchObject({ objective: 'totalReturnPct', window: 'expanding' });
  }, 60_000);

  it('says what it cannot do', async () => {
    const base = { data: ETH, class: 'crypto', walkForward: true, out: tmp() };
    await expect(runBacktestCli({ ...base, strategy: 'outlook' })).rejects.toThrow(/--walk-forward runs --strategy rebalance/);
    await expect(runBacktestCli({ ...base, forecaster: 'oracle' })).rejects.toThrow(/not only the oracle/);
    await expect(runBacktestCli({ ...base, folds: '9', trainBars: '2000', testBars: '1000' })).rejects.toThrow(ConfigError);
    await expect(runBacktestCli({ ...base, fractions: '0.5,-1' })).rejects.toThrow(/--fractions/);
  }, 60_000);
});
