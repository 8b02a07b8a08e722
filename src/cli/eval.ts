/**
 * `quantbook eval`: walk-forward evaluation of a model card or a baseline over one
 * series or a folder of series, printed as a table or one JSON object.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../core/errors';
import { basename } from 'node:path';
import { barsToArraysBySymbol, fillGapsArrays, inferIntervalMs, loadBars, symbolFromFileName } from '../data';
import { BASELINE_NAMES, EvalAccumulator, evaluateWalkForward, openModel, parseAggregate, type EvalMetrics } from '../forecast';
import { bestConfigFrom, bestConfigNotes, type BestConfigUse } from './bestConfigArg';
import { readConfigFile } from './configFile';
import { int, parseFlags } from './options';

const evalOptionsSchema = z.object({
  data: z.string().min(1),
  model: z.string().min(1),
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
  fallback: z.enum(BASELINE_NAMES).optional(),
  seed: z.coerce.number().int().default(0),
  json: z.boolean().default(false),
  config: z.string().min(1).optional(),
});

export type EvalCliOptions = z.infer<typeof evalOptionsSchema>;

/** One series' closes on a regular bar grid: missing bars are NaN, never filled with a price. */
export interface GridSeries {
  symbol: string;
  closes: Float64Array;
  missingBars: number;
}

/**
 * Loads bars (file or folder) and puts each symbol's closes on its bar grid, NaN where a bar is missing.
 * @throws DataError from the loaders.
 * @example loadGridSeries('../shared/data/real/crypto-5m')[0].symbol // 'ADA_BTC'
 */
export function loadGridSeries(path: string): GridSeries[] {
  const out: GridSeries[] = [];
  for (const [symbol, arrays] of barsToArraysBySymbol(loadBars(path))) {
    const barMs = inferIntervalMs(arrays.ts);
    if (barMs === undefined) throw new ConfigError('series has fewer than two bars', { file: path, symbol });
    const filled = fillGapsArrays(arrays, barMs, '24x7');
    const closes = Float64Array.from(filled.close, (c, i) => (filled.filled[i] ? NaN : c));
    out.push({ symbol: symbol || arrays.symbol || symbolFromFileName(basename(path)), closes, missingBars: filled.counts.filled });
  }
  return out;
}

/**
 * Runs the evaluation the options describe; resolves to the pooled metrics and each series'.
 * @example (await runEval({ data: 'bars.feather', model: 'naive', horizon: 30, every: 48 })).pooled.n
 */
export async function runEval(raw: Record<string, unknown>): Promise<{ pooled: EvalMetrics; series: Record<string, EvalMetrics & { missingBars: number }>; options: EvalCliOptions; notes: string[] }> {
  const best = typeof raw.config === 'string' ? readBestConfigArg(raw.config) : null;
  // A best config fills what the flags leave unset: flags win.
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const merged = best
    ? { model: best.model, samples: best.setting.samples, aggregate: best.setting.aggregation, lookback: best.setting.lookback, temperature: best.setting.temperature, topP: best.setting.topP, ...given }
    : raw;
  const o = parseFlags(evalOptionsSchema, merged, { prefix: 'invalid option: ', showValue: false });
  const notes = best ? bestConfigNotes(best, 'quantbook eval', o.horizon) : [];
  // Parsed before the model opens, so a bad --aggregate fails fast.
  const aggregate = parseAggregate(o.aggregate);
  const forecaster = await openModel(o.model, {
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
  const pooled = new EvalAccumulator(aggregate);
  const series: Record<string, EvalMetrics & { missingBars: number }> = {};
  try {
    for (const s of loadGridSeries(o.data)) {
      const acc = await evaluateWalkForward(forecaster, s.closes, {
        horizon: o.horizon,
        lookback: o.lookback,
        every: o.every,
        samples: o.samples,
        seed: o.seed,
        aggregate: o.aggregate,
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
  const head = `model ${o.model}, horizon ${o.horizon}, every ${o.every}, samples ${o.samples}, aggregate ${o.aggregate}, device ${result.pooled.device}`;
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
    .option('--model <card|baseline>', `model card (.json) or baseline: ${BASELINE_NAMES.join(', ')} (required unless --config names one)`)
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
    .option('--json', 'print one JSON object instead of the table')
    .addHelpText(
      'after',
      '\nMetrics: pct_return_mae (|predicted - realised| h-step return, relative to the last close), MAE, MASE (m = 1),\n' +
        'WQL (levels 0.1..0.9), CRPS from samples (exact sorted form), 80% central-interval coverage, latency percentiles.\n' +
        'Example: quantbook eval --data ../shared/data/real/crypto-5m --model models/qb-ar-s.json --horizon 30 --every 48 --json',
    )
    .action(async (opts: Record<string, unknown>) => {
      const result = await runEval(opts);
      for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
      if (result.options.json) {
        const { options, pooled, series } = result;
        const sampler = { samples: options.samples, aggregate: options.aggregate, lookback: options.lookback ?? null, temperature: options.temperature ?? null, topP: options.topP ?? null, topK: options.topK ?? null };
        process.stdout.write(`${JSON.stringify({ model: options.model, horizon: options.horizon, every: options.every, sampler, ...(result.notes.length ? { notes: result.notes } : {}), ...pooled, series })}\n`);
      } else process.stdout.write(`${formatEvalTable(result)}\n`);
    });
}
