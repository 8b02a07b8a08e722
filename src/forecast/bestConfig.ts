/**
 * The per-symbol best sampler configuration that the sampler search (notebooks/05-sweep)
 * writes to `configs/best/<SYMBOL>.json`: its schema (`quantbook.sampler-config/1`), a writer
 * and a reader, so that what one run chose is what the next run reads.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors';
import { safeOutputPath, writeFileAtomic } from '../core/output';
import type { SamplerEnsemble, SamplerGrid, SettingResult } from './samplerSearch';

/** The schema tag of the files. */
export const BEST_CONFIG_SCHEMA = 'quantbook.sampler-config/1';

const settingSchema = z.object({
  /** Paths N per forecast. */
  samples: z.number().int().positive(),
  /** Point aggregate of the paths: mean, median, trimmed_mean_P, winsorized_mean_P, quantile_Q. */
  aggregation: z.string().min(1),
  /** Context bars given to the model. */
  lookback: z.number().int().positive(),
  temperature: z.number().min(0),
  topP: z.number().gt(0).max(1),
}).strict();

// A score may be undefined (NaN in memory, null in the file): e.g. a standard error from one origin.
const score = z.union([z.number(), z.nan(), z.null()]);
const maeSchema = z.object({ pctReturnMae: score, pctReturnMaeSe: score }).strict();
const scoresSchema = z.object({ n: z.number().int().min(0), pctReturnMae: score, pctReturnMaeSe: score, crps: score, wcrps: score }).strict();
const one = <T extends z.ZodType>(t: T) => z.union([t, z.array(t)]);

/** One `configs/best/<SYMBOL>.json` file. */
export const bestConfigSchema = z.object({
  schema: z.literal(BEST_CONFIG_SCHEMA),
  symbol: z.string().min(1),
  /** Model card, relative to the repository root. */
  model: z.string().min(1),
  /** Bars ahead the setting was chosen for. */
  horizon: z.number().int().positive(),
  /** The chosen setting (lowest validation error). */
  setting: settingSchema,
  /** How it was chosen, in words. */
  selection: z.string(),
  scores: z.object({ validation: scoresSchema, test: scoresSchema }).strict(),
  /** The best settings, weighted by inverse validation error; the ensemble's point forecast is the weighted mean of theirs. */
  ensemble: z.object({
    weighting: z.string(),
    members: z.array(z.object({ setting: settingSchema, weight: z.number().min(0).max(1), validationPctReturnMae: score }).strict()).min(1),
    validation: maeSchema,
    test: maeSchema,
  }).strict(),
  data: z.object({ path: z.string(), validationOrigins: z.number().int(), testOrigins: z.number().int(), validationFrom: z.string(),
    testTo: z.string() }).strict(),
  grid: z.object({ samples: one(z.number()), aggregations: one(z.string()), lookbacks: one(z.number()), temperatures: one(z.number()),
    topPs: one(z.number()) }).strict(),
  seed: z.number().int(),
  generatedBy: z.string(),
}).strict();

/** A best sampler configuration (see `bestConfigSchema`). */
export type BestConfig = z.infer<typeof bestConfigSchema>;
/** One sampler setting of a best configuration. */
export type BestSetting = z.infer<typeof settingSchema>;

/**
 * Checks an object against the schema: ensemble weights must also sum to 1 (within 1e-9).
 * @param source - file name for errors.
 * @throws ConfigError naming the file and the first bad key.
 * @example parseBestConfig(JSON.parse(text), 'configs/best/SYNA.json').setting.samples; // 128
 */
export function parseBestConfig(input: unknown, source?: string): BestConfig {
  const r = bestConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid best sampler config: ${issue.message}`, { file: source, key: issue.path.map(String).join('.') || undefined });
  }
  const total = r.data.ensemble.members.reduce((a, m) => a + m.weight, 0);
  if (Math.abs(total - 1) > 1e-9) throw new ConfigError(`ensemble weights sum to ${total}, not 1`, { file: source, key: 'ensemble.members', value: total });
  return r.data;
}

/**
 * The file's text: checked, then JSON with two-space indents and a final newline, keys in the
 * order the object has them (the notebook's order), so that a rerun that chooses the same
 * setting writes the same bytes.
 * @throws ConfigError when the object does not match the schema.
 * @example bestConfigText(config).endsWith('}\n'); // true
 */
export function bestConfigText(config: BestConfig): string {
  parseBestConfig(config);
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Writes a best configuration to `file` (see `bestConfigText`).
 * @throws ConfigError when it does not match the schema (nothing is written).
 * @example writeBestConfig('configs/best/SYNA.json', config);
 */
export function writeBestConfig(file: string, config: BestConfig): void {
  const text = bestConfigText(config);
  writeFileAtomic(file, text);
}

/**
 * Reads and checks `configs/best/<SYMBOL>.json`.
 * @throws ConfigError for a missing or unreadable file, bad JSON, or a file that does not match the schema (naming the key).
 * @example readBestConfig('configs/best/SYNA.json').ensemble.members.length; // 5
 */
export function readBestConfig(file: string): BestConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('best sampler config cannot be read: check the path', { file }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`best sampler config is not JSON: ${(err as Error).message}`, { file }, { cause: err });
  }
  return parseBestConfig(json, file);
}

/**
 * Whether a parsed config file is a best sampler configuration (by its `schema` tag), so that a
 * command's `--config` can take either its own config or one of these.
 * @example isBestConfig({ schema: 'quantbook.sampler-config/1' }); // true
 */
export function isBestConfig(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as { schema?: unknown }).schema === BEST_CONFIG_SCHEMA;
}

/** What {@link bestConfigFromSweep} needs besides the search's own results. */
export interface SweepProvenance {
  /** Model card, relative to the repository root (e.g. `models/qb-ar-s.json`). */
  model: string;
  /** Bars ahead the search scored. */
  horizon: number;
  /** The bars (as given to the notebook), origins asked for per part, first validation and last test origin (ISO text). */
  data: { path: string; validationOrigins: number; testOrigins: number; validationFrom: string; testTo: string };
  /** The grid searched. */
  grid: SamplerGrid;
  /** The sampler's seed. */
  seed: number;
  /** What wrote the file, e.g. `notebooks/05-sweep.ipynb`. */
  generatedBy: string;
}

/** How the sampler search chooses (`bestPerSymbol`), in the words the files carry. */
const SELECTION = 'lowest validation pct_return_mae; ties: lower latency, then fewer paths; test scores not used';
/** How its ensemble is weighted (`inverseErrorEnsemble`). */
const WEIGHTING = 'inverse validation pct_return_mae';

/**
 * The best configuration of one symbol from a sampler search: the chosen setting
 * (`bestPerSymbol(...).get(symbol)`) with its validation and test scores, the ensemble
 * (`inverseErrorEnsemble`), and where they came from. Latency is left out: it depends on the
 * machine, and the file should not change when nothing else did. Keys are in the file's order,
 * so `bestConfigText` of the result is byte-identical for the same choice.
 * @throws ConfigError when `best` and `ensemble` are of different symbols, or the result does not match the schema.
 * @example
 * const best = bestPerSymbol(search.results).get('SYNA')!;
 * writeBestConfig('configs/best/SYNA.json', bestConfigFromSweep(best, inverseErrorEnsemble(search, 'SYNA', 5), provenance));
 */
export function bestConfigFromSweep(best: SettingResult, ensemble: SamplerEnsemble, from: SweepProvenance): BestConfig {
  if (ensemble.symbol !== best.symbol) {
    throw new ConfigError(`the ensemble is of ${ensemble.symbol}, the best setting of ${best.symbol}`, { key: 'ensemble.symbol', symbol: best.symbol });
  }
  return parseBestConfig({
    schema: BEST_CONFIG_SCHEMA,
    symbol: best.symbol,
    model: from.model,
    horizon: from.horizon,
    setting: best.setting,
    selection: SELECTION,
    scores: { validation: best.validation, test: best.test },
    ensemble: { weighting: WEIGHTING, members: ensemble.members, validation: ensemble.validation, test: ensemble.test },
    data: from.data,
    grid: from.grid,
    seed: from.seed,
    generatedBy: from.generatedBy,
  }, `best configuration of ${best.symbol}`);
}

/**
 * Writes each configuration to `<dir>/<symbol>.json` (creating `dir`), in the given order.
 * @returns the files written.
 * @throws ConfigError when one does not match the schema or its symbol is not a bare file name
 *   (the ones before it are written); OutputError from `writeFileAtomic`.
 * @example writeBestConfigs('configs/best', configs); // ['configs/best/SYNA.json', ...]
 */
export function writeBestConfigs(dir: string, configs: readonly BestConfig[]): string[] {
  return configs.map((c) => {
    const file = safeOutputPath(dir, c.symbol, 'symbol', { suffix: '.json' });
    writeBestConfig(file, c);
    return file;
  });
}
