/**
 * `quantbook backtest`: load bars, forecast every bar with a model or baseline (data up
 * to t only), size with Kelly (or the configured sizing) under the limits, account, and
 * report statistics; `--compare` runs several forecasters on the same data side by side.
 */
import { addToCatalogue, numbersOf } from './catalogue';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  INSTRUMENT_CLASSES,
  MAX_CAPITAL,
  marketFromBars,
  backtestRecord,
  classifyMarketRegimes,
  classRules,
  directionTargets,
  forecastBacktest,
  forecastSignals,
  monteCarloSummary,
  resolveConfig,
  runBacktest,
  runOutlook,
  sliceMarket,
  killEventCounts,
  sliceSignals,
  statsTable,
  symbolClass,
  walkForwardBacktest,
  type BacktestConfig,
  type Candidate,
  type ForecastBacktestOptions,
  type WalkForwardResult,
  type BacktestResult,
  type FundingSeries,
  type MarketArrays,
  type Signals,
  type Stats,
} from '../backtest';
import { ConfigError } from '../core/errors';
import { checkOutputDir, OutputBatch, safeOutputPath } from '../core/output';
import { fundingCoverage, fundingToArrays, loadFundingRates, loadValidBars, symbolFromFileName, walkForward, type FundingCoverage, type SessionLike } from '../data';
import { DAY_MS } from '../data/interval';
import { BASELINE_NAMES, CALIBRATIONS, FORECASTER_NAMES, openModel, parseAggregate, parseEnsembleSpec, withCalibration } from '../forecast';
import { bestConfigFrom, bestConfigNotes, type BestConfigUse } from './bestConfigArg';
import { readConfigFile } from './configFile';
import { int, parseFlags } from './options';

/** The shipped quantile model, used by `--forecaster model` unless `--model` names another card. */
export const DEFAULT_MODEL_CARD = resolve(__dirname, '..', '..', 'models', 'qb-quantile-s.json');
const FORECASTERS = ['model', ...FORECASTER_NAMES] as const;
/** A name `--forecaster` / `--compare` take: one of FORECASTERS, or an ensemble spec of forecasters. */
function isForecasterName(n: string): boolean {
  return (FORECASTERS as readonly string[]).includes(n) || parseEnsembleSpec(n) !== null;
}
/** What a bare `--compare` runs: the baselines, then the model. */
const COMPARE_DEFAULT: readonly string[] = [...BASELINE_NAMES, 'model'];

/** Statistics a walk-forward can choose candidates by (higher is better). */
const WF_OBJECTIVES = ['sharpe', 'sortino', 'calmar', 'totalReturnPct'] as const;

const optionsSchema = z.object({
  data: z.string().min(1),
  symbols: z.array(z.string().min(1)).optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  days: z.coerce.number().positive().optional(),
  capital: z.coerce.number().positive('capital must be positive').max(MAX_CAPITAL, `capital must be at most ${MAX_CAPITAL} (account currency)`).optional(),
  forecaster: z
    .string()
    .refine(isForecasterName, { message: `use ${FORECASTERS.join(', ')}, or an ensemble (ensemble:a+b, mixture:a+b)` })
    .default('historical'),
  model: z.string().default(DEFAULT_MODEL_CARD),
  compare: z.union([z.boolean(), z.string()]).optional(),
  config: z.string().optional(),
  class: z.enum(INSTRUMENT_CLASSES).optional(),
  session: z.string().optional(),
  funding: z.string().optional(),
  horizon: int(1).default(30),
  samples: int(0).default(0),
  temperature: z.coerce.number().min(0).optional(),
  topP: z.coerce.number().gt(0).max(1).optional(),
  topK: int(0).optional(),
  lookback: int(2).optional(),
  aggregate: z.string().optional(),
  strategy: z.enum(['rebalance', 'outlook']).default('rebalance'),
  pUpMin: z.coerce.number().min(0).max(1).default(0.6),
  zMax: z.coerce.number().default(-1),
  zWindow: int(2).default(20),
  stop: z.coerce.number().min(0).lt(1).default(0.01),
  mc: int(0).default(1000),
  seed: z.coerce.number().int().default(1),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  calibrate: z.enum(CALIBRATIONS).default('none'),
  out: z.string().min(1),
  json: z.boolean().default(false),
  conventions: z.enum(['default', 'backtesting.py']).optional(),
  walkForward: z.boolean().default(false),
  folds: int(1).optional(),
  trainBars: int(2).optional(),
  testBars: int(2).optional(),
  window: z.enum(['rolling', 'expanding']).default('rolling'),
  fractions: z.string().default('0.25,0.5,1'),
  objective: z.enum(WF_OBJECTIVES).default('sharpe'),
});
export type BacktestCliOptions = z.infer<typeof optionsSchema>;

/** One forecaster's run. */
export interface BacktestRun {
  forecaster: string;
  result: BacktestResult;
  stats: Stats;
  file: string;
  record: Record<string, unknown>;
}

/**
 * Runs `quantbook backtest` as its options say; writes one results JSON per forecaster
 * (and `compare.json` with `--compare`) into `--out`. All of them are written to temporary files
 * first and renamed into place at the end: a failure leaves the previous results as they were.
 * @throws ConfigError for bad or contradictory options or an unwritable `--out` (before any work);
 *   DataError for bad data; ModelError from models; OutputError when a results file cannot be written.
 * @example (await runBacktestCli({ data: 'bars.feather', class: 'crypto', out: 'out' })).runs[0].stats.sharpe
 */
export async function runBacktestCli(raw: Record<string, unknown>,
  log: (line: string) => void = () => {}): Promise<{ runs: BacktestRun[]; options: BacktestCliOptions; notes: string[]; walkForward?: WalkForwardRun }> {
  const outputs = new OutputBatch();
  try {
    const done = await stageBacktest(outputs, raw, log);
    outputs.commit();
    return done;
  } finally {
    outputs.abort();
  }
}

/** {@link runBacktestCli}'s work: the results files are staged in `outputs`, not yet in place. */
async function stageBacktest(outputs: OutputBatch, raw: Record<string, unknown>,
  log: (line: string) => void): Promise<{ runs: BacktestRun[]; options: BacktestCliOptions; notes: string[]; walkForward?: WalkForwardRun }> {
  // --config is a backtest config or a best sampler config, told apart by content (its schema tag).
  const fromFile = typeof raw.config === 'string' ? readConfigFile(raw.config, extname(raw.config) === '.json' ? 'json' : 'yaml') : {};
  const best = typeof raw.config === 'string' ? bestConfigFrom(fromFile, raw.config) : null;
  const o = parseOptions(best ? withBestConfig(raw, best) : raw);
  checkOutputDir(o.out, '--out', ['compare.json', 'walkforward.json']); // before any work: an unwritable --out fails now, in one line
  if (o.aggregate !== undefined) parseAggregate(o.aggregate); // fail before any forecasting
  const config = loadConfig(o, best ? {} : fromFile);
  const notes = best ? bestConfigNotes(best, 'quantbook backtest', o.horizon) : [];
  if (o.aggregate !== undefined && o.samples === 0) notes.push(`aggregate ${o.aggregate} not used: without --samples mu is the forecast's median quantile`);
  for (const n of notes) log(`note: ${n}`);
  const sampling = {
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.topP !== undefined ? { topP: o.topP } : {}),
    ...(o.topK !== undefined ? { topK: o.topK } : {}),
  };
  const session = o.session ?? (config.defaultClass === 'stock' ? 'us-rth' : '24x7');
  const { market, missingBars } = loadMarket(o.data, o.symbols, session);
  for (const s of market.symbols) symbolClass(config, s); // before any forecasting: fail fast
  const range = barRange(market.ts, o);
  const funding = o.funding ? loadFunding(o.funding, market.symbols, config) : undefined;
  const names = compareList(o);
  // The same for every forecaster: computed once, not once per --compare column.
  const m = sliceMarket(market, range);
  const S = market.symbols.length;
  // Funding the series does not cover is not charged: count it, say it (table, JSON, stderr).
  const fundingInfo = funding ? fundingReport(funding, o.funding!, m.ts) : undefined;
  for (const [symbol, f] of Object.entries(fundingInfo ?? {})) {
    if (f.coverage.uncoveredFundingTimes > 0) log(`warning: ${uncoveredText(symbol, f.coverage)}`);
  }
  // Regime sizing needs a label per bar: the documented classifier, on each symbol's own closes.
  const regime = config.sizing.kind === 'regime' ? classifyMarketRegimes(market).labels : undefined;
  const runs: BacktestRun[] = [];
  const wfInputs: Array<{ label: string; signals: Signals }> = [];
  if (o.walkForward) checkWalkForward(o, config);
  for (const name of names) {
    // --calibrate conformal: one ACI state per symbol, updated only from bars already seen.
    const forecaster = withCalibration(await openModel(name === 'model' ? o.model : name, { device: o.device, log, sampling }), o.calibrate);
    try {
      log(`forecasting ${S} symbols x ${range.end - range.start} bars with ${forecaster.info.name} ...`);
      const forecastOptions = { horizonBars: o.horizon, samples: o.samples, seed: o.seed, range, sigmaFloor: config.sigmaFloor, contextBars: o.lookback,
        aggregate: o.aggregate };
      const options = { funding };
      if (o.walkForward) {
        // Candidates are forecasters x fractions, chosen per fold below; the oracle cannot be one.
        const fc = await forecastSignals(market, forecaster, forecastOptions);
        const label = name === 'model' ? basename(o.model, '.json') : name;
        if (fc.signals.lookAhead) {
          notes.push(`${label} sees the future: left out of the walk-forward candidates`);
          log(`note: ${notes[notes.length - 1]}`);
        } else wfInputs.push({ label, signals: sliceSignals({ ...fc.signals, regime }, S, range) });
        continue;
      }
      let outlook: Record<string, unknown> | undefined;
      let trade: ForecastBacktestOptions['trade'];
      if (o.strategy === 'outlook') {
        trade = (rm, signals, pUp) => {
          const r = runOutlook(rm, { ...signals, pUp }, config, { horizonBars: o.horizon, pUpMin: o.pUpMin, zMax: o.zMax, zWindow: o.zWindow,
            stopLoss: o.stop > 0 ? o.stop : null }, options);
          outlook = {
            rule: r.rule,
            trades: r.trades.map((t) => ({ ...t, entryTime: new Date(t.entryTime).toISOString() })),
            predictions: { n: r.predictions.pUp.length, bar: Array.from(r.predictions.bar), symbol: Array.from(r.predictions.symbol),
              pUp: Array.from(r.predictions.pUp), up: Array.from(r.predictions.up) },
          };
          return r.backtest;
        };
      } else if (config.conventions === 'backtesting.py') {
        // backtesting.py trades orders, not weights: all in along the forecast's direction, on each change.
        trade = (rm, signals) => runBacktest(rm, directionTargets(rm, signals, rm.symbols.map((s) => classRules(config, symbolClass(config, s)).longOnly)),
          config, options);
      }
      const run = await forecastBacktest(market, forecaster, { ...forecastOptions, config, options, regime, monteCarlo: { simulations: o.mc, seed: o.seed },
        trade });
      const { result, stats, monteCarlo: mc, forecast: fc } = run;
      const label = name === 'model' ? basename(o.model, '.json') : name;
      const record = backtestRecord(result, stats, {
        forecaster: label,
        forecast: fc.meta,
        sampler: { samples: o.samples, lookback: o.lookback ?? null, temperature: o.temperature ?? null, topP: o.topP ?? null, topK: o.topK ?? null,
          aggregate: o.aggregate ?? null, bestConfig: best?.file ?? null },
        ...(notes.length ? { notes } : {}),
        strategy: o.strategy,
        data: { path: o.data, session, start: new Date(m.ts[0]).toISOString(), end: new Date(m.ts[m.ts.length - 1]).toISOString(), bars: m.ts.length,
          missingBars },
        monteCarlo: mc ? { trades: monteCarloSummary(mc.trades), bars: monteCarloSummary(mc.bars) } : null,
        ...(fundingInfo ? { funding: fundingInfo } : {}),
        ...(outlook ? { outlook } : {}),
      });
      const file = safeOutputPath(o.out, label.replace(/[^A-Za-z0-9_.-]/g, '_'), name === 'model' ? '--model' : '--forecaster', { prefix: 'backtest-', suffix: '.json' });
      outputs.write(file, JSON.stringify(record));
      runs.push({ forecaster: label, result, stats, file, record });
    } finally {
      await forecaster.close();
    }
  }
  if (o.walkForward) {
    if (config.sizing.kind !== 'kelly') {
      notes.push(`the config sizes by ${config.sizing.kind}: the walk-forward candidates are the forecasters alone (--fractions are Kelly fractions, unused)`);
      log(`note: ${notes[notes.length - 1]}`);
    }
    const wf = runWalkForward(o, m, config, wfInputs, { funding });
    outputs.write(wf.file, JSON.stringify(wf.record));
    return { runs, options: o, notes, walkForward: wf };
  }
  if (names.length > 1) {
    outputs.write(join(o.out, 'compare.json'), JSON.stringify({ columns: runs.map((r) => ({ forecaster: r.forecaster, file: r.file, stats: r.record.stats, lookAhead: r.result.lookAhead })) }));
  }
  return { runs, options: o, notes };
}

/** A walk-forward run of `quantbook backtest --walk-forward`. */
export interface WalkForwardRun {
  result: WalkForwardResult;
  candidates: string[];
  /** Per fold: bar ranges as times, the candidate chosen on the training window, its out-of-sample stats. */
  record: Record<string, unknown>;
  file: string;
}

function checkWalkForward(o: BacktestCliOptions, config: BacktestConfig): void {
  if (o.strategy !== 'rebalance') throw new ConfigError('--walk-forward runs --strategy rebalance (Kelly every bar)', { key: '--strategy' });
  if (config.conventions === 'backtesting.py') throw new ConfigError('--walk-forward runs the default conventions', { key: '--conventions' });
}

/**
 * Walk-forward optimisation over the forecasters' signals: candidates are each forecaster at each
 * Kelly fraction (or with the config's sizing when it is not Kelly); on each fold the candidate
 * with the best objective on the training window (its last `horizon` bars purged) trades the
 * next test block, and the blocks are stitched into one out-of-sample curve (`walkForwardBacktest`).
 */
function runWalkForward(o: BacktestCliOptions, m: MarketArrays, config: BacktestConfig, inputs: Array<{ label: string; signals: Signals }>,
  options: { funding?: Record<string, FundingSeries> }): WalkForwardRun {
  if (inputs.length === 0) throw new ConfigError('--walk-forward needs a forecaster that does not see the future (not only the oracle)', { key: '--compare' });
  const T = m.ts.length;
  const trainSize = o.trainBars ?? Math.floor(T / 4);
  const folds0 = o.folds ?? (o.testBars === undefined ? 6 : undefined);
  const testSize = o.testBars ?? Math.floor((T - trainSize) / (folds0 ?? 6));
  if (trainSize + o.horizon >= T || testSize < 2) throw new ConfigError(`the ${T} bars do not hold a training window of ${trainSize} bars (${o.horizon} purged) and test blocks of ${testSize}`, { key: '--train-bars' });
  const all = walkForward(T, { trainSize, testSize, labelHorizon: o.horizon, window: o.window });
  if (folds0 !== undefined && all.length < folds0) throw new ConfigError(`${folds0} folds of ${testSize} test bars after ${trainSize} training bars need ${trainSize + folds0 * testSize} bars; the data has ${T}`, { key: '--folds' });
  const folds = folds0 === undefined ? all : all.slice(0, folds0);
  const fractions = o.fractions.split(',').map((f) => Number(f.trim()));
  if (fractions.some((f) => !(f > 0))) throw new ConfigError('--fractions is a comma list of positive Kelly fractions', { key: '--fractions', value: o.fractions });
  const kelly = config.sizing.kind === 'kelly';
  const candidates: Candidate[] = inputs.flatMap((c) => (kelly
    ? fractions.map((f) => ({ label: `${c.label} x ${f} Kelly`, signals: c.signals, config: { sizing: { ...config.sizing, fraction: f } } }))
    : [{ label: c.label, signals: c.signals }]));
  const objective = o.objective;
  const result = walkForwardBacktest({ market: m, signals: inputs[0].signals, baseConfig: config, candidates, folds, objective: (s) => s[objective], options });
  const iso = (i: number): string => new Date(m.ts[i]).toISOString();
  const record = {
    walkForward: { trainBars: trainSize, testBars: testSize, window: o.window, purgedBars: o.horizon, objective, candidates: candidates.map((c) => c.label) },
    folds: result.folds.map((f, i) => ({
      fold: i + 1,
      train: f.train.map((r) => ({ from: iso(r.start), to: iso(r.end - 1), bars: r.end - r.start })),
      test: { from: iso(f.test.start), to: iso(f.test.end - 1), bars: f.test.end - f.test.start },
      chosen: f.chosen,
      trainScores: Object.fromEntries(candidates.map((c, k) => [c.label, Number.isFinite(f.trainScores[k]) ? f.trainScores[k] : null])),
      testStats: f.testStats,
    })),
    stats: result.stats,
    equity: { ts: Array.from(result.ts, (t) => new Date(t).toISOString()), equity: Array.from(result.equity) },
  };
  return { result, candidates: candidates.map((c) => c.label), record, file: join(o.out, 'walkforward.json') };
}

/**
 * The text `quantbook backtest --walk-forward` prints: one line per fold (test block, the
 * candidate chosen on its training window, its out-of-sample return, Sharpe and drawdown),
 * then the stitched out-of-sample statistics.
 * @example formatWalkForward(run).split('\n')[0] // 'walk-forward: 6 folds, rolling training window of 1440 bars ...'
 */
export function formatWalkForward(run: WalkForwardRun): string {
  const w = run.record.walkForward as { trainBars: number; testBars: number; window: string; purgedBars: number; objective: string };
  const r = run.result;
  const head = `walk-forward: ${r.folds.length} folds, ${w.window} training window of ${w.trainBars} bars (last ${w.purgedBars} purged), test blocks of ${w.testBars} bars, chosen by ${w.objective} among ${run.candidates.length} candidates (${run.candidates.join(', ')})`;
  const rows: string[][] = [['fold', 'test from', 'test to', 'chosen', `train ${w.objective}`, 'return %', 'Sharpe', 'max DD %', 'trades']];
  const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));
  const tests = (run.record.folds as Array<{ test: { from: string; to: string } }>).map((f) => f.test);
  r.folds.forEach((f, i) => {
    rows.push([String(i + 1), tests[i].from.slice(0, 16), tests[i].to.slice(0, 16), f.chosen, f2(Math.max(...f.trainScores)), f2(f.testStats.totalReturnPct),
      f2(f.testStats.sharpe), f2(f.testStats.maxDrawdownPct), String(f.testStats.trades)]);
  });
  const widths = rows[0].map((_, j) => Math.max(...rows.map((x) => x[j].length)));
  const lines = rows.map((x) => x.map((c, j) => (j === 3 || j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
  return [head, ...lines, '', statsTable([{ label: 'out of sample, stitched', stats: r.stats }])].join('\n');
}

/**
 * The options with a best sampler config's setting filling what the flags leave unset (flags win):
 * samples, lookback, temperature, top-p, aggregate, and its model card, which `--forecaster`
 * left unset then runs.
 */
function withBestConfig(raw: Record<string, unknown>, best: BestConfigUse): Record<string, unknown> {
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const s = best.setting;
  return { forecaster: 'model', model: best.model, samples: s.samples, lookback: s.lookback, temperature: s.temperature, topP: s.topP, aggregate: s.aggregation, ...given };
}

function parseOptions(raw: Record<string, unknown>): BacktestCliOptions {
  const o = parseFlags(optionsSchema, raw, { prefix: 'invalid option: ', showValue: false });
  if (o.days !== undefined && (o.start !== undefined || o.end !== undefined)) {
    throw new ConfigError('give either --days or --start/--end, not both', { key: '--days' });
  }
  return o;
}

function compareList(o: BacktestCliOptions): readonly string[] {
  if (o.compare === undefined || o.compare === false) return [o.forecaster];
  const names = o.compare === true ? COMPARE_DEFAULT : o.compare.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!isForecasterName(n)) throw new ConfigError(`unknown forecaster "${n}" (use ${FORECASTERS.join(', ')}, or ensemble:a+b / mixture:a+b)`, { key: '--compare', value: n });
  }
  return names;
}

function loadConfig(o: BacktestCliOptions, fromFile: unknown): BacktestConfig {
  const input = fromFile as Record<string, unknown>;
  const config = resolveConfig({ ...input, ...(o.capital !== undefined ? { capital: o.capital } : {}), ...(o.class ? { defaultClass: o.class } : {}),
    ...(o.conventions ? { conventions: o.conventions } : {}) }, o.config);
  if (config.conventions === 'backtesting.py' && o.strategy === 'outlook') throw new ConfigError('--conventions backtesting.py applies to --strategy rebalance (all-in orders on each change of the forecast direction)', { key: '--conventions' });
  return config;
}

/** Loads and validates bars (file or folder; `loadValidBars`, as every command) into market arrays on one grid, keeping the asked symbols. */
function loadMarket(path: string, symbols: string[] | undefined, session: string): { market: MarketArrays; missingBars: Record<string, number> } {
  const market = marketFromBars(loadValidBars(path).bars, { symbols, session: session as SessionLike, name: symbolFromFileName(basename(path)), file: path });
  return { market, missingBars: Object.fromEntries(market.symbols.map((s, i) => [s, market.missingBars[i]])) };
}

/** The bar range that --start/--end or --days select. */
function barRange(ts: Float64Array, o: BacktestCliOptions): { start: number; end: number } {
  const parse = (text: string, key: string): number => {
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) throw new ConfigError('not a date (use ISO, e.g. 2018-01-15 or 2018-01-15T12:00Z)', { key, value: text });
    return ms;
  };
  let from = -Infinity;
  let to = Infinity;
  if (o.days !== undefined) from = ts[ts.length - 1] - o.days * DAY_MS;
  if (o.start !== undefined) from = parse(o.start, '--start');
  if (o.end !== undefined) to = parse(o.end, '--end');
  let start = 0;
  while (start < ts.length && ts[start] < from) start++;
  let end = start;
  while (end < ts.length && ts[end] < to) end++;
  if (end - start < 2) throw new ConfigError(`the selected period holds ${end - start} bars (data spans ${new Date(ts[0]).toISOString()} .. ${new Date(ts[ts.length - 1]).toISOString()})`, { key: '--start' });
  return { start, end };
}

/** Loads a funding series and assigns it to the run's perpetual. */
function loadFunding(path: string, symbols: readonly string[], config: BacktestConfig): Record<string, FundingSeries> {
  const perps = symbols.filter((s) => symbolClass(config, s) === 'perp');
  const named = symbolFromFileName(basename(path));
  const symbol = perps.length === 1 ? perps[0] : perps.find((s) => s === named);
  if (!symbol) throw new ConfigError(`funding file ${basename(path)} matches no perpetual among ${perps.length ? perps.join(', ') : 'the symbols (set --class perp)'}`, { key: '--funding', file: path });
  return { [symbol]: fundingToArrays(loadFundingRates(path)) };
}

/** Per funded symbol: the file and how far the series covers the bars of the run (see `fundingCoverage`). */
function fundingReport(funding: Record<string, FundingSeries>, file: string, ts: Float64Array): Record<string, { file: string; coverage: FundingCoverage }> {
  return Object.fromEntries(Object.entries(funding).map(([symbol, f]) => [symbol, { file, coverage: fundingCoverage(f, ts[0], ts[ts.length - 1]) }]));
}

function uncoveredText(symbol: string, c: FundingCoverage): string {
  return `${symbol}: the funding series (${c.from} .. ${c.to}) lacks ${c.uncoveredFundingTimes} of the ${c.fundingTimes} funding times the bars span; no funding was charged for them`;
}

/** The extra table rows of a run: limits, kill switches, fallbacks, Monte Carlo, funding coverage. */
function extraRows(run: BacktestRun): Record<string, string> {
  const r = run.result;
  const c = r.limits.counts;
  const kills = Object.entries(killEventCounts(r));
  const mc = run.record.monteCarlo as { bars: { finalEquity: { p05: number; p50: number }; ruinProbability: number } | null } | null;
  const meta = run.record.forecast as { fallbackWindows: number; noForecast: number };
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    'binds cap/gross/close/long/min/cash': [c.perSymbolCap, c.grossIntraday, c.grossAtClose, c.longOnly, c.minTrade, c.cash].join('/'),
    'kill events': kills.length ? kills.map(([k, n]) => `${k} ${n}`).join(', ') : 'none',
    'no quote / no forecast / cancelled': `${sum(r.fallbacks.missingQuotes)} / ${sum(r.fallbacks.noForecast)} / ${r.fallbacks.cancelledOrders}`,
    'forecaster fallback windows': String(meta.fallbackWindows),
    'MC bars: p05 / p50 final equity': mc?.bars ? `${Math.round(mc.bars.finalEquity.p05)} / ${Math.round(mc.bars.finalEquity.p50)}` : '-',
    'MC bars: P(ruin: -50%)': mc?.bars ? mc.bars.ruinProbability.toFixed(3) : '-',
    'look-ahead (oracle)': r.lookAhead ? 'YES' : 'no',
    ...fundingRows(run.record.funding as Record<string, { coverage: FundingCoverage }> | undefined),
  };
}

/** One table row per funded symbol: uncovered of expected funding times, and the series' span. */
function fundingRows(funding: Record<string, { coverage: FundingCoverage }> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(funding ?? {}).map(([symbol, { coverage: c }]) => [
      `funding times uncovered: ${symbol}`,
      `${c.uncoveredFundingTimes} of ${c.fundingTimes}${c.uncoveredFundingTimes > 0 ? ` NOT CHARGED (series ${c.from.slice(0, 16)} ..)` : ''}`,
    ]),
  );
}

/**
 * Registers `quantbook backtest`.
 * @example registerBacktestCommands(program) // adds `quantbook backtest`
 */
export function registerBacktestCommands(program: Command): void {
  program
    .command('backtest')
    .description('backtest Kelly-sized positions from per-bar forecasts under leverage and exposure limits; --compare runs several forecasters side by side')
    .requiredOption('--data <path>', 'bars file or folder of per-symbol files (Feather/IPC, Parquet, CSV, kline JSON)')
    .option('--symbols <names...>', 'symbols to trade (default: all in the data)')
    .option('--start <date>', 'first bar time (ISO date, UTC); bars before it still feed forecast windows')
    .option('--end <date>', 'end (exclusive)')
    .option('--days <n>', 'the last n days of the data (instead of --start/--end)')
    .option('--capital <amount>', `starting cash, above 0 and at most ${MAX_CAPITAL} (default 100000, or the config's)`)
    .option('--forecaster <name>', `${FORECASTERS.join(', ')}, or an ensemble: ensemble:a+b*2 (quantile averaging), mixture:a+b (oracle sees the future: an upper bound, flagged); default historical, or model with a best sampler --config`)
    .option('--model <card>', 'model card for --forecaster model (default models/qb-quantile-s.json, or the best sampler config\'s)')
    .option('--compare [names]', `comma list of forecasters to run side by side (default: ${COMPARE_DEFAULT.join(',')})`)
    .option('--config <file>', 'backtest config, YAML or JSON (sizing, limits, classes, costs, interest, kill switches); or a best sampler config (configs/best/SYM.json, told apart by its schema tag): its model, samples, lookback, temperature, top-p and aggregate, which flags override (its ensemble is not used: a note says so)')
    .option('--class <name>', `instrument class of every symbol: ${INSTRUMENT_CLASSES.join(', ')} (else the config's instruments/defaultClass)`)
    .option('--session <name>', 'calendar for session ends and daily loss: 24x7, us-rth, us-ext, cn-a (default from the class)')
    .option('--funding <file>', 'funding-rate series of the perpetual (rate in `rate`, `funding_rate` or `open`)')
    .option('--horizon <bars>', 'forecast horizon in bars', '30')
    .option('--samples <n>', 'sampled paths per forecast (0: use quantiles; default 0)')
    .option('--temperature <t>', 'sampling temperature, autoregressive models (default the card\'s, else 1)')
    .option('--top-p <p>', 'nucleus sampling mass in (0, 1], autoregressive models (default the card\'s, else 1)')
    .option('--top-k <k>', 'keep the k most likely tokens, autoregressive models (default off)')
    .option('--lookback <bars>', 'closes per forecast window (default and most: the model\'s context length)')
    .option('--aggregate <name>', 'with --samples: point aggregate of the paths that gives mu: mean (default), median, trimmed_mean_P, winsorized_mean_P, quantile_Q')
    .option('--strategy <name>', 'rebalance (Kelly every bar) or outlook (enter on pUp and a mean-reversion z-score, exit after the horizon or at the stop)', 'rebalance')
    .option('--p-up-min <p>', 'outlook: enter when pUp >= p', '0.6')
    .option('--z-max <z>', 'outlook: enter when the z-score of the close is <= z', '-1')
    .option('--z-window <bars>', 'outlook: z-score window', '20')
    .option('--stop <fraction>', 'outlook: stop below the entry fill (0: none)', '0.01')
    .option('--mc <n>', 'Monte Carlo paths (trade and stationary block bootstrap; 0: skip)', '1000')
    .option('--seed <n>', 'seed of sampling and Monte Carlo', '1')
    .option('--device <device>', 'auto, cpu or cuda (models)', 'auto')
    .option('--calibrate <how>', 'none, or conformal: each forecaster wrapped in adaptive conformal inference, one state per symbol (no look-ahead)', 'none')
    .requiredOption('--out <dir>', 'folder for the results JSON (config, stats, trades, equity curve, limit counts, fallbacks)')
    .option('--json', 'print the results as JSON instead of the table')
    .option('--conventions <name>', 'default, or backtesting.py: all-in orders on each change of the forecast direction, sized at the next open from the cash after closing, whole lots, open trades closed at the end, geometric-mean daily statistics (see the README table)')
    .option('--walk-forward', 'walk-forward optimisation: on each fold choose among the forecasters (--forecaster or --compare) x --fractions by --objective on the training window, trade the next test block; prints each fold\'s out-of-sample stats and the stitched ones; writes walkforward.json (no Monte Carlo: --mc is not used)')
    .option('--folds <n>', 'walk-forward: test blocks (default 6, or as many as fit --test-bars)')
    .option('--train-bars <n>', 'walk-forward: training window in bars (default a quarter of the bars); its last --horizon bars are purged')
    .option('--test-bars <n>', 'walk-forward: bars per test block (default the bars after the first training window / --folds)')
    .option('--window <kind>', 'walk-forward: rolling (default) or expanding training window')
    .option('--fractions <list>', 'walk-forward: Kelly fractions tried per forecaster (default 0.25,0.5,1)')
    .option('--objective <stat>', `walk-forward: what the training window maximises: ${WF_OBJECTIVES.join(', ')} (default sharpe)`)
    .addHelpText(
      'after',
      '\nStatistics: Sharpe = mean/std (ddof 1) of per-bar returns x sqrt(bars per year); Sortino with downside deviation over all bars;\n' +
        'CAGR over calendar time; profit factor per closed trade (and per bar). Bars per year from the bar spacing and the class calendar.\n' +
        'Examples:\n' +
        '  quantbook backtest --data ../shared/data/real/crypto-5m --class crypto --compare --out out/crypto\n' +
        '  quantbook backtest --data ../shared/data/real/perp/XRP_USDT_USDT-5m-futures.feather --class perp \\\n' +
        '    --funding ../shared/data/real/perp/XRP_USDT_USDT-8h-funding_rate.feather --compare historical,trend,oracle --out out/perp\n' +
        '  quantbook backtest --data ../shared/data/real/crypto-5m --class crypto --compare historical,trend --walk-forward --folds 6 --out out/wf',
    )
    .action(async (opts: Record<string, unknown>) => {
      const started = new Date();
      const { runs, options, walkForward: wf } = await runBacktestCli(opts, (line) => process.stderr.write(`${line}\n`));
      const { commandRow } = await import('../catalogue/rows');
      await addToCatalogue(() => (wf
        ? [commandRow({
          command: 'backtest', argv: process.argv.slice(2), started, parameters: { ...options, walkForward: true }, records: numbersOf(wf.result.stats),
          dataPath: options.data, extraData: [options.funding], outputs: [wf.file],
        })]
        : runs.map((r) => commandRow({
          command: 'backtest', argv: process.argv.slice(2), started, parameters: { ...options, forecaster: r.forecaster }, records: numbersOf(r.stats),
          dataPath: options.data, extraData: [options.funding], outputs: [r.file],
        }))));
      if (wf) {
        process.stdout.write(options.json ? `${JSON.stringify(wf.record)}\n` : `${formatWalkForward(wf)}\nresults: ${wf.file}\n`);
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(runs.length === 1 ? runs[0].record : { runs: runs.map((r) => r.record) })}\n`);
        return;
      }
      const r0 = runs[0].result;
      process.stdout.write(
        `${r0.symbols.length} symbols (${r0.classes[0]}${new Set(r0.classes).size > 1 ? ', mixed' : ''}), ${r0.ts.length} bars ${new Date(r0.ts[0]).toISOString()} .. ${new Date(r0.ts[r0.ts.length - 1]).toISOString()}, ` +
          `capital ${r0.config.capital}, sizing ${r0.config.sizing.kind}, strategy ${options.strategy}, horizon ${options.horizon}\n`,
      );
      process.stdout.write(`${statsTable(runs.map((r) => ({ label: r.forecaster, stats: r.stats, extra: extraRows(r) })))}\n`);
      process.stdout.write(`results: ${runs.map((r) => r.file).join(', ')}\n`);
    });
}
