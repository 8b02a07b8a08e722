/**
 * `quantbook gbdt train|predict`: gradient-boosted trees on a CSV or Parquet table, models
 * in XGBoost's JSON format (so XGBoost's own models predict here, and ours in XGBoost).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors';
import {
  featureImportance,
  loadXgboostModel,
  predictGbdt,
  predictGbdtMargin,
  saveXgboostModel,
  trainGbdt,
  OBJECTIVE_NAMES,
  type GbdtModel,
  type GbdtObjective,
} from '../gbdt';
import { int, parseFlags } from './options';

/** A numeric table read for the trees: features row-major (NaN = missing) and an optional label. */
export interface FeatureTable {
  file: string;
  numRow: number;
  featureNames: string[];
  x: Float32Array;
  y?: Float64Array;
  /** Missing (null or NaN) feature cells per feature, in `featureNames` order. */
  missing: number[];
}

/**
 * Reads a CSV or Parquet file into a {@link FeatureTable}. Feature cells may be missing
 * (null/empty/NaN become NaN, which the trees route by their learned default); the label may not.
 * @param features - feature columns in model order; default every column but the label.
 * @throws DataError naming the file, column and row: unreadable file, unknown or non-numeric
 *   column, infinite feature, missing or non-finite label.
 * @example (await readFeatureTable('train.csv', { label: 'up' })).featureNames // ['ret_1', 'vol', ...]
 */
export async function readFeatureTable(file: string, opts: { label?: string; features?: string[] } = {}): Promise<FeatureTable> {
  if (!existsSync(file)) throw new DataError('input file not found', { file });
  const ext = extname(file).toLowerCase();
  if (ext !== '.csv' && ext !== '.parquet') throw new DataError('input must be a .csv or .parquet file', { file, value: ext });
  const pl = await import('nodejs-polars');
  let df: import('nodejs-polars').DataFrame;
  try {
    df = ext === '.csv' ? pl.readCSV(file, { inferSchemaLength: 10_000 }) : pl.readParquet(file);
  } catch (err) {
    throw new DataError(`cannot read file: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { file }, { cause: err });
  }
  const columns = df.columns;
  const need = (name: string): void => {
    if (!columns.includes(name)) throw new DataError(`column not found (columns: ${columns.join(', ')})`, { file, column: name });
  };
  if (opts.label !== undefined) need(opts.label);
  const featureNames = opts.features ?? columns.filter((c) => c !== opts.label);
  featureNames.forEach(need);
  if (featureNames.length === 0) throw new DataError('no feature columns', { file });
  const numeric = (name: string): Array<number | null> => {
    const s = df.getColumn(name);
    const dtype = String(s.dtype);
    if (!/Float|Int|Bool/.test(dtype)) throw new DataError(`column is not numeric (${dtype})`, { file, column: name });
    return s.cast(pl.Float64).toArray() as Array<number | null>;
  };
  const n = df.height;
  const F = featureNames.length;
  const x = new Float32Array(n * F);
  const missing = new Array<number>(F).fill(0);
  featureNames.forEach((name, f) => {
    const v = numeric(name);
    for (let r = 0; r < n; r++) {
      const c = v[r];
      if (c === null || c === undefined || Number.isNaN(c)) {
        x[r * F + f] = NaN;
        missing[f]!++;
      } else if (!Number.isFinite(c)) {
        throw new DataError('feature value is infinite (leave the cell empty for missing)', { file, column: name, row: r, value: c });
      } else {
        x[r * F + f] = c;
      }
    }
  });
  const table: FeatureTable = { file, numRow: n, featureNames, x, missing };
  if (opts.label !== undefined) {
    const v = numeric(opts.label);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const c = v[r];
      if (c === null || c === undefined || !Number.isFinite(c)) throw new DataError('label is missing or not finite', { file, column: opts.label, row: r, value: c });
      y[r] = c;
    }
    table.y = y;
  }
  return table;
}

const featureList = z
  .string()
  .transform((s) => s.split(',').map((t) => t.trim()))
  .refine((a) => a.every((t) => t.length > 0), 'empty feature name');
const positive = z.coerce.number().positive();

const trainSchema = z.object({
  input: z.string().min(1),
  label: z.string().min(1),
  features: featureList.optional(),
  objective: z.enum(OBJECTIVE_NAMES),
  quantileAlpha: z.coerce.number().gt(0).lt(1),
  maxDepth: int(1).max(30),
  eta: positive,
  rounds: int(1),
  earlyStopping: int(1).optional(),
  valid: z.string().min(1).optional(),
  minChildWeight: z.coerce.number().min(0),
  lambda: z.coerce.number().min(0),
  alpha: z.coerce.number().min(0),
  gamma: z.coerce.number().min(0),
  subsample: z.coerce.number().gt(0).max(1),
  colsampleBytree: z.coerce.number().gt(0).max(1),
  maxBin: int(2).max(255),
  baseScore: z.coerce.number().optional(),
  seed: z.coerce.number().int(),
  out: z.string().min(1),
});
/** Parsed options of `quantbook gbdt train`. */
export type GbdtTrainOptions = z.infer<typeof trainSchema>;

const predictSchema = z.object({
  model: z.string().min(1),
  input: z.string().min(1),
  features: featureList.optional(),
  margin: z.boolean().optional(),
  out: z.string().min(1),
});
/** Parsed options of `quantbook gbdt predict`. */
export type GbdtPredictOptions = z.infer<typeof predictSchema>;

function missingNote(t: FeatureTable): string {
  const total = t.missing.reduce((s, v) => s + v, 0);
  if (total === 0) return 'no missing feature values';
  const cols = t.featureNames.filter((_, f) => t.missing[f]! > 0).map((c) => `${c} ${t.missing[t.featureNames.indexOf(c)]}`);
  return `${total} missing feature values routed by the trees' default directions (${cols.join(', ')})`;
}

/**
 * Trains on `--input` (and stops early on `--valid`), writes the XGBoost JSON model to `--out`,
 * and returns the report printed by the command.
 * @throws DataError for unreadable tables or bad cells; ConfigError for contradictory flags.
 */
export async function runGbdtTrain(o: GbdtTrainOptions): Promise<string> {
  if (o.earlyStopping !== undefined && o.valid === undefined) throw new ConfigError('--early-stopping needs --valid', { key: '--early-stopping' });
  const train = await readFeatureTable(o.input, { label: o.label, features: o.features });
  const valid = o.valid ? await readFeatureTable(o.valid, { label: o.label, features: train.featureNames }) : undefined;
  const objective: GbdtObjective = o.objective === 'reg:quantileerror' ? { name: o.objective, alpha: o.quantileAlpha } : { name: o.objective };
  const res = trainGbdt(
    { x: train.x, y: train.y!, numFeature: train.featureNames.length, featureNames: train.featureNames },
    {
      objective,
      rounds: o.rounds,
      eta: o.eta,
      maxDepth: o.maxDepth,
      minChildWeight: o.minChildWeight,
      lambda: o.lambda,
      alpha: o.alpha,
      gamma: o.gamma,
      subsample: o.subsample,
      colsampleBytree: o.colsampleBytree,
      maxBin: o.maxBin,
      baseScore: o.baseScore,
      earlyStoppingRounds: o.earlyStopping,
      seed: o.seed,
    },
    valid ? { x: valid.x, y: valid.y!, numFeature: valid.featureNames.length } : undefined,
  );
  saveXgboostModel(res.model, o.out);
  const lines = [
    `trained ${o.objective} on ${train.numRow} rows x ${train.featureNames.length} features (${o.input}); ${missingNote(train)}`,
    `trees kept: ${res.model.trees.length} of ${res.roundsRun} rounds run` + (res.model.bestIteration !== undefined ? ` (best iteration ${res.model.bestIteration})` : ''),
  ];
  if (valid) {
    const best = res.model.bestIteration ?? res.validHistory.length - 1;
    lines.push(`validation ${res.metric} (${valid.numRow} rows, ${o.valid}): ${res.validHistory[best]!.toFixed(6)} at the kept model, ${res.validHistory[0]!.toFixed(6)} after round 1`);
  }
  const gain = Object.entries(featureImportance(res.model, 'gain')).sort((a, b) => b[1] - a[1]);
  const cover = featureImportance(res.model, 'cover');
  lines.push('feature importance (mean gain per split, mean cover per split):');
  for (const [name, g] of gain.slice(0, 10)) lines.push(`  ${name.padEnd(24)} ${g.toPrecision(6).padStart(12)} ${cover[name]!.toPrecision(6).padStart(12)}`);
  if (gain.length > 10) lines.push(`  ... ${gain.length - 10} more`);
  lines.push(`model written to ${o.out} (XGBoost JSON)`);
  return lines.join('\n');
}

/** Columns of the table in the model's feature order: by the model's names, else `--features`, else all columns in order. */
function modelColumns(model: GbdtModel, o: GbdtPredictOptions): string[] | undefined {
  if (model.featureNames.length > 0) {
    if (o.features && o.features.join(',') !== model.featureNames.join(',')) {
      throw new ConfigError(`--features differs from the model's feature names (${model.featureNames.join(', ')})`, { key: '--features' });
    }
    return model.featureNames;
  }
  return o.features;
}

/**
 * Predicts every row of `--input` with an XGBoost JSON model (ours or XGBoost's) and writes a
 * CSV with one `prediction` column, rows in input order. Returns the report printed by the command.
 * @throws ModelError for unreadable models; DataError for missing columns or bad cells;
 *   ConfigError when the table's features do not match the model's.
 */
export async function runGbdtPredict(o: GbdtPredictOptions): Promise<string> {
  const model = loadXgboostModel(o.model);
  const table = await readFeatureTable(o.input, { features: modelColumns(model, o) });
  if (table.featureNames.length !== model.numFeature) {
    throw new ConfigError(`the model has ${model.numFeature} features but ${table.featureNames.length} columns were given (${table.featureNames.join(', ')}); use --features`, {
      file: o.input,
      key: '--features',
    });
  }
  const p = o.margin ? predictGbdtMargin(model, table.x) : predictGbdt(model, table.x);
  const body = Array.from(p, (v) => String(v)).join('\n');
  try {
    writeFileSync(o.out, `prediction\n${body}${p.length ? '\n' : ''}`);
  } catch (err) {
    throw new DataError(`cannot write predictions: ${err instanceof Error ? err.message : String(err)}`, { file: o.out }, { cause: err });
  }
  return [
    `predicted ${table.numRow} rows of ${o.input} with ${model.trees.length} trees (${model.objective.name}${o.margin ? ', raw margins' : ''}); ${missingNote(table)}`,
    `predictions written to ${o.out}`,
  ].join('\n');
}

/** Attaches `quantbook gbdt train` and `quantbook gbdt predict`. */
export function registerGbdtCommands(program: Command): void {
  const gbdt = program
    .command('gbdt')
    .summary('gradient-boosted trees: train on a table, predict with ours or XGBoost JSON models')
    .description('Histogram gradient-boosted trees (XGBoost hist rules), models saved and read in XGBoost JSON format.');
  gbdt
    .command('train')
    .summary('train on a CSV or Parquet table, save an XGBoost JSON model')
    .description(
      'Trains depth-wise histogram trees on every row of --input (missing cells are allowed and routed by a learned default ' +
        'direction per split), optionally stopping early on --valid, and writes the model in XGBoost JSON format.',
    )
    .requiredOption('-i, --input <file>', 'training table (.csv or .parquet)')
    .requiredOption('--label <col>', 'label column (0/1 for binary:logistic)')
    .option('--features <a,b,...>', 'feature columns in order (default: every column but the label)')
    .addOption(new Option('--objective <name>', 'loss').choices(OBJECTIVE_NAMES).default('binary:logistic'))
    .option('--quantile-alpha <q>', 'quantile level of reg:quantileerror', '0.5')
    .option('--max-depth <n>', 'tree depth', '6')
    .option('--eta <x>', 'learning rate', '0.1')
    .option('--rounds <n>', 'boosting rounds', '500')
    .option('--early-stopping <n>', 'stop after n rounds without a better validation metric (needs --valid)')
    .option('--valid <file>', 'validation table with the same columns')
    .option('--min-child-weight <x>', 'minimum hessian sum in a child', '1')
    .option('--lambda <x>', 'L2 regularisation of leaf weights', '1')
    .option('--alpha <x>', 'L1 regularisation of leaf weights', '0')
    .option('--gamma <x>', 'minimum loss reduction to keep a split', '0')
    .option('--subsample <x>', 'row fraction per tree', '1')
    .option('--colsample-bytree <x>', 'feature fraction per tree', '1')
    .option('--max-bin <n>', 'value bins per feature (2-255)', '255')
    .option('--base-score <x>', 'initial prediction (default 0.5)')
    .option('--seed <n>', 'seed of the row/feature sampling and binning sample', '0')
    .requiredOption('-o, --out <file>', 'model file to write (XGBoost JSON)')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseFlags(trainSchema, raw, { prefix: (flag) => `invalid ${flag}: ` });
      process.stdout.write(`${await runGbdtTrain(o)}\n`);
    });
  gbdt
    .command('predict')
    .summary('predict a table with an XGBoost JSON model')
    .description(
      "Predicts every row of --input with a model saved by `quantbook gbdt train` or by XGBoost's Booster.save_model('m.json'); " +
        'writes a CSV with one `prediction` column (probabilities for binary:logistic), rows in input order. ' +
        "Columns are taken by the model's feature names when it has them, else --features, else all columns in order.",
    )
    .requiredOption('-m, --model <file>', 'XGBoost JSON model')
    .requiredOption('-i, --input <file>', 'table to predict (.csv or .parquet)')
    .option('--features <a,b,...>', 'feature columns in model order (for models without feature names)')
    .option('--margin', 'write raw margins instead of transformed predictions')
    .requiredOption('-o, --out <file>', 'CSV to write')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseFlags(predictSchema, raw, { prefix: (flag) => `invalid ${flag}: ` });
      process.stdout.write(`${await runGbdtPredict(o)}\n`);
    });
}
