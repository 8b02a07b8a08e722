/**
 * Options of `quantbook forecast`: one zod schema for the YAML config (snake_case
 * keys, unknown keys are errors) and the command-line flags (which override it),
 * resolved into the settings the run uses.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors';
import { parseDuration, SESSIONS, type ColumnMap, type LoadOptions, type SessionLike } from '../data';
import type { Barrier, QuantilePathDependence, QuantileTails, QuietWindow, SessionChoice } from '../forecast';
import { timestampFormat } from './data';
import { readConfigFile } from './configFile';
import { int } from './options';

/** The shipped autoregressive model: the default of `--model`. */
export const DEFAULT_FORECAST_MODEL = resolve(__dirname, '..', '..', 'models', 'qb-ar-s.json');

/** Instrument classes `--class` accepts: they pick the session when `--session` is not given and the data does not show one. */
export const FORECAST_CLASSES = ['stock', 'crypto', 'perp'] as const;

/** Session switch names: the issue's three plus every calendar of the data layer. */
export const SESSION_ALIASES: Record<string, keyof typeof SESSIONS> = { rth: 'us-rth', extended: 'us-ext', '24x7': '24x7', 'us-rth': 'us-rth', 'us-ext': 'us-ext', 'cn-a': 'cn-a' };

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const instant = z.string().regex(ISO_WITH_ZONE, 'use an ISO 8601 time with its zone, e.g. 2024-06-12T12:30:00Z (UTC throughout)');
/**
 * A zod string that `parseDuration` accepts (a positive whole number and a unit), checked at
 * validation so the error names the key.
 * @example durationString('use a duration like 5s').parse('1m') // '1m'
 */
export function durationString(message = 'use a duration like 15m'): z.ZodType<string> {
  return z.string().refine((s) => {
    try {
      parseDuration(s);
      return true;
    } catch {
      return false;
    }
  }, message);
}
const duration = durationString();
const quietWindow = z.union([
  z.strictObject({ label: z.string().min(1), start: instant, end: instant }),
  z.strictObject({ label: z.string().min(1), at: instant, before: duration.default('15m'), after: duration.default('30m') }),
]);
const level = z.union([z.number().positive(), z.strictObject({ name: z.string().min(1), price: z.number().positive() })]);
const num = z.coerce.number();

/** Every setting, by its config-file key. Flags use the same names in kebab-case. */
export const forecastConfigSchema = z.strictObject({
  data: z.string().min(1).optional(),
  symbol: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  calibrate: z.enum(['none', 'conformal']).optional(),
  device: z.enum(['auto', 'cpu', 'cuda']).optional(),
  threads: int(1).optional(),
  seed: z.coerce.number().int().optional(),
  horizon: int(1).optional(),
  samples: int(1).optional(),
  temperature: num.min(0).optional(),
  top_p: num.gt(0).max(1).optional(),
  top_k: int(0).optional(),
  samples_per_batch: int(1).optional(),
  lookback: int(2).optional(),
  session: z.enum(Object.keys(SESSION_ALIASES) as [string, ...string[]]).optional(),
  class: z.enum(FORECAST_CLASSES).optional(),
  percentiles: z.array(num.gt(0).lt(100)).min(1).optional(),
  levels: z.array(level).optional(),
  quiet_windows: z.array(quietWindow).optional(),
  bollinger_window: int(2).optional(),
  quantile_paths: z.enum(['brownian', 'comonotone', 'independent']).optional(),
  quantile_tails: z.enum(['exponential', 'normal', 'clamp']).optional(),
  chart_bars: int(0).optional(),
  png: z.boolean().optional(),
  wait: z.boolean().optional(),
  time_zone: z.string().optional(),
  timestamp: z.string().optional(),
  stamped_at: z.enum(['start', 'end']).optional(),
  ambiguous: z.enum(['earliest', 'latest']).optional(),
  bar: duration.optional(),
  // ts may be '' (the unnamed first column, as pandas writes its index); the others need a name.
  columns: z
    .partialRecord(z.enum(['ts', 'open', 'high', 'low', 'close', 'volume', 'symbol']), z.string())
    .refine((m) => Object.entries(m).every(([k, v]) => k === 'ts' || (v ?? '').length > 0), 'only ts may be empty (the unnamed first column)')
    .optional(),
});

export type ForecastConfig = z.infer<typeof forecastConfigSchema>;

/** The resolved settings of one run. */
export interface ForecastSettings {
  data: string;
  symbol: string;
  out: string;
  model: string;
  /** `conformal`: the model wrapped in the conformal layer (warmed up on the context window). */
  calibrate: 'none' | 'conformal';
  device: 'auto' | 'cpu' | 'cuda';
  threads: number;
  seed: number;
  horizon: number;
  samples: number;
  /** Only the settings given (flags or config); the command's defaults fill the rest. */
  sampling: { temperature?: number; topP?: number; topK?: number };
  /** Paths decoded together per ONNX run (autoregressive models). */
  samplesPerBatch: number;
  lookback: number;
  /** The switch (`rth`) and the calendar it maps to (`us-rth`): as given, else the default `rth` until `chooseForecastSession` picks one from the data or
   * `instrumentClass`. */
  sessionFlag: string;
  session: keyof typeof SESSIONS & SessionLike;
  /** Whether `--session` or the config's `session` gave the session. */
  sessionGiven: boolean;
  /** How the session was chosen and why, once `chooseForecastSession` has looked at the bars. */
  sessionChoice?: SessionChoice;
  /** `--class`: the session of a market whose data does not show it (crypto, perp: 24x7; stock: us-rth). */
  instrumentClass: (typeof FORECAST_CLASSES)[number] | undefined;
  percentiles: number[];
  levels: Barrier[];
  quietWindows: QuietWindow[];
  bollingerWindow: number;
  quantilePaths: QuantilePathDependence;
  quantileTails: QuantileTails;
  chartBars: number;
  png: boolean;
  wait: boolean;
  load: LoadOptions;
  /** Notes to carry into the summary (e.g. what a best sampler config could not set). */
  notes?: string[];
}

/**
 * The defaults of the issue's command line: 30 bars, 100 paths, T 1.0, top-p 0.9, L 480, regular
 * hours. Paths are decoded 10 per ONNX run: on the 2-core CPU, 100 rows per run spent 0.4-0.6 s
 * of system time in a fresh process (large key/value buffers allocated and faulted in every step),
 * 10 rows about 0.05 s, for about 30% less CPU in all (bench/paths.ts).
 *
 * Why these differ from the library's `DEFAULT_SAMPLING` (forecast/sampling.ts: top-p 1,
 * 256 paths per batch), on purpose, in this one place: the library's defaults are the sampler
 * switched off (plain softmax sampling, the model's own distribution) with a batch sized for
 * throughput, and `quantbook eval`, the sampler search and the notebooks use them, so a score
 * measures the model as trained unless a setting is asked for. `quantbook forecast` (and
 * `live` and `serve`, which make the same outlook) is the outlook command of the issue that
 * specified it (top-p 0.9 trims the tail tokens that make implausible paths; 10 paths per run
 * for single-window calls on 2 cores); a best
 * sampler config (`--config configs/best/SYM.json`) overrides both with searched values.
 */
export const FORECAST_DEFAULTS = { horizon: 30, samples: 100, temperature: 1.0, top_p: 0.9, lookback: 480, session: 'rth', seed: 0, samples_per_batch: 10 } as const;

function issueKey(issue: z.core.$ZodIssue, flags: boolean): string {
  const key = issue.path.map(String).join('.');
  return flags ? `--${key.replace(/_/g, '-')}` : key;
}

function parse(raw: unknown, where: { file?: string; flags: boolean }): ForecastConfig {
  const r = forecastConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    throw new ConfigError(`unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${Object.keys(forecastConfigSchema.shape).join(', ')})`, { file: where.file, key: [...issue.path.map(String), issue.keys[0]].join('.') });
  }
  throw new ConfigError(issue.message, { file: where.file, key: issueKey(issue, where.flags) });
}

/**
 * Reads and checks a YAML (or JSON) config file.
 * @throws ConfigError for an unreadable file, invalid YAML, unknown keys or bad values (naming the file and key).
 * @example readForecastConfig('outlook.yaml').top_p // 0.9
 */
export function readForecastConfig(file: string): ForecastConfig {
  const raw = readConfigFile(file);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('config must be a mapping of keys to values', { file });
  return parse(raw, { file, flags: false });
}

/** Commander's camelCase flag values -> config keys (only flags the user gave). */
export function flagsToConfig(flags: Record<string, unknown>): ForecastConfig {
  const map: Record<string, string> = { topP: 'top_p', topK: 'top_k', samplesPerBatch: 'samples_per_batch', bollingerWindow: 'bollinger_window', quantilePaths: 'quantile_paths', quantileTails: 'quantile_tails', chartBars: 'chart_bars', timeZone: 'time_zone', stampedAt: 'stamped_at' };
  const ignore = new Set(['config', 'json', 'debug', 'level', 'column']);
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && !ignore.has(k)) raw[map[k] ?? k] = v;
  if (typeof raw.percentiles === 'string') raw.percentiles = raw.percentiles.split(',').map((s) => Number(s.trim()));
  if (Array.isArray(flags.level)) raw.levels = (flags.level as string[]).map(parseLevelFlag);
  if (Array.isArray(flags.column)) {
    raw.columns = Object.fromEntries((flags.column as string[]).map((c) => {
      const [k, ...rest] = c.split('=');
      return [k, rest.join('=')];
    }));
  }
  return parse(raw, { flags: true });
}

function parseLevelFlag(text: string): number | { name: string; price: number } {
  const m = /^(?:([^=]+)=)?([0-9.eE+-]+)$/.exec(text.trim());
  if (!m || !(Number(m[2]) > 0)) throw new ConfigError('a level is PRICE or NAME=PRICE with a positive price', { key: '--level', value: text });
  return m[1] ? { name: m[1], price: Number(m[2]) } : Number(m[2]);
}

/**
 * Merges config and flags (flags win) and resolves defaults, sessions, levels and quiet windows.
 * @throws ConfigError for missing `data` / `symbol` / `out`, or bad quiet windows.
 * @example resolveForecastSettings({ data: 'x.feather', symbol: 'BTC', out: 'out' }, {}).sessionGiven // false: the run picks the session from the data
 */
export function resolveForecastSettings(fromFile: ForecastConfig, fromFlags: ForecastConfig): ForecastSettings {
  const c: ForecastConfig = { ...fromFile, ...fromFlags };
  for (const key of ['data', 'symbol', 'out'] as const) {
    if (c[key] === undefined) throw new ConfigError(`--${key} is required (flag or config key "${key}")`, { key });
  }
  const sessionFlag = c.session ?? FORECAST_DEFAULTS.session;
  const levels: Barrier[] = (c.levels ?? []).map((l) => (typeof l === 'number' ? { name: `level ${l}`, price: l } : l));
  const quietWindows: QuietWindow[] = (c.quiet_windows ?? []).map((w, i) => {
    const span = 'at' in w ? { startMs: Date.parse(w.at) - parseDuration(w.before), endMs: Date.parse(w.at) + parseDuration(w.after) } : { startMs: Date.parse(w.start), endMs: Date.parse(w.end) };
    if (!(span.endMs > span.startMs)) throw new ConfigError(`quiet window "${w.label}" must end after it starts`, { key: `quiet_windows.${i}` });
    return { label: w.label, ...span };
  });
  return {
    data: c.data!,
    symbol: c.symbol!,
    out: c.out!,
    model: c.model ?? DEFAULT_FORECAST_MODEL,
    calibrate: c.calibrate ?? 'none',
    device: c.device ?? 'auto',
    threads: c.threads ?? 1,
    seed: c.seed ?? FORECAST_DEFAULTS.seed,
    horizon: c.horizon ?? FORECAST_DEFAULTS.horizon,
    samples: c.samples ?? FORECAST_DEFAULTS.samples,
    sampling: { temperature: c.temperature, topP: c.top_p, topK: c.top_k },
    samplesPerBatch: c.samples_per_batch ?? FORECAST_DEFAULTS.samples_per_batch,
    lookback: c.lookback ?? FORECAST_DEFAULTS.lookback,
    sessionFlag,
    session: SESSION_ALIASES[sessionFlag],
    sessionGiven: c.session !== undefined,
    instrumentClass: c.class,
    percentiles: (c.percentiles ?? [10, 50, 90]).map((p) => p / 100).sort((a, b) => a - b),
    levels,
    quietWindows,
    bollingerWindow: c.bollinger_window ?? 20,
    quantilePaths: c.quantile_paths ?? 'brownian',
    quantileTails: c.quantile_tails ?? 'exponential',
    chartBars: c.chart_bars ?? 120,
    png: c.png ?? true,
    wait: c.wait ?? false,
    load: {
      timeZone: c.time_zone,
      timestamp: timestampFormat(c.timestamp),
      stampedAt: c.stamped_at,
      ambiguous: c.ambiguous,
      barMs: c.bar ? parseDuration(c.bar) : undefined,
      columns: c.columns as ColumnMap | undefined,
    },
  };
}
