/**
 * The statistics tables and records notebooks 03 and 07 show and record, from one label table.
 */
import { describe, expect, it } from 'vitest';
import { STAT_LABELS, statsRecord, statsRows, statsTable } from '../../src/backtest/report';
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
