/**
 * Plain-JSON records and text tables of backtest results, for the CLI, notebooks
 * and reports. Statistics keep their typed names; labels live only here.
 */
import { roundTo } from '../core/format';
import type { Trade } from './ledger';
import type { MonteCarloResult } from './montecarlo';
import type { BacktestResult, KillSwitchName } from './result';
import type { Stats } from './stats';

/** Display label, unit note and decimals of each statistic in tables. */
export const STAT_LABELS: ReadonlyArray<[keyof Stats, string, number]> = [
  ['totalReturnPct', 'total return %', 2],
  ['cagrPct', 'CAGR %', 2],
  ['annualVolPct', 'annual vol %', 2],
  ['sharpe', 'Sharpe', 2],
  ['sortino', 'Sortino', 2],
  ['maxDrawdownPct', 'max drawdown %', 2],
  ['maxDrawdownDurationDays', 'longest drawdown (days)', 2],
  ['calmar', 'Calmar', 2],
  ['profitFactor', 'profit factor (trades)', 2],
  ['profitFactorPerPeriod', 'profit factor (bars)', 2],
  ['winRatePct', 'win rate %', 1],
  ['expectancy', 'expectancy / trade', 4],
  ['expectancyPct', 'expectancy % / trade', 3],
  ['trades', 'trades', 0],
  ['exposureTimePct', 'time in market %', 1],
  ['avgGrossLeverage', 'avg gross leverage', 3],
  ['turnoverAnnual', 'turnover / year (x equity)', 1],
  ['feesPaid', 'fees', 2],
  ['slippagePaid', 'slippage', 2],
  ['interestPaid', 'interest', 2],
  ['fundingPaid', 'funding', 4],
];

/**
 * Formats a number for a table: fixed decimals with thousands separators, `-` for NaN, `inf` for infinities.
 * @example formatNumber(12345.678, 2); // '12,345.68'
 */
export function formatNumber(v: number, decimals: number): string {
  if (Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * A side-by-side text table: one row per statistic, one column per run.
 * @example console.log(statsTable([{ label: 'historical', stats }, { label: 'oracle', stats: s2 }]));
 */
export function statsTable(columns: ReadonlyArray<{ label: string; stats: Stats; extra?: Record<string, string> }>): string {
  const extraKeys = [...new Set(columns.flatMap((c) => Object.keys(c.extra ?? {})))];
  const rows: string[][] = [['', ...columns.map((c) => c.label)]];
  for (const [key, label, d] of STAT_LABELS) rows.push([label, ...columns.map((c) => formatNumber(c.stats[key], d))]);
  for (const k of extraKeys) rows.push([k, ...columns.map((c) => c.extra?.[k] ?? '')]);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  ')).join('\n');
}

/**
 * The statistics side by side as table rows (e.g. for a notebook's `pl.DataFrame`): one row per
 * statistic of {@link STAT_LABELS}, `{ statistic: label, [run label]: value }`, each value rounded
 * to the statistic's decimals (`roundTo`; null for NaN and infinities).
 * @example statsRows([{ label: 'historical', stats }])[0] // { statistic: 'total return %', historical: 1.23 }
 */
export function statsRows(columns: ReadonlyArray<{ label: string; stats: Stats }>): Array<Record<string, string | number | null>> {
  return STAT_LABELS.map(([key, label, d]) => ({ statistic: label, ...Object.fromEntries(columns.map((c) => [c.label, roundTo(c.stats[key], d)])) }));
}

/**
 * The statistics of {@link STAT_LABELS} per run for `record(...)`: `{ [run label]: { [key]: value } }`,
 * rounded to `digits` decimals (default 6; null for NaN and infinities).
 * @example statsRecord([{ label: 'historical', stats }]).historical.sharpe // e.g. 0.412345
 */
export function statsRecord(columns: ReadonlyArray<{ label: string; stats: Stats }>, digits = 6): Record<string, Record<string, number | null>> {
  return Object.fromEntries(columns.map((c) => [c.label, Object.fromEntries(STAT_LABELS.map(([key]) => [key, roundTo(c.stats[key], digits)]))]));
}

/**
 * How often each kill switch fired in a run: `{ [switch]: count }` over `names` (default: every
 * switch that fired, in the order of their first event), zeros included for the names asked for.
 * @example killEventCounts(result, ['maxDrawdown', 'dailyLoss']) // { maxDrawdown: 1, dailyLoss: 0 }
 */
export function killEventCounts(result: Pick<BacktestResult, 'killEvents'>, names?: readonly KillSwitchName[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names ?? []) counts[n] = 0;
  for (const e of result.killEvents) if (!names || names.includes(e.switch)) counts[e.switch] = (counts[e.switch] ?? 0) + 1;
  return counts;
}

/**
 * The kill events of a run as table rows: switch, time (UTC, minutes), measured value (4
 * significant digits), threshold, action and when trading resumed (`'not within the data'` when
 * it never did).
 * @example pl.DataFrame(killEventRows(result))
 */
export function killEventRows(result: Pick<BacktestResult, 'killEvents'>): Array<Record<string, string | number>> {
  const minute = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
  return result.killEvents.map((e) => ({
    switch: e.switch,
    time: minute(e.time),
    value: Number(e.value.toPrecision(4)),
    threshold: e.threshold,
    action: e.action.kind,
    resumes: e.resumeTime === null ? 'not within the data' : minute(e.resumeTime),
  }));
}

/**
 * Round trips per exit reason (`signal`, `stopLoss`, `takeProfit`, `end`, ...), in the order each
 * reason first occurs.
 * @example exitReasonCounts(result) // { takeProfit: 12, stopLoss: 9, signal: 30 }
 */
export function exitReasonCounts(result: Pick<BacktestResult, 'trades'>): Record<string, number> {
  const n: Record<string, number> = {};
  for (const t of result.trades) n[t.exitReason] = (n[t.exitReason] ?? 0) + 1;
  return n;
}

/**
 * Mean gross leverage (gross exposure / equity) over the bars of each label: `labels[t]` is bar t's
 * label index in `0..count-1` (e.g. the regime classifier's labels); NaN for a label no bar has.
 * @throws RangeError when `labels` is shorter than the run.
 * @example meanGrossByLabel(result, regimes.labels, 4) // [0.08, 0.12, 0.05, 0.16]
 */
export function meanGrossByLabel(result: Pick<BacktestResult, 'ts' | 'grossExposure' | 'equity'>, labels: ArrayLike<number>, count: number): number[] {
  if (labels.length < result.ts.length) throw new RangeError(`labels has ${labels.length} entries for ${result.ts.length} bars`);
  const sum = new Float64Array(count);
  const n = new Float64Array(count);
  for (let t = 0; t < result.ts.length; t++) {
    const k = labels[t];
    if (k >= 0 && k < count) {
      sum[k] += result.grossExposure[t] / result.equity[t];
      n[k]++;
    }
  }
  return Array.from(sum, (x, k) => (n[k] ? x / n[k] : Number.NaN));
}

/**
 * A Monte Carlo result without its per-path samples (for JSON).
 * @example JSON.stringify(monteCarloSummary(bootstrapTrades(returns)));
 */
export function monteCarloSummary(mc: MonteCarloResult | null): Omit<MonteCarloResult, 'samples'> | null {
  if (mc === null) return null;
  const { samples: _samples, ...rest } = mc;
  return rest;
}

/**
 * The JSON record of a run: config, stats, limit counts, kill events, fallbacks, costs,
 * trades and the equity curve (times as ISO strings). NaN and infinities become null.
 * @example writeFileAtomic('run.json', JSON.stringify(backtestRecord(result, stats)));
 */
export function backtestRecord(result: BacktestResult, stats: Stats, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    ...extra,
    lookAhead: result.lookAhead,
    symbols: result.symbols,
    classes: result.classes,
    config: result.config,
    periodsPerYear: result.periodsPerYear,
    stats: finite(stats),
    limits: { counts: result.limits.counts, bySymbol: result.limits.bySymbol },
    costs: result.costs,
    fills: result.fills,
    killEvents: result.killEvents.map((e) => ({ ...e, time: iso(e.time), resumeTime: e.resumeTime === null ? null : iso(e.resumeTime) })),
    stoppedAt: result.stoppedAt === null ? null : iso(result.stoppedAt),
    fallbacks: result.fallbacks,
    trades: result.trades.map((t: Trade) => finite({ ...t, entryTime: iso(t.entryTime), exitTime: iso(t.exitTime) })),
    equityCurve: {
      ts: Array.from(result.ts, iso),
      equity: Array.from(result.equity),
      cash: Array.from(result.cash),
      grossExposure: Array.from(result.grossExposure),
    },
  };
}

function finite<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v])) as T;
}
