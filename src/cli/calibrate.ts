/**
 * `quantbook calibrate`: reliability table and scores of (probability, outcome)
 * pairs from a CSV or Parquet file, optional recalibration with honest
 * out-of-sample after-scores, and the reliability diagram as HTML.
 */
import { statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors';
import { fsProblem } from '../core/fs';
import { checkOutputDir, writeFileAtomic } from '../core/output';
import {
  applyCalibrator,
  calibrationSummary,
  BIN_STRATEGIES,
  CALIBRATION_METHODS,
  consistencyBands,
  fitCalibrator,
  reliabilityBins,
  scoresOf,
  walkForwardRecalibration,
  type Calibrator,
  type CalibrationSummary,
  type ReliabilityTable,
} from '../calibration';
import { figureToHtml } from '../plot/html';
import { reliabilityFigure, type ReliabilitySeries } from '../plot/calibration';
import { flagOf, int, parseFlags } from './options';

const optionsSchema = z.object({
  input: z.string().min(1),
  probCol: z.string().min(1),
  outcomeCol: z.string().min(1),
  bins: int(1),
  strategy: z.enum(['uniform', 'quantile']),
  method: z.enum(CALIBRATION_METHODS).optional(),
  plattInput: z.enum(['logit', 'probability']),
  evaluate: z.enum(['both', 'walk-forward', 'in-sample']),
  minTrain: int(1).optional(),
  block: int(1).optional(),
  gap: int(0),
  rolling: int(1).optional(),
  resamples: z.union([z.literal('auto'), int(1)]),
  seed: z.coerce.number().int(),
  json: z.boolean().optional(),
  out: z.string().min(1).optional(),
});

/** Parsed and checked options of `quantbook calibrate`. */
export type CalibrateOptions = z.infer<typeof optionsSchema>;

function parseOptions(raw: Record<string, unknown>): CalibrateOptions {
  return parseFlags(optionsSchema, raw, { prefix: (flag) => `invalid ${flag}: ` });
}

/** Two numeric columns of a CSV or Parquet file as Float64Arrays (booleans become 0/1). */
export async function readForecastColumns(file: string, probCol: string, outcomeCol: string): Promise<{ p: Float64Array; y: Float64Array }> {
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
  } catch (err) {
    throw new DataError(fsProblem(err), { file });
  }
  if (isDir) throw new DataError('is a folder, expected a file (.csv or .parquet)', { file });
  const ext = extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.parquet') throw new DataError('input must be a .csv or .parquet file', { file, value: ext });
  // Loaded here, not at the top, so that the CLI's other commands and --help do not pay for the native module.
  const pl = await import('nodejs-polars');
  let df: import('nodejs-polars').DataFrame;
  try {
    df = ext === '.csv' ? pl.readCSV(file) : pl.readParquet(file);
  } catch (err) {
    throw new DataError(`cannot read file: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { file }, { cause: err });
  }
  // A header without rows reads as text columns; say what is wrong, not that the type is.
  if (df.height === 0) throw new DataError(`no rows: the file has a header (${df.columns.join(', ')}) but no data rows`, { file });
  const column = (name: string): Float64Array => {
    if (!df.columns.includes(name)) {
      throw new DataError(`column not found (columns: ${df.columns.join(', ')})`, { file, column: name });
    }
    const s = df.getColumn(name);
    const dtype = String(s.dtype);
    if (!/Float|Int|Bool/.test(dtype)) throw new DataError(`column is not numeric (${dtype})`, { file, column: name });
    const values = s.cast(pl.Float64).toArray() as Array<number | null>;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null) throw new DataError('missing value', { file, column: name, row: i });
      out[i] = v;
    }
    return out;
  };
  return { p: column(probCol), y: column(outcomeCol) };
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function fmt(v: number, digits = 4): string {
  return Number.isNaN(v) ? '-' : v.toFixed(digits);
}

function tableText(t: ReliabilityTable): string {
  const lines = [`${pad('bin', 4)}  ${pad('range', 16)}  ${pad('count', 8)}  ${pad('mean p', 7)}  ${pad('observed', 8)}  95% CI`];
  for (let b = 0; b < t.count.length; b++) {
    const range = `${b === 0 ? '[' : '('}${t.edges[b].toFixed(3)}, ${t.edges[b + 1].toFixed(3)}]`;
    const ci = t.count[b] > 0 ? `[${fmt(t.ciLow[b])}, ${fmt(t.ciHigh[b])}]` : 'empty';
    lines.push(`${pad(String(b + 1), 4)}  ${pad(range, 16)}  ${pad(String(t.count[b]), 8)}  ${pad(fmt(t.meanPredicted[b]), 7)}  ${pad(fmt(t.observed[b]), 8)}  ${ci}`);
  }
  return lines.join('\n');
}

function scoresText(s: CalibrationSummary): string {
  return [
    `  Brier      ${fmt(s.brier, 6)} = REL ${fmt(s.reliability, 6)} - RES ${fmt(s.resolution, 6)} + UNC ${fmt(s.uncertainty, 6)} + WBV ${fmt(s.withinBinVariance, 6)} - WBC ${fmt(s.withinBinCovariance, 6)}`,
    `  log loss   ${fmt(s.logLoss, 6)} nats (forecasts clipped to [${s.logLossClip}, 1 - ${s.logLossClip}]; ${s.logLossClipped} clipped)`,
    `  ECE        ${fmt(s.ece, 6)} (equal-mass ECE ${fmt(s.eceEqualMass, 6)})`,
    `  MCE        ${fmt(s.mce, 6)}`,
    `  base rate  ${fmt(s.baseRate, 6)} (${s.n} forecasts)`,
  ].join('\n');
}

function compareText(before: CalibrationSummary, after: CalibrationSummary): string {
  const rows: Array<[string, number, number]> = [
    ['Brier', before.brier, after.brier],
    ['log loss', before.logLoss, after.logLoss],
    ['ECE', before.ece, after.ece],
    ['equal-mass ECE', before.eceEqualMass, after.eceEqualMass],
    ['MCE', before.mce, after.mce],
    ['reliability', before.reliability, after.reliability],
    ['resolution', before.resolution, after.resolution],
  ];
  return [
    `    ${' '.repeat(14)}  ${pad('before', 9)}  ${pad('after', 9)}`,
    ...rows.map(([k, a, b]) => `    ${k.padEnd(14)}  ${pad(fmt(a, 6), 9)}  ${pad(fmt(b, 6), 9)}`),
    // Isotonic maps to exactly 0 or 1 where training had one class only; the clip then dominates the log loss.
    `    ${'log-loss clips'.padEnd(14)}  ${pad(String(before.logLossClipped), 9)}  ${pad(String(after.logLossClipped), 9)}`,
  ].join('\n');
}

function calibratorJson(cal: Calibrator, rows: number): Record<string, unknown> {
  if (cal.kind === 'isotonic') {
    return { kind: 'isotonic', fittedOn: { firstRow: 0, rows }, x: Array.from(cal.model.x), y: Array.from(cal.model.y), outOfBounds: cal.model.outOfBounds };
  }
  const m = cal.model;
  return {
    kind: 'platt',
    fittedOn: { firstRow: 0, rows },
    input: cal.input,
    formula: cal.input === 'logit' ? 'p = 1 / (1 + exp(a * logit(pRaw) + b))' : 'p = 1 / (1 + exp(a * pRaw + b))',
    a: m.a,
    b: m.b,
    iterations: m.iterations,
    converged: m.converged,
  };
}

function summaryJson(s: CalibrationSummary): Record<string, unknown> {
  return { ...scoresOf(s), bins: reliabilityBins(s.table) };
}

function calibratorText(cal: Calibrator, rows: number): string {
  if (cal.kind === 'isotonic') return `isotonic, ${cal.model.x.length} knots, fitted on all ${rows} rows (apply it to future forecasts)`;
  const m = cal.model;
  const on = cal.input === 'logit' ? 'logit(p)' : 'p';
  const b = `${m.b < 0 ? '-' : '+'} ${Math.abs(m.b).toPrecision(6)}`;
  return `Platt on ${on}: p' = 1 / (1 + exp(${m.a.toPrecision(6)} * ${on} ${b})), fitted on all ${rows} rows${m.converged ? '' : ' (NOT converged)'}`;
}

/**
 * Resamples for the consistency band when not given: 1000, but at most about
 * 5e7 draws (a few seconds) and at least 100, which still places the 5% and
 * 95% points within about 10% of the band's half-width.
 */
export function autoResamples(rows: number): number {
  return Math.max(100, Math.min(1000, Math.floor(5e7 / rows)));
}

/** Runs `quantbook calibrate` with parsed options; returns what it printed. */
export async function runCalibrate(o: CalibrateOptions): Promise<string> {
  const file = o.input;
  const names = { file, prob: o.probCol, outcome: o.outcomeCol };
  if (o.method === undefined) {
    const stray = (['minTrain', 'block', 'rolling'] as const).find((k) => o[k] !== undefined) ?? (o.gap !== 0 ? 'gap' : o.evaluate !== 'both' ? 'evaluate' : undefined);
    if (stray !== undefined) throw new ConfigError(`${flagOf(stray)} needs --method isotonic|platt`, { key: flagOf(stray) });
  }
  if (o.out !== undefined) checkOutputDir(o.out, '--out', ['calibration.html']); // before any work
  const { p, y } = await readForecastColumns(file, o.probCol, o.outcomeCol);
  const n = p.length;
  const scoreOptions = { bins: o.bins, strategy: o.strategy, names };
  const summary = calibrationSummary(p, y, scoreOptions);

  const json: Record<string, unknown> = {
    input: { file, rows: n, probCol: o.probCol, outcomeCol: o.outcomeCol },
    strategy: o.strategy,
    nBins: o.bins,
    bins: reliabilityBins(summary.table),
    ...scoresOf(summary),
  };
  const text: string[] = [
    `calibrate: ${file}, ${n} rows, probability column "${o.probCol}", outcome column "${o.outcomeCol}"`,
    `reliability table: ${o.bins} ${o.strategy} bins, right-closed; Wilson 95% intervals; empty bins shown as empty`,
    tableText(summary.table),
    'scores',
    scoresText(summary),
  ];
  const series: ReliabilitySeries[] = [];

  if (o.method !== undefined) {
    const spec = o.method === 'platt' ? { kind: 'platt' as const, input: o.plattInput } : { kind: 'isotonic' as const };
    const calibrator = fitCalibrator(spec, p, y, names);
    json.calibrator = calibratorJson(calibrator, n);
    text.push('', `recalibration: ${calibratorText(calibrator, n)}`);

    let inSample: Record<string, unknown> | undefined;
    if (o.evaluate !== 'walk-forward') {
      const after = calibrationSummary(applyCalibrator(calibrator, p), y, scoreOptions);
      inSample = {
        evaluation: { kind: 'inSample', rows: n, note: 'calibrator fitted and scored on the same rows: optimistic' },
        ...summaryJson(after),
      };
      text.push(`  in sample (fitted and scored on the same ${n} rows; optimistic):`, compareText(summary, after));
    }
    if (o.evaluate !== 'in-sample') {
      const gap = o.gap;
      const minTrain = o.minTrain ?? Math.floor(n / 2);
      const oos = n - minTrain - gap;
      if (oos < o.bins) {
        throw new ConfigError(
          `walk-forward leaves ${Math.max(0, oos)} out-of-sample rows, fewer than ${o.bins} bins: lower --min-train, --gap or --bins, or use --evaluate in-sample`,
          { key: '--min-train', value: minTrain },
        );
      }
      const block = o.block ?? Math.ceil(oos / 5);
      const window = o.rolling === undefined ? ({ kind: 'expanding' } as const) : ({ kind: 'rolling', size: o.rolling } as const);
      const wf = walkForwardRecalibration(p, y, { calibrator: spec, minTrain, block, gap, window, scores: scoreOptions });
      const evaluation = {
        kind: 'walkForward',
        window: window.kind === 'rolling' ? `rolling ${window.size}` : 'expanding',
        minTrain,
        block,
        gap,
        blocks: wf.blocks.length,
        firstRow: wf.oosStart,
        rows: n - wf.oosStart,
        note: 'rows in file order taken as time order; each block recalibrated by a fit on earlier rows only',
      };
      json.after = { evaluation, ...summaryJson(wf.after), baseline: summaryJson(wf.before) };
      if (inSample !== undefined) json.afterInSample = inSample;
      const win = window.kind === 'rolling' ? `rolling window of ${window.size} rows` : 'expanding window';
      text.push(
        `  out of sample, walk-forward (${win}; rows 0..${minTrain - 1} train only; blocks of ${block}; gap ${gap}; ${wf.blocks.length} blocks, rows ${wf.oosStart}..${n - 1} scored):`,
        compareText(wf.before, wf.after),
      );
      series.push({ table: wf.before.table, name: `out of sample, raw` }, { table: wf.after.table, name: `out of sample, ${o.method} walk-forward` });
    } else {
      json.after = inSample;
    }
  }

  if (o.out !== undefined) {
    const dir = resolve(o.out);
    const band = consistencyBands(p, summary.table, { resamples: o.resamples === 'auto' ? autoResamples(n) : o.resamples, seed: o.seed });
    const title = `Calibration of ${o.probCol} against ${o.outcomeCol}: ${basename(file)}`;
    const figures = [reliabilityFigure({ table: summary.table, name: o.probCol, band }, { title: `${title} (${n} forecasts)` })];
    if (series.length > 0) figures.push(reliabilityFigure(series, { title: `Walk-forward ${o.method} recalibration, out-of-sample rows only` }));
    const html = join(dir, 'calibration.html');
    writeFileAtomic(
      html,
      figureToHtml(figures, title, {
        description: `${o.bins} ${o.strategy} bins; error bars: Wilson 95% intervals; shaded: ${Math.round(band.level * 100)}% consistency band (${band.resamples} resamples, seed ${band.seed}).`,
      }),
    );
    json.html = html;
    json.consistencyBand = { resamples: band.resamples, seed: band.seed, level: band.level };
    text.push('', `wrote ${html} (consistency band: ${band.resamples} resamples, seed ${band.seed})`);
  }
  return o.json ? JSON.stringify(json, null, 2) : text.join('\n');
}

/** Attaches `quantbook calibrate` to the program. */
export function registerCalibrateCommands(program: Command): void {
  program
    .command('calibrate')
    .summary('reliability table, Brier/log-loss/ECE scores and recalibration of probability forecasts')
    .description(
      'Reads (probability, outcome) pairs from a CSV or Parquet file and prints the reliability table ' +
        '(right-closed bins, Wilson 95% intervals, empty bins shown empty) and the scores: Brier with its exact ' +
        'decomposition (REL - RES + UNC + WBV - WBC), log loss, ECE, equal-mass ECE and MCE.\n\n' +
        'With --method, fits a recalibrator on all rows (to apply to future forecasts) and reports scores after it ' +
        'two ways: walk-forward out of sample (rows in file order are time order; each block is recalibrated by a ' +
        'fit on earlier rows only: the honest number) and in sample (optimistic).',
    )
    .requiredOption('-i, --input <file>', 'CSV or Parquet file with one row per forecast')
    .option('--prob-col <name>', 'column with forecast probabilities in [0, 1]', 'p')
    .option('--outcome-col <name>', 'column with outcomes 0/1 (or booleans)', 'y')
    .option('--bins <n>', 'number of bins', '10')
    .addOption(new Option('--strategy <kind>', 'bin edges: uniform on [0, 1] or quantile (equal-mass)').choices(BIN_STRATEGIES).default('uniform'))
    .addOption(new Option('--method <kind>', 'recalibrate with isotonic regression or Platt scaling').choices(CALIBRATION_METHODS))
    .addOption(new Option('--platt-input <kind>', 'Platt scaling on logit(p) (identity reachable) or on p').choices(['logit', 'probability']).default('logit'))
    .addOption(new Option('--evaluate <kind>', 'after-scores to report with --method').choices(['both', 'walk-forward', 'in-sample']).default('both'))
    .option('--min-train <rows>', 'walk-forward: rows in the first training window (default: half the rows)')
    .option('--block <rows>', 'walk-forward: rows per out-of-sample block (default: 5 blocks)')
    .option('--gap <rows>', 'walk-forward: rows skipped between training and block; set to the label horizon', '0')
    .option('--rolling <rows>', 'walk-forward: train on the last <rows> rows only (default: expanding window)')
    .option('--resamples <n|auto>', 'consistency-band resamples for the --out diagram; auto: 1000, fewer above 50,000 rows (cost is rows x resamples)', 'auto')
    .option('--seed <n>', 'seed of the consistency-band resampling', '0')
    .option('--json', 'print one JSON object instead of text')
    .option('--out <dir>', 'write the reliability diagram to <dir>/calibration.html (plotly embedded, works offline)')
    .action(async (raw: Record<string, unknown>) => {
      const out = await runCalibrate(parseOptions(raw));
      process.stdout.write(`${out}\n`);
    });
}
