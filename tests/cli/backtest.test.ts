import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { backtestingPyStats } from '../../src/backtest/conventions';
import { runBacktestCli } from '../../src/cli/backtest';
import { ConfigError, DataError } from '../../src/core/errors';
import { realData } from '../support/paths';
import { PROTOTYPE_SYMBOLS, walkRows, writeCsv } from '../support/csv';

const PERP = realData('perp', 'XRP_USDT_USDT-5m-futures.feather');
const FUNDING = realData('perp', 'XRP_USDT_USDT-8h-funding_rate.feather');
const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');

describe('quantbook backtest', () => {
  it('compares forecasters on the real perpetual with its funding and writes one results file each', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', funding: FUNDING, compare: 'historical,oracle', days: 3, mc: 50, out });
    expect(runs.map((r) => r.forecaster)).toEqual(['historical', 'oracle']);
    const rec = JSON.parse(readFileSync(join(out, 'backtest-oracle.json'), 'utf8'));
    expect(rec.lookAhead).toBe(true);
    expect(rec.symbols).toEqual(['XRP_USDT_USDT']);
    expect(rec.config.defaultClass).toBe('perp');
    expect(Object.keys(rec.limits.counts)).toEqual(['perSymbolCap', 'grossIntraday', 'grossAtClose', 'longOnly', 'minTrade', 'cash']);
    expect(rec.equityCurve.equity.length).toBe(rec.data.bars);
    expect(rec.data.bars).toBeLessThanOrEqual(3 * 288 + 1);
    expect(rec.stats.trades).toBe(rec.trades.filter((t: { exitReason: string }) => t.exitReason !== 'end').length);
    expect(rec.fallbacks.perpsWithoutFunding).toEqual([]);
    // the last 3 days lie inside the funding series: every funding time is covered
    expect(rec.funding.XRP_USDT_USDT.coverage).toMatchObject({ fundingTimes: 9, uncoveredFundingTimes: 0 });
    expect(rec.monteCarlo.bars.simulations).toBe(50);
    const cmp = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(cmp.columns.map((c: { forecaster: string }) => c.forecaster)).toEqual(['historical', 'oracle']);
    // The oracle knows the future: it must beat the causal baseline.
    expect(runs[1].stats.totalReturnPct).toBeGreaterThan(runs[0].stats.totalReturnPct);
  });

  it('--conventions backtesting.py: all-in orders on each change of direction, closed at the end, its statistics', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', forecaster: 'trend', conventions: 'backtesting.py', days: 2, mc: 0, out });
    const r = runs[0].result;
    expect(r.config.conventions).toBe('backtesting.py');
    expect(r.trades.length).toBeGreaterThan(3);
    // Each trade opens all in: its notional is the equity at its entry, less under one lot and the costs.
    for (const t of r.trades) expect(t.maxQuantity * t.entryPrice).toBeGreaterThan(0.99 * r.equity[Math.max(t.entryBar - 1, 0)]);
    // Nothing is left open (backtesting.py closes open trades at the last close); the default kill switches still apply.
    expect(new Set(r.trades.map((t) => t.exitReason)).has('end')).toBe(false);
    expect(runs[0].stats.sharpe).toBe(backtestingPyStats(r)['Sharpe Ratio']);
    await expect(runBacktestCli({ data: PERP, class: 'perp', conventions: 'backtesting.py', strategy: 'outlook', out })).rejects.toThrow(/--conventions backtesting.py applies to --strategy rebalance/);
  });

  it('runs the outlook harness and reports per-trade pUp and outcome', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', forecaster: 'historical', strategy: 'outlook', pUpMin: 0.5, zMax: 0, mc: 0, out });
    const o = runs[0].record.outlook as { trades: Array<{ pUp: number; up: boolean | null }>; predictions: { n: number } };
    expect(o.trades.length).toBeGreaterThan(0);
    expect(o.trades.every((t) => t.pUp >= 0.5)).toBe(true);
    expect(o.predictions.n).toBeGreaterThan(1000);
  });

  it('reads a YAML config and feeds regime sizing with the classifier\'s labels', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const cfg = join(out, 'regime.yaml');
    writeFileSync(cfg, 'sizing:\n  kind: regime\n  base: { kind: kelly, fraction: 0.25 }\n  multipliers: { shock: 0 }\ncapital: 50000\n');
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', config: cfg, mc: 0, out });
    expect(runs[0].result.config.sizing).toMatchObject({ kind: 'regime', base: { kind: 'kelly', fraction: 0.25 }, multipliers: { trend: 1, chop: 0.3 } });
    expect(runs[0].result.config.capital).toBe(50_000);
    expect(runs[0].stats.startEquity).toBe(50_000);
  });

  it('rejects bad input with typed errors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    await expect(runBacktestCli({ data: PERP, class: 'perp', days: 2, start: '2021-11-16', out })).rejects.toThrow(/either --days or --start/);
    await expect(runBacktestCli({ data: PERP, class: 'perp', symbols: ['BTC'], out })).rejects.toThrow(DataError);
    await expect(runBacktestCli({ data: PERP, class: 'bond', out })).rejects.toThrow(/--class/);
    await expect(runBacktestCli({ data: PERP, out })).rejects.toThrow(/no instrument class/);
    await expect(runBacktestCli({ data: PERP, class: 'crypto', funding: FUNDING, out })).rejects.toThrow(/matches no perpetual/);
    await expect(runBacktestCli({ data: PERP, class: 'perp', compare: 'historical,psychic', out })).rejects.toThrow(ConfigError);
    const cfg = join(out, 'bad.yaml');
    writeFileSync(cfg, 'classes:\n  stock:\n    grossAtClose: 5\n');
    await expect(runBacktestCli({ data: PERP, class: 'perp', config: cfg, out })).rejects.toThrow(/contradictory limits.*bad\.yaml/);
  });

  it('prints a table and exits 0, or one error line and exits 1', () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const ok = spawnSync(process.execPath, [bin, 'backtest', '--data', PERP, '--class', 'perp', '--days', '2', '--mc', '0', '--out', out], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Sharpe/);
    expect(ok.stdout).toMatch(/historical/);
    const bad = spawnSync(process.execPath, [bin, 'backtest', '--data', PERP, '--out', out], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/ConfigError: symbol XRP_USDT_USDT has no instrument class/);
  });

  it('validates bars as every command does: negative volume is refused (as resample refuses it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const rows = walkRows(100, 7);
    rows[42][5] = -3;
    const path = writeCsv(join(dir, 'X-1m.csv'), rows);
    const err = await runBacktestCli({ data: path, class: 'crypto', mc: 0, out: join(dir, 'out') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(`volume must be finite and >= 0 (file ${path}, row 42, column "volume", value -3)`);
  });

  it('symbols named constructor, __proto__, toString and hasOwnProperty trade like any other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    PROTOTYPE_SYMBOLS.forEach((s, k) => writeCsv(join(dir, `${s}-1m.csv`), walkRows(300, 20 + k)));
    const one = await runBacktestCli({ data: join(dir, 'constructor-1m.csv'), class: 'crypto', mc: 0, out: join(dir, 'one') });
    expect(one.runs[0].result.symbols).toEqual(['constructor']);
    expect(one.runs[0].result.classes).toEqual(['crypto']);
    const all = await runBacktestCli({ data: dir, class: 'crypto', mc: 0, out: join(dir, 'all') });
    const rec = all.runs[0].record as { symbols: string[]; data: { missingBars: Record<string, number> } };
    expect(rec.symbols).toEqual([...PROTOTYPE_SYMBOLS].sort());
    // (an object literal's `__proto__: 0` would set the prototype: build the expected keys from entries)
    expect(JSON.parse(JSON.stringify(rec.data.missingBars))).toEqual(Object.fromEntries(PROTOTYPE_SYMBOLS.map((s) => [s, 0])));
    expect(Object.keys(rec.data.missingBars).sort()).toEqual([...PROTOTYPE_SYMBOLS].sort());
  });

  it('--capital must be finite, positive and at most MAX_CAPITAL: a ConfigError naming --capital, not the data', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    for (const capital of ['1e308', 'Infinity', '0', '-5', 'lots']) {
      const err = await runBacktestCli({ data: PERP, class: 'perp', capital, mc: 0, out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).location.key).toBe('--capital');
    }
    await expect(runBacktestCli({ data: PERP, class: 'perp', capital: '1e308', mc: 0, out })).rejects.toThrow(/capital must be at most 1000000000000/);
    const cfg = join(out, 'big.yaml');
    writeFileSync(cfg, 'capital: 1.0e+308\n');
    await expect(runBacktestCli({ data: PERP, class: 'perp', config: cfg, mc: 0, out })).rejects.toThrow(/capital must be at most 1000000000000.*key "capital"/);
  });

  it('says when the funding series does not cover the bars: the recorded one starts three days late', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-bt-'));
    const lines: string[] = [];
    const { runs } = await runBacktestCli({ data: PERP, class: 'perp', funding: FUNDING, end: '2021-11-18T12:00Z', mc: 0, out }, (l) => lines.push(l));
    const rec = JSON.parse(readFileSync(runs[0].file, 'utf8'));
    // bars 2021-11-15T00:00 .. 11-18T11:55: 11 funding times at 8 h (00, 08, 16 UTC); the series starts 11-18T00:00
    expect(rec.funding.XRP_USDT_USDT).toEqual({
      file: FUNDING,
      coverage: { from: '2021-11-18T00:00:00.017Z', to: '2021-12-18T00:00:00.014Z', intervalMs: 8 * 3_600_000, fundingTimes: 11, uncoveredFundingTimes: 9 },
    });
    expect(lines.join('\n')).toMatch(/warning: XRP_USDT_USDT: the funding series \(2021-11-18T00:00:00\.017Z \.\. 2021-12-18T00:00:00\.014Z\) lacks 9 of the 11 funding times the bars span; no funding was charged for them/);
    const table = spawnSync(process.execPath, [bin, 'backtest', '--data', PERP, '--class', 'perp', '--funding', FUNDING, '--end', '2021-11-18T12:00Z', '--mc', '0', '--out', out], { encoding: 'utf8' });
    expect(table.stdout).toMatch(/funding times uncovered: XRP_USDT_USDT +9 of 11 NOT CHARGED \(series 2021-11-18T00:00 \.\.\)/);
  });
});
