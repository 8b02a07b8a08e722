/**
 * Every research notebook runs headless on the default data, as `npm run report` runs it,
 * so a notebook that breaks fails CI; the records each one states are checked for sense.
 * The two slow notebooks (02 paths, 05 sampler search) run with smaller grids here; 01 also
 * runs once on the recorded crypto data, 06 once on the embedded perpetual; 07 runs on the recorded
 * crypto pairs, 08 reads the recorded crypto data by default. Two kernels at a time.
 * Then the shipped sweep config drives `quantbook sweep` over 05 (cut-down fixed parameters).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/notebook/records/mime';
import { runPool } from '../../src/notebook/runner/pool';
import type { Parameters, RunSummary } from '../../src/notebook/records/run';
import { runToFolder, writeIndex } from '../../src/notebook/runner/reports';
import { REAL_DATA, REPO_ROOT } from '../support/paths';

const NOTEBOOKS = join(REPO_ROOT, 'notebooks');
const out = mkdtempSync(join(tmpdir(), 'qb-research-'));
const bestDir = join(out, 'best');

/** Smaller grids for the two notebooks whose defaults take the longest. */
const RUNS: Array<{ notebook: string; name?: string; parameters?: Parameters }> = [
  { notebook: '01-data.ipynb' },
  { notebook: '01-data.ipynb', name: '01-data-real', parameters: { data: join(REAL_DATA, 'crypto-5m'), session: '24x7' } },
  { notebook: '02-paths.ipynb', parameters: { samples: 64, lookback: 128, bandSamples: 32, bandTemperatures: [0.7, 1.3], bandTopPs: [1] } },
  { notebook: '03-kelly-backtest.ipynb', parameters: { mcSimulations: 200 } },
  { notebook: '04-calibration.ipynb' },
  { notebook: '05-sweep.ipynb', parameters: { samples: [16, 32], temperatures: 1, topPs: [0.9, 1], lookbacks: 96, validationOrigins: 2, testOrigins: 2, latencyRepeats: 1, bestDir } },
  { notebook: '06-regime-risk.ipynb' },
  // 06 defaults to the recorded perpetual (its real funding is the point); the embedded one works too.
  { notebook: '06-regime-risk.ipynb', name: '06-regime-risk-embedded', parameters: { data: '../data/perp-5m.parquet', funding: '../data/perp-8h-funding.parquet' } },
  { notebook: '07-strategies.ipynb' },
  { notebook: '08-forecast-skill.ipynb' },
  { notebook: '09-signal-model.ipynb' },
];

const summaries = new Map<string, RunSummary>();
const num = (r: Record<string, JsonValue>, k: string): number => r[k] as number;

describe('the research notebooks on the default data', () => {
  beforeAll(async () => {
    const results = await runPool(RUNS, 2, (r) => runToFolder(join(NOTEBOOKS, r.notebook), {
      // Other test files start kernels at the same time on CI's 2 cores: give tslab's start-up room.
      outDir: out, name: r.name, parameters: r.parameters ?? {}, ensureBuild: false, cellTimeoutMs: 240_000, startTimeoutMs: 180_000,
    }));
    for (const r of results) summaries.set(r.summary.name, r.summary);
    writeIndex(out);
  }, 900_000);

  it('covers every notebook in notebooks/', () => {
    const shipped = readdirSync(NOTEBOOKS).filter((f) => /^0[1-9]-.*\.ipynb$/.test(f)).sort();
    expect([...new Set(RUNS.map((r) => r.notebook))].sort()).toEqual(shipped);
  });

  it('runs each one to the end and writes its report', () => {
    for (const [name, s] of summaries) {
      expect({ name, status: s.status, error: s.error ?? null }).toEqual({ name, status: 'ok', error: null });
      expect(existsSync(join(out, `${name}.html`))).toBe(true);
    }
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('11 runs, 0 failed');
  });

  it('01: reads the embedded equities and the recorded crypto pairs', () => {
    const r = summaries.get('01-data')!.records;
    expect(r).toMatchObject({ rows: 28_080, symbols: 3, sessions: 24, missingBarsFilled: 0, validationProblems: 0 });
    // 24 RTH sessions: 5m = 78 bars a session, 30m = 13, 4h = 2 (09:30-13:30, 13:30-16:00)
    expect(r.barsPerTimeframe).toEqual({ '5m': 3 * 24 * 78, '30m': 3 * 24 * 13, '4h': 3 * 24 * 2 });
    const real = summaries.get('01-data-real')!.records;
    expect(real.symbols).toBe(8);
    expect(num(real, 'missingBarsFilled')).toBeGreaterThan(0); // the recorded pairs miss a few bars
  });

  it('02: gives a probability, a band and a latency', () => {
    const r = summaries.get('02-paths')!.records;
    expect(num(r, 'pUp')).toBeGreaterThanOrEqual(0);
    expect(num(r, 'pUp')).toBeLessThanOrEqual(1);
    expect(num(r, 'band90WidthBp')).toBeGreaterThan(0);
    expect(num(r, 'sampleMs')).toBeGreaterThan(0);
    const bands = r.bandBySampler as Array<{ temperature: number; band90WidthBp: number }>;
    // a hotter sampler spreads the paths wider
    expect(bands.find((b) => b.temperature === 1.3)!.band90WidthBp).toBeGreaterThan(bands.find((b) => b.temperature === 0.7)!.band90WidthBp);
  });

  it('08: a leaderboard with DM tests, conformal coverage near 80% without worse CRPS, touch probabilities that come true', () => {
    const r = summaries.get('08-forecast-skill')!.records;
    const board = r.leaderboard as Array<{ name: string; crps: number; coverage80: number; dmStat: number | null; dmP: number | null }>;
    expect(board.map((b) => b.name).sort()).toEqual(['ewma', 'garch', 'historical', 'mixture:ewma+historical', 'naive']);
    expect(board[0].dmStat).toBeNull();
    for (const b of board.slice(1)) expect(b.crps).toBeGreaterThanOrEqual(board[0].crps);
    // naive (no volatility model, no drift) is distinguishably worse than the best
    expect(board.find((b) => b.name === 'naive')!.dmP!).toBeLessThan(0.05);
    const coverage = r.coverage as Array<{ forecaster: string; coverageRaw: number; coverageConformal: number; crpsRaw: number; crpsConformal: number }>;
    for (const c of coverage) expect(c.crpsConformal).toBeLessThanOrEqual(c.crpsRaw);
    for (const c of coverage) {
      expect(c.coverageConformal).toBeGreaterThanOrEqual(0.77);
      expect(c.coverageConformal).toBeLessThanOrEqual(0.83);
      expect(Math.abs(c.coverageConformal - 0.8)).toBeLessThan(Math.abs(c.coverageRaw - 0.8));
    }
    expect(r.pit as unknown[]).toHaveLength(8);
    expect(Math.abs(num(r, 'touchMeanPredicted') - num(r, 'touchObserved'))).toBeLessThan(0.05);
    expect(num(r, 'touchMeanPredicted')).toBeGreaterThanOrEqual(num(r, 'touchMeanPredictedClosesOnly'));
    expect(num(r, 'touchOrigins')).toBeGreaterThan(100);
  });

  it('03: the oracle bounds the model, and every limit count is there', () => {
    const r = summaries.get('03-kelly-backtest')!.records;
    const stats = r.stats as Record<string, Record<string, number>>;
    expect(Object.keys(stats)).toEqual(['qb-quantile-s', 'historical', 'trend', 'oracle']);
    expect(stats.oracle.sharpe).toBeGreaterThan(stats['qb-quantile-s'].sharpe);
    const binds = r.limitBinds as Record<string, Record<string, number>>;
    expect(Object.keys(binds['qb-quantile-s'])).toEqual(['perSymbolCap', 'grossIntraday', 'grossAtClose', 'longOnly', 'minTrade', 'cash']);
    expect(binds['qb-quantile-s'].perSymbolCap).toBeGreaterThan(0);
    expect((r.walkForwardChoices as string[]).length).toBe(6);
    expect(num(r, 'mcMaxDrawdownP95Pct')).toBeGreaterThan(0);
  });

  it('04: scores walk-forward P(up) pairs and the recalibrated ones', () => {
    const r = summaries.get('04-calibration')!.records;
    expect(num(r, 'pairs')).toBeGreaterThan(900);
    for (const k of ['brier', 'brierIsotonicOos', 'brierPlattOos', 'baselineBrier']) {
      expect(num(r, k)).toBeGreaterThan(0.15);
      expect(num(r, k)).toBeLessThan(0.35);
    }
    expect(num(r, 'coverage80')).toBeGreaterThan(0.5);
  });

  it('05: writes one best configuration per symbol, chosen on validation error', () => {
    const r = summaries.get('05-sweep')!.records;
    for (const symbol of ['SYNA', 'SYNB', 'SYNC']) {
      const file = JSON.parse(readFileSync(join(bestDir, `${symbol}.json`), 'utf8'));
      expect(file).toMatchObject({ schema: 'quantbook.sampler-config/1', symbol, horizon: 30 });
      expect(file.setting).toEqual(r[`${symbol}.best`]);
      expect(file.scores.validation.pctReturnMae).toBeCloseTo(num(r, `${symbol}.valPctReturnMae`), 12);
      expect(file.ensemble.members.reduce((s: number, m: { weight: number }) => s + m.weight, 0)).toBeCloseTo(1, 12);
    }
  });

  it('06: pays real funding and shows the stress thresholds firing', () => {
    const r = summaries.get('06-regime-risk')!.records;
    expect(num(r, 'fundingPaid')).not.toBe(0);
    expect(num(summaries.get('06-regime-risk-embedded')!.records, 'fundingPaid')).not.toBe(0);
    expect(num(r, 'killEventsStress')).toBeGreaterThan(0);
    const share = r.regimeSharePct as Record<string, number>;
    expect(Object.values(share).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 1);
  });

  it('07: runs a rule, two target portfolios and a multi-timeframe rule beside half-Kelly on the recorded pairs', () => {
    const r = summaries.get('07-strategies')!.records;
    const labels = r.labels as string[];
    expect(labels).toEqual(['half-Kelly (historical)', 'SMA cross + brackets', 'equal weight', 'inverse vol', '4h regime / 30m signal / 5m entry']);
    const stats = r.stats as Record<string, Record<string, number>>;
    const trades = r.trades as Record<string, number>;
    for (const l of labels) {
      expect(Number.isFinite(stats[l].sharpe)).toBe(true);
      expect(stats[l].trades).toBeGreaterThan(0);
      // The 15% maximum-drawdown stop bounds every run; the crypto gross cap is 1x.
      expect(stats[l].maxDrawdownPct).toBeGreaterThan(0);
      expect(stats[l].maxDrawdownPct).toBeLessThan(15);
      expect((r.maxGrossLeverage as Record<string, number>)[l]).toBeLessThanOrEqual(1 + 1e-9);
    }
    // The brackets fire: stop-loss and take-profit exits beside the crossover's own.
    const exits = r.smaExits as Record<string, number>;
    expect(exits.stop).toBeGreaterThan(0);
    expect(exits.takeProfit).toBeGreaterThan(0);
    expect(exits.signal).toBeGreaterThan(0);
    expect(Object.values(exits).reduce((a, b) => a + b, 0)).toBe(trades['SMA cross + brackets']);
    // 20 days of 5m bars, the first 2 days warm-up: one rebalance per UTC day after it; the
    // portfolios trade at the rebalances only, the rules far more often.
    expect(r.rebalances).toBe(18);
    expect(trades['equal weight']).toBeLessThan(trades['SMA cross + brackets']);
    expect(trades['inverse vol']).toBeLessThan(trades['4h regime / 30m signal / 5m entry']);
    // Every multi-timeframe entry decision became a trade or was skipped by a limit or a pause; no coarse bar seen early.
    expect(num(r, 'mtfEntries')).toBeGreaterThanOrEqual(trades['4h regime / 30m signal / 5m entry']);
    expect(r.coarseSeenEarly).toBe(0);
    // Inverse volatility earns more per unit of risk than equal weight on these pairs (0.91 against -1.09 here).
    expect(stats['inverse vol'].sharpe).toBeGreaterThan(stats['equal weight'].sharpe);
  });

  it('09: trains the signal model walk-forward on the real pairs and perpetual and backtests it against the forecaster', () => {
    const r = summaries.get('09-signal-model')!.records;
    const names = ['ETH_BTC', 'LTC_BTC', 'XRP_USDT_USDT'];
    expect(r.series).toEqual(names);
    const oos = r.oosLabels as Record<string, number>;
    const ll = r.logLoss as Record<string, { signal: number; forecaster: number }>;
    const purged = r.purgedTrainRows as Record<string, number>;
    const bt = r.backtest as Record<string, Record<string, { sharpe: number; trades: number; fundingPaid: number }>>;
    for (const s of names) {
      expect(oos[s]).toBeGreaterThan(500);
      // Out-of-sample log losses near ln 2: neither side is a miracle, and the calibrated model is not broken.
      for (const side of ['signal', 'forecaster'] as const) {
        expect(ll[s]![side]).toBeGreaterThan(0.6);
        expect(ll[s]![side]).toBeLessThan(0.8);
      }
      expect(purged[s]).toBeGreaterThan(0);
      const runs = bt[s]!;
      expect(Object.keys(runs)).toEqual(['signal model (binary Kelly)', 'forecaster alone (Kelly)']);
      for (const run of Object.values(runs)) {
        expect(Number.isFinite(run.sharpe)).toBe(true);
        expect(run.trades).toBeGreaterThan(0);
      }
    }
    // Funding is paid or received on the perpetual only.
    for (const run of Object.values(bt.XRP_USDT_USDT!)) expect(run.fundingPaid).not.toBe(0);
    for (const run of Object.values(bt.ETH_BTC!)) expect(run.fundingPaid).toBe(0);
    expect(num(r, 'forecasterGainSharePct')).toBeGreaterThan(0);
    expect(num(r, 'forecasterGainSharePct')).toBeLessThan(100);
  });
});

describe('the shipped sweep config over 05-sweep, through `quantbook sweep`', () => {
  // The grid of configs/sweep-05.yaml (8 combinations) with its fixed parameters cut down to run
  // in seconds: what is checked is that the file drives the command end to end.
  const sweepOut = join(out, 'sweep-05');
  const best = join(REPO_ROOT, 'configs', 'best');
  const bestBefore = readdirSync(best).map((f) => [f, statSync(join(best, f)).mtimeMs]);
  let stdout = '';
  beforeAll(async () => {
    const r = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'bin/quantbook.js'), 'sweep', 'notebooks/05-sweep.ipynb',
      '--config', 'configs/sweep-05.yaml', '-y', '{samples: [16], validationOrigins: 1, testOrigins: 1, latencyRepeats: 1}',
      '-w', '2', '-o', sweepOut, '-q', '--no-build'], { cwd: REPO_ROOT });
    stdout = r.stdout;
  }, 600_000);

  it('runs all 8 combinations and writes the comparison page with a chart per recorded metric', () => {
    expect(stdout).toContain('8 combinations, 0 failed');
    const result = JSON.parse(readFileSync(join(sweepOut, 'results.json'), 'utf8'));
    expect(result.axes.map((a: { name: string }) => a.name)).toEqual(['lookbacks', 'temperatures', 'topPs']);
    expect(result.fixed).toMatchObject({ samples: [16], aggregations: ['mean', 'median', 'trimmed_mean_5', 'trimmed_mean_20', 'winsorized_mean'], bestDir: null });
    expect(result.rows).toHaveLength(8);
    for (const row of result.rows) {
      expect(row.status).toBe('ok');
      for (const sym of ['SYNA', 'SYNB', 'SYNC']) expect(row.records[`${sym}.best`]).toMatchObject({ samples: 16, lookback: row.parameters.lookbacks });
    }
    const page = readFileSync(join(sweepOut, 'index.html'), 'utf8');
    expect(page).toContain('valPctReturnMae vs lookbacks');
    expect(page).toContain('testWcrps vs topPs');
  });

  it('leaves configs/best alone (bestDir: null in the shipped config)', () => {
    expect(readdirSync(best).map((f) => [f, statSync(join(best, f)).mtimeMs])).toEqual(bestBefore);
  });
});
