/**
 * The statistics tables and records notebooks 03 and 07 show and record, from one label table; the
 * kill-event, exit-reason, exposure and funding summaries notebooks 06, 07 and 09 show.
 */
import { describe, expect, it } from 'vitest';
import { fundingAtTimes } from '../../src/backtest/funding';
import { STAT_LABELS, exitReasonCounts, killEventCounts, killEventRows, meanGrossByLabel, statsRecord, statsRows, statsTable } from '../../src/backtest/report';
import type { BacktestResult, KillEvent } from '../../src/backtest/result';
import { computeStats, type Stats } from '../../src/backtest/stats';

const DAY = 86_400_000;
// Equity 100 -> 110 -> 99 -> 108.9 (returns +10%, -10%, +10%), no trades: profit factor and expectancy are NaN.
const curve = {
  ts: Float64Array.of(0, DAY, 2 * DAY, 3 * DAY),
  equity: Float64Array.of(100, 110, 99, 108.9),
  grossExposure: Float64Array.of(0, 55, 99, 0),
  costs: { fees: 1.23456, slippage: 0.5, interest: 0.25, funding: -0.1, tradedNotional: 412.95 },
};
const a: Stats = computeStats(curve, [], { periodsPerYear: 365 });
const b: Stats = { ...a, totalReturnPct: -3.14159, sharpe: Infinity, trades: 7 };

describe('statsRows and statsRecord', () => {
  it('one row per statistic, a column per run, rounded to the statistic\'s decimals', () => {
    const rows = statsRows([{ label: 'model', stats: a }, { label: 'oracle', stats: b }]);
    expect(rows.map((r) => r.statistic)).toEqual(STAT_LABELS.map(([, label]) => label));
    expect(rows[0]).toEqual({ statistic: 'total return %', model: 8.9, oracle: -3.14 });
    const at = (label: string) => rows.find((r) => r.statistic === label)!;
    expect(at('Sharpe')).toEqual({ statistic: 'Sharpe', model: Number(a.sharpe.toFixed(2)), oracle: null });
    expect(at('fees')).toEqual({ statistic: 'fees', model: 1.23, oracle: 1.23 });
    expect(at('trades')).toEqual({ statistic: 'trades', model: 0, oracle: 7 });
    expect(at('profit factor (trades)').model).toBeNull(); // NaN without trades
    // The text table reads the same labels and decimals.
    expect(statsTable([{ label: 'model', stats: a }]).split('\n')[1]).toMatch(/^total return % +8\.90$/);
  });

  it('records every statistic per run with 6 decimals (or the digits asked for)', () => {
    const rec = statsRecord([{ label: 'model', stats: a }, { label: 'oracle', stats: b }]);
    expect(Object.keys(rec)).toEqual(['model', 'oracle']);
    expect(Object.keys(rec.model)).toEqual(STAT_LABELS.map(([key]) => key));
    expect(rec.model.totalReturnPct).toBe(8.9);
    expect(rec.oracle.totalReturnPct).toBe(-3.14159);
    expect(rec.oracle.sharpe).toBeNull();
    expect(rec.model.sharpe).toBe(Number(a.sharpe.toFixed(6)));
    expect(statsRecord([{ label: 'oracle', stats: b }], 1).oracle.totalReturnPct).toBe(-3.1);
  });
});

describe('kill-event, exit-reason and exposure summaries', () => {
  const HOUR = 3_600_000;
  const ev = (sw: KillEvent['switch'], time: number, resume: number | null): KillEvent => ({
    switch: sw, bar: time / HOUR, time, value: 0.123456, threshold: 0.1, action: { kind: 'pauseRestOfDay' }, resumeTime: resume,
  });
  const run = { killEvents: [ev('dailyLoss', 2 * HOUR, 24 * HOUR), ev('maxDrawdown', 5 * HOUR, null), ev('dailyLoss', 30 * HOUR, 48 * HOUR)] };

  it('counts kill events per switch: first-fired order, or the names asked for with zeros', () => {
    expect(Object.entries(killEventCounts(run))).toEqual([['dailyLoss', 2], ['maxDrawdown', 1]]);
    expect(killEventCounts(run, ['maxDrawdown', 'fundingSpike', 'dailyLoss'])).toEqual({ maxDrawdown: 1, fundingSpike: 0, dailyLoss: 2 });
    expect(killEventCounts(run, ['ruin'])).toEqual({ ruin: 0 });
    expect(killEventCounts({ killEvents: [] })).toEqual({});
  });

  it('lists kill events as rows with minute times, 4 significant digits and open-ended pauses named', () => {
    const rows = killEventRows(run);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ switch: 'dailyLoss', time: '1970-01-01T02:00', value: 0.1235, threshold: 0.1, action: 'pauseRestOfDay', resumes: '1970-01-02T00:00' });
    expect(rows[1].resumes).toBe('not within the data');
  });

  it('counts round trips per exit reason in first-seen order', () => {
    const trades = ['takeProfit', 'signal', 'takeProfit', 'stopLoss', 'end'].map((exitReason) => ({ exitReason })) as unknown as BacktestResult['trades'];
    expect(Object.entries(exitReasonCounts({ trades }))).toEqual([['takeProfit', 2], ['signal', 1], ['stopLoss', 1], ['end', 1]]);
  });

  it('averages gross leverage over the bars of each label, NaN for a label with no bar', () => {
    const labels = Uint8Array.of(0, 1, 1, 0);
    const g = meanGrossByLabel(curve, labels, 3);
    expect(g[0]).toBeCloseTo((0 / 100 + 0 / 108.9) / 2, 15);
    expect(g[1]).toBeCloseTo((55 / 110 + 99 / 99) / 2, 15);
    expect(g[2]).toBeNaN();
    expect(() => meanGrossByLabel(curve, Uint8Array.of(0, 1), 2)).toThrow(/labels has 2 entries for 4 bars/);
  });
});

describe('fundingAtTimes', () => {
  it('takes the last rate published at or before each time, NaN before the first', () => {
    const rates = { ts: Float64Array.of(10, 20, 30), rate: Float64Array.of(1e-4, -2e-4, 3e-4) };
    expect(Array.from(fundingAtTimes(rates, [5, 10, 19, 20, 29, 31, 99]))).toEqual([NaN, 1e-4, 1e-4, -2e-4, -2e-4, 3e-4, 3e-4]);
    expect(Array.from(fundingAtTimes({ ts: new Float64Array(0), rate: new Float64Array(0) }, [1, 2]))).toEqual([NaN, NaN]);
  });
});
