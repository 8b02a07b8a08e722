/**
 * `quantbook live`: the realtime 30-minute outlook. Each closed bar of a source
 * (a replayed file, Binance klines, Alpaca minute bars) goes through the same
 * pipeline as `quantbook forecast` (shared through {@link outlookFromArrays}),
 * and each summary is written atomically as `pred_summary_*.json` and optionally
 * published on Redis. `quantbook serve` starts the same session in-process.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../core/errors';
import { parseDuration, sessionIndex, type BarArrays } from '../data';
import { openModel, outlookSummary, warmUpStatus, type Forecaster, type PreparedOutlook, type PricePaths } from '../forecast';
import { LiveLoop, ReplaySource, primeCount, RedisPublishSink, redisChannel, SummaryFileSink, SKIP_REASONS, type BarSource, type ForecastAttempt, type ForecastSink, type LiveCandles, type LiveOutlook } from '../live';
import { chooseForecastSession, loadSymbol, outlookFromArrays } from './forecast';
import { durationString, flagsToConfig, readForecastConfig, resolveForecastSettings, type ForecastSettings } from './forecastConfig';
import { int, parseFlags } from './options';
import { createBackfill, createStreamSource, type BackfillSettings, type StreamSettings } from './liveSources';

const duration = durationString('use a duration like 5s or 1m');

/** The live flags (the forecast settings come from `--config` and the forecast flags). */
export const liveFlagsSchema = z.object({
  source: z.enum(['replay', 'binance', 'alpaca']),
  replay: z.string().min(1).optional(),
  speed: z.union([z.literal('max'), z.coerce.number().positive()]).default(60),
  prime: int(0).optional(),
  maxBars: int(1).optional(),
  publish: z.string().min(1).optional(),
  channel: z.string().min(1).optional(),
  deadline: duration.optional(),
  deadlineMargin: duration.default('5s'),
  maxBarAge: duration.optional(),
  quiet: z.enum(['flag', 'skip']).default('flag'),
  keepBars: int(2).optional(),
  pathsKept: int(0).default(40),
  candles: int(1).default(120),
  streamSymbol: z.string().min(1).optional(),
  streamUrl: z.string().url().optional(),
  backfill: z.boolean().default(true),
  backfillUrl: z.string().url().optional(),
});

/** Resolved live settings. */
export interface LiveSettings extends StreamSettings, BackfillSettings {
  replay?: string;
  /** Replay speed (market ms per wall ms); Infinity for lock-step (`--speed max`). */
  speed: number;
  prime?: number;
  maxBars?: number;
  publish?: string;
  channel?: string;
  /** Wall ms a forecast may take; default (bar - margin) / speed, none in lock-step. */
  deadlineMs: number;
  maxBarAgeMs?: number;
  quiet: 'flag' | 'skip';
  keepBars?: number;
  pathsKept: number;
  candles: number;
}

/**
 * Checks the live flags (commander's camelCase object) against the bar length.
 * @throws ConfigError naming the flag (`--speed`, `--replay`, ...).
 * @example resolveLiveSettings({ source: 'replay', replay: 'btc.feather', speed: '60' }, 60_000).deadlineMs // 916.67 (55 s / 60)
 */
export function resolveLiveSettings(flags: Record<string, unknown>, barMs: number): LiveSettings {
  const f = parseFlags(liveFlagsSchema, flags);
  if (f.source === 'replay' && !f.replay) throw new ConfigError('--source replay needs --replay FILE', { key: '--replay' });
  const speed = f.speed === 'max' ? Infinity : f.speed;
  const marginMs = parseDuration(f.deadlineMargin);
  if (marginMs >= barMs) throw new ConfigError(`--deadline-margin must be shorter than the bar (${barMs / 1000} s)`, { key: '--deadline-margin', value: f.deadlineMargin });
  const deadlineMs = f.deadline ? parseDuration(f.deadline) : Number.isFinite(speed) ? (barMs - marginMs) / speed : Infinity;
  return {
    source: f.source,
    replay: f.replay,
    speed,
    prime: f.prime,
    maxBars: f.maxBars,
    publish: f.publish,
    channel: f.channel,
    deadlineMs,
    maxBarAgeMs: f.maxBarAge ? parseDuration(f.maxBarAge) : undefined,
    quiet: f.quiet,
    keepBars: f.keepBars,
    pathsKept: f.pathsKept,
    candles: f.candles,
    streamSymbol: f.streamSymbol,
    streamUrl: f.streamUrl,
    backfill: f.backfill,
    backfillUrl: f.backfillUrl,
  };
}

function firstPaths(p: PricePaths, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < Math.min(k, p.n); i++) out.push(Array.from(p.close.subarray(i * p.horizon, (i + 1) * p.horizon)));
  return out;
}

function candlesOf(p: PreparedOutlook, count: number): LiveCandles {
  const f = p.features;
  const from = Math.max(0, f.ts.length - count);
  const arr = (x: Float64Array) => Array.from(x.subarray(from));
  return { ts: arr(f.ts), open: arr(f.open), high: arr(f.high), low: arr(f.low), close: arr(f.close),
    vwap: Array.from(f.vwap.subarray(from), (v) => (Number.isFinite(v) ? v : null)) };
}

/**
 * The loop's forecast function: warm-up check, then the forecast command's pipeline on the
 * buffer's bars, then the summary (timings of this bar: prepareMs, sampleMs, summariseMs,
 * totalMs), the first `pathsKept` paths and the last `candles` bars.
 * @example const f = liveForecast(settings, model, { barMs: 60_000, pathsKept: 40, candles: 120, dataLabel: 'replay:btc.feather' })
 */
export function liveForecast(s: ForecastSettings, model: Forecaster,
  o: { barMs: number; pathsKept: number; candles: number; dataLabel: string }): (bars: BarArrays) => Promise<ForecastAttempt<LiveOutlook>> {
  return async (bars) => {
    // The pipeline's synchronous stages hold the event loop: let requests already waiting run first.
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    const w = warmUpStatus(bars, { barMs: o.barMs, session: s.session, lookback: s.lookback, contextLength: model.info.contextLength });
    if (w.missing > 0) return { kind: 'warmingUp', missing: w.missing };
    let t = performance.now();
    const timings: Record<string, number> = {};
    const step = await outlookFromArrays(s, model, bars, o.barMs, (stage) => {
      timings[stage] = performance.now() - t;
      t = performance.now();
    });
    timings.sampleMs = step.outlook.timings.sampleMs;
    timings.summariseMs = step.outlook.timings.summariseMs;
    timings.totalMs = performance.now() - t0;
    const summary = outlookSummary(step.prepared, step.outlook, { ...step.context, dataFile: o.dataLabel, timings, files: {} });
    return { kind: 'done', quiet: step.outlook.quiet, value: { summary, paths: firstPaths(step.outlook.paths, o.pathsKept), candles: candlesOf(step.prepared, o.candles) } };
  };
}

/** A running live session: its loop, source and model. */
export interface LiveSession {
  loop: LiveLoop<LiveOutlook>;
  source: BarSource;
  model: Forecaster;
  settings: ForecastSettings;
  live: LiveSettings;
  barMs: number;
  /** What the summaries name as their data: `replay:<file>` or `<source>:<symbol>`. */
  dataLabel: string;
  /** The REST backfill in effect: `on (binance REST BTCUSDT 1m)`, `off (--no-backfill)`, ... */
  backfill: string;
  /** Resolves when the source ends (a replay) or after {@link LiveSession.stop}. */
  done: Promise<void>;
  /** Stops the source, waits for the loop, closes the publisher and the model. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Opens the model, primes the loop (replay: its first bars; streams: the config's data file),
 * connects the sinks (summary files in `settings.out`, Redis when `--publish`, plus `extraSinks`)
 * and starts the source.
 * @throws ConfigError / DataError / ModelError from loading, the model or the Redis connection.
 * @example const session = await startLive(settings, live, { log: (l) => process.stderr.write(`${l}\n`) }); await session.done;
 */
export async function startLive(given: ForecastSettings, flags: Record<string, unknown>, opts: { log?: (line: string) => void; extraSinks?: ForecastSink<LiveOutlook>[]; prepare?: (session: Omit<LiveSession, 'done' | 'stop'>) => void } = {}): Promise<LiveSession> {
  const log = opts.log ?? (() => undefined);
  const source0 = String(flags.source ?? '');
  const { arrays, barMs } = loadSymbol(source0 === 'replay' && typeof flags.replay === 'string' ? { ...given, data: flags.replay } : given);
  // As `quantbook forecast`: the session given, else 24x7 when the bars trade around the clock, else --class, else rth.
  const { settings: s, choice } = chooseForecastSession(given, arrays);
  log(`session ${s.sessionFlag} (${choice.source}): ${choice.reason}`);
  const live = resolveLiveSettings(flags, barMs);
  const model = await openModel(s.model, { device: s.device, threads: s.threads });
  try {
    const required = Math.min(s.lookback, model.info.contextLength);
    const capacity = live.keepBars ?? required + 1440;
    let source: BarSource;
    let history: BarArrays;
    const backfill = createBackfill(live, s.symbol, barMs, log);
    log(`backfill ${backfill.status}`);
    if (live.source === 'replay') {
      const inSession = sessionIndex(arrays.ts, s.session).sessionId.map((id) => (id >= 0 ? 1 : 0));
      const replay = new ReplaySource({ bars: arrays, barMs, speed: live.speed, prime: live.prime ?? primeCount(inSession, required), maxBars: live.maxBars });
      history = replay.history();
      source = replay;
    } else {
      history = arrays;
      source = createStreamSource(live, s.symbol, barMs, log);
    }
    const sinks: ForecastSink<LiveOutlook>[] = [new SummaryFileSink(s.out)];
    let redis: RedisPublishSink | undefined;
    if (live.publish) {
      redis = await RedisPublishSink.connect(live.publish, live.channel ?? redisChannel(s.symbol));
      sinks.push(redis);
    }
    sinks.push(...(opts.extraSinks ?? []));
    const dataLabel = live.source === 'replay' ? `replay:${live.replay}` : `${live.source}:${live.streamSymbol ?? s.symbol}`;
    const loop = new LiveLoop<LiveOutlook>({
      symbol: s.symbol,
      barMs,
      session: s.session,
      capacity,
      forecast: liveForecast(s, model, { barMs, pathsKept: live.pathsKept, candles: live.candles, dataLabel }),
      deadlineMs: live.deadlineMs,
      maxBarAgeMs: live.maxBarAgeMs,
      clock: source.clock,
      quietWindows: s.quietWindows,
      quiet: live.quiet,
      sinks,
      backfillGap: backfill.hook,
      log,
    });
    loop.prime(history);
    opts.prepare?.({ loop, source, model, settings: s, live, barMs, dataLabel, backfill: backfill.status });
    const done = source.run({ bar: (b) => loop.onBar(b), gap: (g) => loop.noteSourceGap(g), log }).then(() => loop.idle());
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await source.stop();
        await done.catch(() => undefined);
        await redis?.close();
        await model.close();
      })());
    return { loop, source, model, settings: s, live, barMs, dataLabel, backfill: backfill.status, done, stop };
  } catch (err) {
    await model.close();
    throw err;
  }
}

/**
 * The loop's counters as text: bars, forecasts, skips by reason, gaps and their backfill (with the
 * backfill in effect when `backfill` is given), sink failures, latency.
 * @example formatLiveStats(session.loop.stats, session.backfill)
 * // '...\ngaps 2 (5 bars missing, 3 backfilled)\nbackfill on (binance REST BTCUSDT 1m): 1 failed, 0 short\n...'
 */
export function formatLiveStats(st: LiveLoop<LiveOutlook>['stats'], backfill?: string): string {
  const skipped = SKIP_REASONS.filter((r) => st.skipped[r] > 0).map((r) => `${r} ${st.skipped[r]}`);
  const failures = Object.entries(st.sinkFailures).map(([k, v]) => `${k} ${v}`);
  const mean = st.latency.count > 0 ? (st.latency.sum / st.latency.count) * 1000 : NaN;
  return [
    `bars ${st.barsReceived}, forecasts ${st.forecasts} (${st.quietForecasts} quiet)`,
    `skipped: ${skipped.length > 0 ? skipped.join(', ') : 'none'}`,
    `gaps ${st.gaps} (${st.missingBars} bars missing, ${st.backfilledBars} backfilled)`,
    `backfill${backfill ? ` ${backfill}` : ''}: ${st.backfillFailures} failed, ${st.backfillShort} short`,
    `sink failures: ${failures.length > 0 ? failures.join(', ') : 'none'}`,
    `forecast latency: mean ${Number.isFinite(mean) ? mean.toFixed(1) : '-'} ms over ${st.latency.count}`,
  ].join('\n');
}

/** Forecast flags the live and serve commands accept (the rest come from `--config`). */
export function addForecastFlags(cmd: Command): Command {
  return cmd
    .option('--config <file.yaml>', 'the forecast config (`quantbook forecast --config`): model, sampler, session, lookback, levels, quiet windows')
    .option('--data <path>', 'bars file: history for stream sources, on-demand forecasts of serve')
    .option('--symbol <name>', 'symbol')
    .option('--out <dir>', 'folder of the pred_summary_*.json files')
    .option('--model <card|baseline>', 'model card (.json) or baseline: historical, naive, trend')
    .option('--horizon <bars>', 'bars ahead')
    .option('--samples <n>', 'paths N')
    .option('--temperature <t>', 'sampling temperature (autoregressive models)')
    .option('--top-p <p>', 'nucleus sampling mass (autoregressive models)')
    .option('--lookback <bars>', 'context bars')
    .option('--session <name>', 'rth, extended, 24x7, us-rth, us-ext, cn-a (default: 24x7 when the data trades at weekends and nights, else from --class, else rth)')
    .option('--class <name>', 'instrument class when --session is not given and the data does not show a 24x7 market: crypto, perp (24x7), stock (rth)')
    .option('--seed <n>', 'seed of every random draw')
    .option('--device <auto|cpu|cuda>', 'where the model runs')
    .option('--threads <n>', 'onnxruntime threads')
    .option('--bar <duration>', 'bar length, e.g. 1m (default: inferred)');
}

/** Adds the source flags of `quantbook live` (also used by `quantbook serve`). */
export function addLiveFlags(cmd: Command, required: boolean): Command {
  return cmd
    [required ? 'requiredOption' : 'option']('--source <replay|binance|alpaca>', 'where closed bars come from')
    .option('--replay <file>', 'bar file replayed by --source replay')
    .option('--speed <x|max>', 'replay speed: 60 plays 1-minute bars one a second; max: lock-step (default 60)')
    .option('--prime <bars>', 'replay: leading bars given as history (default: enough for the lookback)')
    .option('--max-bars <n>', 'replay: stop after n bars')
    .option('--publish <redis://host:port>', 'publish each summary on Redis pub/sub')
    .option('--channel <name>', 'Redis channel (default quantbook:pred_summary:<SYMBOL>)')
    .option('--deadline <duration>', 'wall time a forecast may take (default: (bar - margin) / speed)')
    .option('--deadline-margin <duration>', 'market time left between the deadline and the next bar (default 5s)')
    .option('--max-bar-age <duration>', 'skip a bar that closed longer ago than this (default: one bar)')
    .option('--quiet <flag|skip>', 'inside quiet windows: flag the forecast (default) or skip the bar')
    .option('--keep-bars <n>', 'bars kept in memory (default: lookback + 1440)')
    .option('--paths-kept <n>', 'sampled paths sent to the live page (default 40)')
    .option('--candles <n>', 'recent bars sent to the live page (default 120)')
    .option('--stream-symbol <name>', 'the exchange symbol (binance: btcusdt; alpaca: QQQ; default --symbol)')
    .option('--stream-url <url>', 'WebSocket endpoint (default: the exchange\'s public one)')
    .option('--no-backfill', 'streams: do not fetch the bars a gap misses over REST (default: fetched, for 1m, 5m, 1h and 1d bars)')
    .option('--backfill-url <url>', 'REST host of the backfill (default: the provider\'s public one)');
}

const LIVE_KEYS = Object.keys(liveFlagsSchema.shape);

/**
 * Splits commander's flags into forecast settings and live flags.
 * @throws ConfigError from the config file or the flags.
 * @example splitFlags({ config: 'outlook.yaml', source: 'replay', replay: 'btc.feather' }).live.source // 'replay'
 */
export function splitFlags(flags: Record<string, unknown>, extra: readonly string[] = []): { settings: ForecastSettings; live: Record<string, unknown> } {
  const fromFile = typeof flags.config === 'string' ? readForecastConfig(flags.config) : {};
  const forecast: Record<string, unknown> = {};
  const live: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) (LIVE_KEYS.includes(k) ? live : extra.includes(k) ? {} : forecast)[k] = v;
  // A replay needs no other data file: the replayed file is the data.
  if (forecast.data === undefined && fromFile.data === undefined && typeof live.replay === 'string') forecast.data = live.replay;
  const settings = resolveForecastSettings(fromFile, flagsToConfig(forecast));
  return { settings: { ...settings, png: false }, live };
}

/**
 * Registers `quantbook live`.
 * @example registerLiveCommands(program) // adds `quantbook live`
 */
export function registerLiveCommands(program: Command): void {
  const cmd = program.command('live').description('the realtime outlook: forecast each closed bar of a replay, Binance or Alpaca stream; write pred_summary_*.json atomically, optionally publish on Redis');
  addLiveFlags(addForecastFlags(cmd), true)
    .addHelpText(
      'after',
      `
Examples:
  quantbook live --config outlook.yaml --source replay --replay ../shared/data/real/crypto-1m/UNITTEST_BTC-1m.feather --speed 60 --out out/live
  quantbook live --config outlook.yaml --source binance --stream-symbol btcusdt --publish redis://127.0.0.1:6379
  APCA_API_KEY_ID=... APCA_API_SECRET_KEY=... quantbook live --config qqq.yaml --source alpaca --stream-symbol QQQ

Skipped bars (warm-up, gap, stale, outside the session, late forecast, superseded, ...) are logged on
stderr with their reason; the counts are printed at the end (a replay's end, or SIGINT / SIGTERM).`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const { settings, live } = splitFlags(flags);
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const session = await startLive(settings, live, { log });
      const onSignal = () => void session.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await session.done;
      } finally {
        await session.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.stdout.write(`${formatLiveStats(session.loop.stats, session.backfill)}\n`);
    });
}
