/**
 * `quantbook forecast`: the 30-minute outlook. Loads one symbol's bars, keeps the
 * session's bars, samples N paths of the next H bars with a model or baseline,
 * and writes the summary JSON, the paths CSV and a fan chart (HTML, and PNG when
 * Chromium is available), printing the summary and the latency of every stage.
 *
 * Exit codes: 0 done; 1 error (one line); 75 (EX_TEMPFAIL, "try again later") when
 * `--wait` is given and the data does not have enough bars yet (warm-up).
 */
import type { Command } from 'commander';
import { ConfigError } from '../core/errors';
import { checkOutputDir, OutputBatch, safeOutputPath } from '../core/output';
import { VERSION } from '../core/version';
import { barsToArraysBySymbol, detectContinuous, hasSymbol, inferIntervalMs, loadValidBars, type BarArrays } from '../data';
import {
  fileStamp,
  forecastOutlook,
  forecastStepTimes,
  formatOutlookSummary,
  openModel,
  outlookSummary,
  withCalibration,
  pathsCsv,
  prepareOutlook,
  sessionBreaks,
  warmUpStatus,
  type OutlookSummary,
  type PathOutlook,
  type PreparedOutlook,
  type Forecaster,
  type SessionChoice,
  type SummaryContext,
} from '../forecast';
import { fanChartFigure, figureToHtml, renderPng } from '../plot';
import { bestConfigFrom, bestConfigNotes, forecastConfigFromBest } from './bestConfigArg';
import { readConfigFile } from './configFile';
import { AMBIGUOUS_FLAG_HELP } from './data';
import { FORECAST_CLASSES, FORECAST_DEFAULTS, flagsToConfig, readForecastConfig, resolveForecastSettings, SESSION_ALIASES, type ForecastSettings } from './forecastConfig';

/** Exit status of `--wait` during warm-up (sysexits EX_TEMPFAIL: a temporary failure, retry later). */
export const EXIT_WARMING_UP = 75;

/** What {@link runForecast} returns: the summary, the files, and the warm-up state when it stopped early. */
export type ForecastRun =
  | { kind: 'done'; summary: OutlookSummary; files: Record<string, string>; text: string }
  | { kind: 'warmingUp'; required: number; available: number; missing: number; readyAt: string | null; message: string };

/**
 * Loads and validates the settings' data file (`loadValidBars`, as every command) and picks the
 * symbol's bars as typed arrays.
 * @throws DataError for bad data; ConfigError when the symbol is absent or the bar length cannot be told.
 * @example loadSymbol(settings).barMs // 60000
 */
export function loadSymbol(s: ForecastSettings): { arrays: BarArrays; barMs: number } {
  const bars = loadValidBars(s.data, s.load).bars;
  let arrays: BarArrays | undefined;
  if (hasSymbol(bars)) {
    const bySymbol = barsToArraysBySymbol(bars);
    arrays = bySymbol.get(s.symbol);
    if (!arrays) throw new ConfigError(`symbol ${s.symbol} is not in the data (symbols: ${[...bySymbol.keys()].slice(0, 20).join(', ')})`, { file: s.data, key: 'symbol', value: s.symbol });
  } else {
    arrays = barsToArraysBySymbol(bars).get('')!;
  }
  const barMs = s.load.barMs ?? inferIntervalMs(arrays.ts);
  if (barMs === undefined) throw new ConfigError('cannot tell the bar length from fewer than two bars: pass --bar', { file: s.data, symbol: s.symbol });
  return { arrays, barMs };
}


/**
 * The session of a run, and why: `--session` (or the config's `session`) when given; else 24x7 when
 * the symbol's bars show a market open around the clock (bars on a Saturday and a Sunday and in at
 * least 20 of 24 UTC hours, `detectContinuous`); else from `--class` (crypto, perp: 24x7; stock:
 * US regular hours); else US regular hours, the documented default.
 * @example chooseForecastSession(settings, btcBars).choice // { source: 'data', reason: 'bars on weekends ...' }
 */
export function chooseForecastSession(s: ForecastSettings, arrays: BarArrays): { settings: ForecastSettings; choice: SessionChoice } {
  const pick = (flag: string, choice: SessionChoice) => ({ settings: { ...s, sessionFlag: flag, session: SESSION_ALIASES[flag], sessionChoice: choice },
    choice });
  if (s.sessionGiven) return pick(s.sessionFlag, { source: 'given', reason: `given (--session ${s.sessionFlag} or the config's session)` });
  const seen = detectContinuous(arrays.ts);
  if (seen.continuous) {
    return pick('24x7', { source: 'data', reason: `the data trades around the clock: ${seen.weekendBars} bars on Saturdays and Sundays, bars in ${seen.hoursWithBars} of 24 UTC hours (pass --session to choose another)` });
  }
  const why = `the data shows no 24x7 market (${seen.bothWeekendDays ? 'bars on both weekend days' : 'no bars on both weekend days'}, bars in ${seen.hoursWithBars} of 24 UTC hours)`;
  if (s.instrumentClass !== undefined) {
    const flag = s.instrumentClass === 'stock' ? FORECAST_DEFAULTS.session : '24x7';
    return pick(flag, { source: 'class', reason: `--class ${s.instrumentClass}: ${flag === '24x7' ? '24x7' : 'US regular hours'}; ${why}` });
  }
  return pick(FORECAST_DEFAULTS.session, { source: 'default', reason: `US regular hours, the default: ${why}; pass --session or --class crypto|perp|stock` });
}

function recentBars(p: PreparedOutlook, count: number): PreparedOutlook['features'] {
  const f = p.features;
  const from = Math.max(0, f.ts.length - count);
  const cut = (x: Float64Array) => x.subarray(from);
  return { ...f, ts: cut(f.ts), open: cut(f.open), high: cut(f.high), low: cut(f.low), close: cut(f.close), volume: cut(f.volume), vwap: cut(f.vwap),
    midband: cut(f.midband), upper: cut(f.upper), lower: cut(f.lower) };
}

/** Stages the paths CSV and the fan chart in `outputs` (renamed into place with the summary, at the end). */
function stageOutputs(outputs: OutputBatch, s: ForecastSettings, prepared: PreparedOutlook, outlook: PathOutlook, modelName: string): Record<string, string> {
  const stem = `${s.symbol.replace(/[^A-Za-z0-9._-]/g, '_')}_${fileStamp(prepared.asOfMs)}`;
  const files = {
    summary: safeOutputPath(s.out, stem, '--symbol', { prefix: 'pred_summary_', suffix: '.json' }),
    paths: safeOutputPath(s.out, stem, '--symbol', { prefix: 'paths_', suffix: '.csv' }),
    chart: safeOutputPath(s.out, stem, '--symbol', { prefix: 'fan_', suffix: '.html' }),
  };
  outputs.write(files.paths, pathsCsv(outlook.paths));
  const recent = recentBars(prepared, s.chartBars);
  const st = outlook.stats;
  const title = `${s.symbol} ${s.horizon}-bar outlook from ${new Date(prepared.asOfMs).toISOString().slice(0, 16)}Z, ${modelName}: P(up) ${st.pUp.toFixed(2)} ± ${st.pUpStdError.toFixed(2)}`;
  const figure = fanChartFigure({
    title,
    recent,
    lastOpenMs: prepared.lastOpenMs,
    entryClose: prepared.current.close,
    stepTimes: outlook.stepTimes,
    paths: outlook.paths,
    bands: st.bands,
    levels: st.barriers.map((b) => ({ name: b.name, price: b.price })),
    breaks: sessionBreaks(Float64Array.from([...recent.ts, ...outlook.stepTimes]), prepared.barMs, s.session),
  });
  const description = `${outlook.pathMethod}. Touches from ${st.extremesFrom === 'highLow' ? 'sampled highs and lows' : 'closes only'}. Times in UTC.`;
  outputs.write(files.chart, figureToHtml(figure, title, { description }));
  return files;
}

/** One outlook from bars in memory with an open forecaster, before anything is written. */
export interface OutlookStep {
  prepared: PreparedOutlook;
  outlook: PathOutlook;
  /** The summary's run facts, less timings and files (see {@link outlookSummary}). */
  context: Omit<SummaryContext, 'timings' | 'files'>;
}

/**
 * The forecast pipeline on one symbol's bars in memory: prepare (session bars, context, VWAP,
 * bands), sample with the settings' forecaster and sampler (autoregressive models get the
 * command's temperature / top-p defaults), take the statistics and add the notes. Shared by
 * `quantbook forecast`, `quantbook live` and `quantbook serve`, so the three agree; the caller
 * owns (and closes) the forecaster. `lap('prepareMs')` is called after preparing, when given.
 * @throws DataError (warm-up, no bar in the session), ModelError, ConfigError as the steps do.
 * @example (await outlookFromArrays(settings, await openModel('historical'), arrays, 60_000)).outlook.stats.pUp // e.g. 0.52
 */
export async function outlookFromArrays(s: ForecastSettings, model: Forecaster, arrays: BarArrays, barMs: number,
  lap?: (stage: string) => void): Promise<OutlookStep> {
  const contextLength = model.info.contextLength;
  const prepared = prepareOutlook(arrays, { barMs, session: s.session, lookback: s.lookback, contextLength, bollingerWindow: s.bollingerWindow });
  lap?.('prepareMs');
  const ar = model.info.family === 'autoregressive';
  const sampling = ar
    ? { temperature: s.sampling.temperature ?? FORECAST_DEFAULTS.temperature, topP: s.sampling.topP ?? FORECAST_DEFAULTS.top_p, topK: s.sampling.topK ?? 0,
      samplesPerBatch: s.samplesPerBatch }
    : s.sampling;
  const outlook = await forecastOutlook(model, prepared, {
    horizon: s.horizon,
    samples: s.samples,
    seed: s.seed,
    session: s.session,
    sampling,
    quantilePaths: { dependence: s.quantilePaths, tails: s.quantileTails },
    percentiles: s.percentiles,
    levels: s.levels,
    quietWindows: s.quietWindows,
  });
  if (prepared.counts.outsideSession > 0) {
    outlook.notes.push(`${prepared.counts.outsideSession} of ${prepared.counts.bars} bars lie outside the ${s.session} session and were left out${s.sessionFlag === 'rth' ? ' (extended hours are off by default; crypto and other 24x7 markets: --session 24x7 or --class crypto)' : ''}`);
  }
  if (s.lookback > contextLength) outlook.notes.push(`lookback ${s.lookback} capped at ${model.info.name}'s context of ${contextLength} bars`);
  const session = `${s.sessionFlag}${SESSION_ALIASES[s.sessionFlag] !== s.sessionFlag ? ` (${s.session})` : ''}`;
  return { prepared, outlook, context: { symbol: s.symbol, modelRef: s.model, session, ...(s.sessionChoice ? { sessionChoice: s.sessionChoice } : {}),
    lookback: s.lookback, contextLength, samples: s.samples, horizon: s.horizon, seed: s.seed, dataFile: s.data, version: VERSION } };
}

/**
 * Runs the whole command on resolved settings: load, warm-up check, prepare, open the model,
 * sample, summarise, write (and PNG). Resolves to the summary, or to the warm-up state when
 * `wait` is set and bars are missing. Timings count from the call, or from process start with
 * `fromProcessStart` (the command); `cpuMs` is the process's CPU time either way.
 * The files (paths CSV, chart HTML, PNG, summary JSON) are all written to temporary files first and
 * renamed into place at the end: a failure leaves the previous run's files as they were.
 * @throws DataError / ModelError / ConfigError as the steps do (warm-up without `wait` is a DataError);
 *   ConfigError for an unwritable `--out`, before any work; OutputError when a file cannot be written.
 * @example (await runForecast(resolveForecastSettings({ data: 'btc.feather', symbol: 'BTC', out: 'out', session: '24x7' }, {}))).kind // 'done'
 */
export async function runForecast(s: ForecastSettings, opts: { fromProcessStart?: boolean } = {}): Promise<ForecastRun> {
  checkOutputDir(s.out, '--out'); // before any work: an unwritable --out fails now, in one line
  const outputs = new OutputBatch();
  try {
    const run = await stageForecast(outputs, s, opts);
    outputs.commit();
    return run;
  } finally {
    outputs.abort();
  }
}

/** {@link runForecast}'s work: the files are staged in `outputs`, not yet in place. */
async function stageForecast(outputs: OutputBatch, given: ForecastSettings, opts: { fromProcessStart?: boolean }): Promise<ForecastRun> {
  // The command counts from process start (node and module loading are part of its latency);
  // a call from a notebook counts from the call.
  const origin = opts.fromProcessStart ? 0 : performance.now();
  const marks: Record<string, number> = { startupMs: performance.now() - origin };
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    marks[name] = now - t;
    t = now;
  };
  const { arrays, barMs } = loadSymbol(given);
  const s = chooseForecastSession(given, arrays).settings;
  lap('loadMs');
  const model = withCalibration(await openModel(s.model, { device: s.device, threads: s.threads }), s.calibrate);
  lap('openModelMs');
  const contextLength = model.info.contextLength;
  if (s.wait) {
    const w = warmUpStatus(arrays, { barMs, session: s.session, lookback: s.lookback, contextLength });
    if (w.missing > 0) {
      const last = arrays.ts.length > 0 ? arrays.ts[arrays.ts.length - 1] : NaN;
      const readyAt = Number.isFinite(last) ? new Date(forecastStepTimes(last, w.missing, barMs, s.session)[w.missing - 1] + barMs).toISOString() : null;
      const message = `warm-up: ${w.missing} more bars needed (${w.available} of ${w.required} in the ${s.session} session)${readyAt ? `; enough at about ${readyAt} if no bar is missed` : ''}`;
      await model.close();
      return { kind: 'warmingUp', ...w, readyAt, message };
    }
  }
  let step: OutlookStep;
  try {
    step = await outlookFromArrays(s, model, arrays, barMs, lap);
  } finally {
    await model.close();
  }
  const { prepared, outlook, context: ctx } = step;
  marks.sampleMs = outlook.timings.sampleMs;
  marks.summariseMs = outlook.timings.summariseMs;
  t = performance.now();
  outlook.notes.push(...(s.notes ?? []));
  let files = stageOutputs(outputs, s, prepared, outlook, model.info.name);
  marks.writeMs = performance.now() - t;
  // The latency is the forecast's: it stops before the PNG, whose own time is pngMs.
  const timings: Record<string, number> = { ...marks, totalMs: performance.now() - origin, cpuMs: cpuMs() };
  if (s.png) {
    // renderPng never throws: a missing Chromium or a failed render comes back as a reason.
    const png = await renderPng(outputs.tempOf(files.chart)!);
    if (png.ok) {
      files = { ...files, png: files.chart.replace(/\.html$/, '.png') };
      outputs.write(files.png, png.png);
      timings.pngMs = png.ms;
    } else outlook.notes.push(`no PNG: ${png.reason}`);
  }
  const summary = outlookSummary(prepared, outlook, { ...ctx, timings, files });
  outputs.write(files.summary, `${JSON.stringify(summary, null, 2)}\n`); // last: it lists the others
  return { kind: 'done', summary, files: summary.files, text: formatOutlookSummary(summary) };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Registers `quantbook forecast`.
 * @example registerForecastCommands(program) // adds `quantbook forecast`
 */
export function registerForecastCommands(program: Command): void {
  program
    .command('forecast')
    .description('sample N price paths for the next H bars and report P(up), expected return, bands, P(touch VWAP / middle band / levels), drawdown; writes summary JSON, paths CSV and a fan chart')
    .option('--data <path>', 'bars file or folder (Feather/IPC, Parquet, CSV, kline JSON)')
    .option('--symbol <name>', 'symbol to forecast (selects it in multi-symbol data; names a single-symbol file)')
    .option('--config <file>', 'YAML config with the same keys in snake_case (top_p, quiet_windows, ...), or a best sampler config (configs/best/SYM.json, told apart by its schema tag): its model, samples, lookback, temperature and top-p; flags override either; unknown keys are errors')
    .option('--horizon <bars>', `bars ahead (default ${FORECAST_DEFAULTS.horizon})`)
    .option('--samples <n>', `paths N (default ${FORECAST_DEFAULTS.samples})`)
    .option('--temperature <t>', `sampling temperature, autoregressive models (default ${FORECAST_DEFAULTS.temperature})`)
    .option('--top-p <p>', `nucleus sampling mass in (0, 1], autoregressive models (default ${FORECAST_DEFAULTS.top_p})`)
    .option('--top-k <k>', 'keep the k most likely tokens, autoregressive models (default off)')
    .option('--samples-per-batch <n>', `paths decoded together per ONNX run, autoregressive models (default ${FORECAST_DEFAULTS.samples_per_batch})`)
    .option('--lookback <bars>', `context bars L given to the model, at most its context length (default ${FORECAST_DEFAULTS.lookback})`)
    .option('--session <name>', 'rth (US regular hours; extended hours off), extended (04:00-20:00 New York), 24x7, or a calendar: us-rth, us-ext, cn-a (default: 24x7 when the bars trade at weekends and nights, else from --class, else rth)')
    .option('--class <name>', `instrument class when --session is not given and the data does not show a 24x7 market: ${FORECAST_CLASSES.join(', ')} (crypto, perp: 24x7; stock: rth)`)
    .option('--model <card|baseline>', 'model card (.json), baseline (historical, naive, trend) or volatility model (ewma, garch, gjr-garch); default models/qb-ar-s.json')
    .option('--calibrate <how>', 'none (default) or conformal: quantiles and paths adjusted by adaptive conformal inference, warmed up on earlier origins of the context window')
    .option('--seed <n>', 'seed of every random draw (default 0)')
    .option('--device <auto|cpu|cuda>', 'where the model runs (default auto)')
    .option('--threads <n>', 'onnxruntime threads (default 1)')
    .option('--out <dir>', 'output folder')
    .option('--percentiles <list>', 'band percentiles, e.g. 10,50,90 (default)')
    .option('--level <[name=]price...>', 'extra price levels to test for touches (repeatable)')
    .option('--bollinger-window <bars>', 'SMA / Bollinger middle band window (default 20)')
    .option('--quantile-paths <kind>', 'quantile models: how steps are joined: brownian (default), comonotone, independent')
    .option('--quantile-tails <kind>', 'quantile models: tails beyond the outer levels: exponential (default), normal, clamp')
    .option('--chart-bars <n>', 'recent bars drawn on the fan chart (default 120)')
    .option('--no-png', 'skip the PNG snapshot (needs Chromium)')
    .option('--wait', `during warm-up (too few bars) print how many are missing and exit ${EXIT_WARMING_UP} instead of failing with exit 1`)
    .option('--json', 'print the summary as JSON')
    .option('--time-zone <tz>', 'IANA zone of naive timestamps in the file (default UTC)')
    .option('--timestamp <format>', 'timestamp format: auto, iso, epoch-s, epoch-ms, epoch-us, epoch-ns, or a pattern')
    .option('--stamped-at <start|end>', 'whether file timestamps mark the bar start (default) or end (needs --bar)')
    .option('--bar <duration>', 'bar length, e.g. 5m (default: inferred)')
    .option('--column <KEY=NAME...>', 'source column for ts, open, high, low, close, volume or symbol (ts= alone: the unnamed first column)')
    .option('--ambiguous <earliest|latest>', AMBIGUOUS_FLAG_HELP)
    .addHelpText(
      'after',
      `
Examples:
  quantbook forecast --data ../shared/data/real/crypto-1m/UNITTEST_BTC-1m.feather --symbol BTC --session 24x7 --out out/btc
  quantbook forecast --data ../shared/data/real/a-share-5m.csv --symbol 600000 --session cn-a \\
    --time-zone Asia/Shanghai --stamped-at end --bar 5m --lookback 240 --model models/qb-quantile-s.json --out out/ashare
  quantbook forecast --config outlook.yaml --top-p 0.8      # flags override the config

Writes pred_summary_<SYMBOL>_<asof>.json, paths_<SYMBOL>_<asof>.csv (N rows of H closes; highs and
lows too when sampled), fan_<SYMBOL>_<asof>.html and .png (<asof> = the last bar's close, UTC).
Exit status: 0 done, 1 error, ${EXIT_WARMING_UP} warm-up with --wait.`,
    )
    .action(async (flags: Record<string, unknown>) => {
      // A best sampler config is told from a forecast config by its content (its schema tag).
      const best = typeof flags.config === 'string' ? bestConfigFrom(readConfigFile(flags.config), flags.config) : null;
      const fromFile = best ? forecastConfigFromBest(best) : typeof flags.config === 'string' ? readForecastConfig(flags.config) : {};
      // commander sets png: true unless --no-png; only an explicit --no-png should override the config.
      const { png, ...rest } = flags;
      const resolved = resolveForecastSettings(fromFile, flagsToConfig(png === false ? { ...rest, png } : rest));
      const settings = best
        ? { ...resolved, notes: [...bestConfigNotes(best, 'quantbook forecast', resolved.horizon), `${best.file}: aggregate ${best.setting.aggregation} not used: the outlook reports the paths' mean return, percentile bands and P(up), not one point aggregate`] }
        : resolved;
      const run = await runForecast(settings, { fromProcessStart: true });
      if (run.kind === 'warmingUp') {
        process.stderr.write(`quantbook: ${run.message}\n`);
        process.exitCode = EXIT_WARMING_UP;
        return;
      }
      process.stdout.write(`${flags.json ? JSON.stringify(run.summary, null, 2) : `${run.text}\nwrote ${Object.values(run.files).join(', ')}`}\n`);
    });
}
