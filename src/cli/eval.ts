/**
 * `quantbook eval`: walk-forward evaluation of a model card or a baseline over one
 * series or a folder of series, printed as a table or one JSON object.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { dict } from '../core/dict';
import { ConfigError } from '../core/errors';
import { basename } from 'node:path';
import { barsToArraysBySymbol, fillGapsArrays, inferIntervalMs, loadValidBars, symbolFromFileName } from '../data';
import {
  CALIBRATIONS,
  EvalAccumulator,
  FORECASTER_NAMES,
  compareForecasters,
  evaluateWalkForward,
  formatLeaderboard,
  openModel,
  parseAggregate,
  withCalibration,
  type EvalMetrics,
  type Forecaster,
  type Leaderboard,
  type SeriesBars,
} from '../forecast';
import { writeFileAtomic } from '../core/output';
import { crpsByHorizonFigure, figureToHtml, leaderboardTableFigure } from '../plot';
import { addToCatalogue, numbersOf } from './catalogue';
import { bestConfigFrom, bestConfigNotes, type BestConfigUse } from './bestConfigArg';
import { readConfigFile } from './configFile';
import { int, parseFlags } from './options';

const evalOptionsSchema = z.object({
  data: z.string().min(1),
  model: z.string().min(1).optional(),
  compare: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  horizon: int(1),
  samples: int(1).default(100),
  temperature: z.coerce.number().min(0).optional(),
  topP: z.coerce.number().gt(0).max(1).optional(),
  topK: int(0).optional(),
  lookback: int(1).optional(),
  aggregate: z.string().default('median'),
  every: int(1).default(1),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  threads: int(1).optional(),
  kvCache: z.enum(['auto', 'cache', 'recompute']).default('auto'),
  samplesPerBatch: int(1).optional(),
  fallback: z.enum(FORECASTER_NAMES).optional(),
  seed: z.coerce.number().int().default(0),
  calibrate: z.enum(CALIBRATIONS).default('none'),
  json: z.boolean().default(false),
  config: z.string().min(1).optional(),
});

export type EvalCliOptions = z.infer<typeof evalOptionsSchema>;

/** One series' closes on a regular bar grid: missing bars are NaN, never filled with a price. */
export interface GridSeries {
  symbol: string;
  closes: Float64Array;
  /** Bars on the same grid (NaN where filled), for models that read them (Kronos). */
  bars: SeriesBars;
  missingBars: number;
}

/**
 * Loads and validates bars (file or folder; `loadValidBars`, as every command) and puts each
 * symbol's closes on its bar grid, NaN where a bar is missing.
 * @throws DataError from the loaders, for bars that fail validation, or for a gap too long to
 *   put on the grid (see `fillGapsArrays`).
 * @example loadGridSeries('../shared/data/real/crypto-5m')[0].symbol // 'ADA_BTC'
 */
export function loadGridSeries(path: string): GridSeries[] {
  const out: GridSeries[] = [];
  for (const [symbol, arrays] of barsToArraysBySymbol(loadValidBars(path).bars)) {
    const barMs = inferIntervalMs(arrays.ts);
    if (barMs === undefined) throw new ConfigError('series has fewer than two bars', { file: path, symbol });
    const filled = fillGapsArrays(arrays, barMs, '24x7', { file: path });
    const observed = (x: Float64Array) => Float64Array.from(x, (v, i) => (filled.filled[i] ? NaN : v));
    const closes = observed(filled.close);
    const bars = { ts: filled.ts, open: observed(filled.open), high: observed(filled.high), low: observed(filled.low), volume: observed(filled.volume) };
    out.push({ symbol: symbol || arrays.symbol || symbolFromFileName(basename(path)), closes, bars, missingBars: filled.counts.filled });
  }
  return out;
}

/**
 * Runs the evaluation the options describe; resolves to the pooled metrics and each series'.
 * @example (await runEval({ data: 'bars.feather', model: 'naive', horizon: 30, every: 48 })).pooled.n
 */
export async function runEval(raw: Record<string, unknown>): Promise<{
  pooled: EvalMetrics;
  series: Record<string, EvalMetrics & { missingBars: number }>;
  options: EvalCliOptions;
  notes: string[];
}> {
  const best = typeof raw.config === 'string' ? readBestConfigArg(raw.config) : null;
  // A best config fills what the flags leave unset: flags win.
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const merged = best
    ? { model: best.model, samples: best.setting.samples, aggregate: best.setting.aggregation, lookback: best.setting.lookback,
      temperature: best.setting.temperature, topP: best.setting.topP, ...given }
    : raw;
  const o = parseFlags(evalOptionsSchema, merged, { prefix: 'invalid option: ', showValue: false });
  if (o.model === undefined) throw new ConfigError('give --model (one forecaster), --config (a best config naming one) or --compare (a leaderboard)', { key: '--model' });
  if (o.out !== undefined) throw new ConfigError('--out writes the leaderboard page: use it with --compare', { key: '--out', value: o.out });
  const notes = best ? bestConfigNotes(best, 'quantbook eval', o.horizon) : [];
  // Parsed before the model opens, so a bad --aggregate fails fast.
  const aggregate = parseAggregate(o.aggregate);
  const opened = await openModel(o.model, {
    device: o.device,
    threads: o.threads,
    fallback: o.fallback,
    sampling: {
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.topK !== undefined ? { topK: o.topK } : {}),
      ...(o.topP !== undefined ? { topP: o.topP } : {}),
      ...(o.samplesPerBatch !== undefined ? { samplesPerBatch: o.samplesPerBatch } : {}),
      kvCache: o.kvCache,
    },
  });
  // The conformal layer keeps one state per series (stream = symbol), learning only from outcomes already seen.
  const forecaster = withCalibration(opened, o.calibrate);
  const pooled = new EvalAccumulator(aggregate);
  // Keyed by symbol (user text): no prototype, so `constructor` or `__proto__` are plain keys.
  const series = dict<EvalMetrics & { missingBars: number }>();
  try {
    for (const s of loadGridSeries(o.data)) {
      const acc = await evaluateWalkForward(forecaster, s.closes, {
        horizon: o.horizon,
        lookback: o.lookback,
        every: o.every,
        samples: o.samples,
        seed: o.seed,
        aggregate: o.aggregate,
        stream: s.symbol,
        bars: s.bars,
      });
      series[s.symbol] = { ...acc.result(), missingBars: s.missingBars };
      pooled.merge(acc);
    }
  } finally {
    await forecaster.close();
  }
  return { pooled: pooled.result(), series, options: o, notes };
}

/** `eval --config`: only a best sampler config (eval has no config of its own). */
function readBestConfigArg(file: string): BestConfigUse {
  const best = bestConfigFrom(readConfigFile(file, file.endsWith('.json') ? 'json' : 'yaml'), file);
  if (!best) throw new ConfigError('eval --config takes a best sampler config (schema quantbook.sampler-config/1, e.g. configs/best/SYM.json)', { file, key: 'schema' });
  return best;
}

/**
 * `quantbook eval --compare a,b,...`: every forecaster on the same origins in one pass, ranked by
 * CRPS with HAC standard errors and Diebold-Mariano tests against the best; with `out`, an HTML
 * page (leaderboard table, CRPS per step) written atomically.
 * @throws ConfigError on fewer than two names or an unknown one; ModelError from the forecasters.
 * @example (await runEvalCompare({ data: 'crypto-5m', compare: 'naive,garch', horizon: 6, every: 48 })).board.rows[0].name
 */
export async function runEvalCompare(raw: Record<string, unknown>): Promise<{ board: Leaderboard; options: EvalCliOptions; html: string | null }> {
  const o = parseFlags(evalOptionsSchema, raw, { prefix: 'invalid option: ', showValue: false });
  const names = (o.compare ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length < 2) throw new ConfigError('--compare needs at least two forecasters, comma-separated', { key: '--compare', value: o.compare });
  if (o.model !== undefined) throw new ConfigError('give either --model or --compare, not both', { key: '--model', value: o.model });
  parseAggregate(o.aggregate);
  const series = loadGridSeries(o.data);
  const entries: { name: string; forecaster: Forecaster }[] = [];
  try {
    for (const name of names) {
      const f = await openModel(name, { device: o.device, threads: o.threads, fallback: o.fallback, sampling: { kvCache: o.kvCache } });
      entries.push({ name: o.calibrate === 'conformal' ? `${name}+conformal` : name, forecaster: withCalibration(f, o.calibrate) });
    }
    const board = await compareForecasters(entries, series, { horizon: o.horizon, lookback: o.lookback, every: o.every, samples: o.samples, seed: o.seed,
      aggregate: o.aggregate });
    let html: string | null = null;
    if (o.out) {
      const title = `quantbook eval --compare: ${basename(o.data)}, horizon ${o.horizon}, every ${o.every}`;
      html = figureToHtml([leaderboardTableFigure(board), crpsByHorizonFigure(board)], title, {
        description: `${board.origins} origins per forecaster on ${series.map((s) => s.symbol).join(', ')}; ${o.samples} paths each. ${formatLeaderboard(board).split('\n').slice(-2).join(' ')}`,
      });
      writeFileAtomic(o.out, html);
    }
    return { board, options: o, html };
  } finally {
    for (const e of entries) await e.forecaster.close();
  }
}

/** Table columns: header, field, decimals (null: 4 significant digits, for price units). */
const COLUMNS: [string, keyof EvalMetrics, number | null][] = [
  ['n', 'n', 0],
  ['pct_ret_mae', 'pctReturnMae', 6],
  ['mae', 'mae', null],
  ['mase', 'mase', 3],
  ['wql', 'wql', 6],
  ['crps', 'crps', null],
  ['wcrps', 'wcrps', 6],
  ['cov80', 'coverage80', 3],
  ['p50_ms', 'latencyMsP50', 2],
  ['p95_ms', 'latencyMsP95', 2],
  ['fallbacks', 'fallbacks', 0],
];

function formatValue(v: unknown, digits: number | null): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  return digits === null ? v.toPrecision(4) : v.toFixed(digits);
}

/**
 * The text table of `quantbook eval`: one row per series and a pooled row.
 * @example formatEvalTable(await runEval(opts)).split('\n')[0] // 'model naive, horizon 30, ...'
 */
export function formatEvalTable(result: Awaited<ReturnType<typeof runEval>>): string {
  const rows: string[][] = [['series', ...COLUMNS.map((c) => c[0])]];
  for (const [name, m] of Object.entries(result.series)) rows.push([name, ...COLUMNS.map(([, k, d]) => formatValue(m[k], d))]);
  rows.push(['all', ...COLUMNS.map(([, k, d]) => formatValue(result.pooled[k], d))]);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const lines = rows.map((r) => r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '));
  const o = result.options;
  const head = `model ${o.model ?? ''}, horizon ${o.horizon}, every ${o.every}, samples ${o.samples}, aggregate ${o.aggregate}, device ${result.pooled.device}${o.calibrate !== 'none' ? `, calibrate ${o.calibrate}` : ''}`;
  const notes = `mae and crps in price units; wql and wcrps relative to sum |y|; skipped origins with a missing future bar: ${result.pooled.skippedMissingFuture}`;
  return [head, ...lines, notes].join('\n');
}

/**
 * Registers `quantbook eval`.
 * @example registerEvalCommands(program) // adds `quantbook eval`
 */
export function registerEvalCommands(program: Command): void {
  program
    .command('eval')
    .description('walk-forward evaluation of a model or baseline: forecast h bars ahead from data up to t only, then score')
    .requiredOption('--data <path>', 'bars file or folder of per-symbol files (Feather/IPC, Parquet, CSV, kline JSON)')
    .option('--model <card|baseline>', `model card (.json), baseline or volatility model: ${FORECASTER_NAMES.join(', ')}; or an ensemble: ensemble:a+b*2, mixture:a+b (required unless --config names one or --compare is given)`)
    .option('--compare <names>', 'comma list of forecasters (as --model takes them) scored on the same origins: prints a leaderboard')
    .option('--out <file.html>', 'with --compare: also write the leaderboard and CRPS per step as an HTML page')
    .requiredOption('--horizon <bars>', 'bars ahead (h)')
    .option('--samples <n>', 'sampled paths per forecast (CRPS, aggregates) (default 100)')
    .option('--temperature <t>', 'sampling temperature of autoregressive models (0 = greedy)')
    .option('--top-p <p>', 'nucleus sampling mass in (0, 1]')
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)')
    .option('--lookback <bars>', 'closes per window (default: the model card context, 512 for baselines)')
    .option('--aggregate <name>', 'point forecast from samples: mean, median, trimmed_mean_P, winsorized_mean_P, quantile_Q (default median)')
    .option('--config <file.json>', 'a best sampler config (configs/best/SYM.json from notebooks/05-sweep): its model, samples, aggregate, lookback, temperature and top-p; flags override them; its ensemble is not used (a note says so)')
    .option('--every <k>', 'forecast at every k-th bar', '1')
    .option('--device <device>', 'auto, cpu or cuda', 'auto')
    .option('--threads <n>', 'onnxruntime intra-op threads')
    .option('--kv-cache <mode>', 'autoregressive steps: auto, cache or recompute', 'auto')
    .option('--samples-per-batch <n>', 'paths decoded together per ONNX run')
    .option('--fallback <baseline>', 'baseline used (and counted) when the model is missing, fails or a window is too short')
    .option('--seed <n>', 'random seed (forecast at bar t uses seed + t)', '0')
    .option('--calibrate <how>', 'none, or conformal: adaptive conformal inference per quantile level, online per series (no look-ahead)', 'none')
    .option('--json', 'print one JSON object instead of the table')
    .addHelpText(
      'after',
      '\nMetrics: pct_return_mae (|predicted - realised| h-step return, relative to the last close), MAE, MASE (m = 1),\n' +
        'WQL (levels 0.1..0.9), CRPS from samples (exact sorted form), 80% central-interval coverage, latency percentiles.\n' +
        'Example: quantbook eval --data ../shared/data/real/crypto-5m --model models/qb-ar-s.json --horizon 30 --every 48 --json',
    )
    .action(async (opts: Record<string, unknown>) => {
      const started = new Date();
      if (opts.compare !== undefined) {
        const { board, options } = await runEvalCompare(opts);
        if (options.json) process.stdout.write(`${JSON.stringify({ horizon: board.horizon, every: board.every, origins: board.origins, hacLag: board.hacLag, calibrate: options.calibrate, rows: board.rows })}\n`);
        else process.stdout.write(`${formatLeaderboard(board)}\n${options.out ? `wrote ${options.out}\n` : ''}`);
        const { commandRow } = await import('../catalogue/rows');
        // One row per compared forecaster, so `runs list --sort record.crps` ranks them across runs.
        await addToCatalogue(() => board.rows.map((r, rank) => commandRow({
          command: 'eval', argv: process.argv.slice(2), started, parameters: { ...options, model: r.name },
          records: { ...numbersOf(r.pooled), rank: rank + 1, crpsSe: r.crps.se, ...(r.dm ? { dmStat: r.dm.stat, dmPValue: r.dm.pValue } : {}) },
          dataPath: typeof opts.data === 'string' ? opts.data : undefined, outputs: options.out ? [options.out] : [],
        })));
        return;
      }
      const result = await runEval(opts);
      for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
      if (result.options.json) {
        const { options, pooled, series } = result;
        const sampler = { samples: options.samples, aggregate: options.aggregate, lookback: options.lookback ?? null,
          temperature: options.temperature ?? null, topP: options.topP ?? null, topK: options.topK ?? null };
        process.stdout.write(`${JSON.stringify({ model: options.model, horizon: options.horizon, every: options.every, calibrate: options.calibrate, sampler, ...(result.notes.length ? { notes: result.notes } : {}), ...pooled, series })}\n`);
      } else process.stdout.write(`${formatEvalTable(result)}\n`);
      const { commandRow } = await import('../catalogue/rows');
      await addToCatalogue(() => [commandRow({
        command: 'eval', argv: process.argv.slice(2), started, parameters: result.options, records: numbersOf(result.pooled),
        dataPath: typeof opts.data === 'string' ? opts.data : undefined, outputs: [],
      })]);
    });
}
