/**
 * `quantbook serve`: the forecast service. With `--source` it runs the live loop
 * in-process (the same session as `quantbook live`) and serves its latest outlook,
 * pushing each new one to the live page; without it, it forecasts the config's data
 * file once at start and on demand.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../core/errors';
import { parseDuration, type BarArrays } from '../data';
import { openModel, type Forecaster } from '../forecast';
import type { ForecastSink, LiveOutlook } from '../live';
import { buildServer, type ForecastServer, type OnDemandParams, type OutlookProvider } from '../serve';
import { loadSymbol } from './forecast';
import { FORECAST_DEFAULTS, type ForecastSettings } from './forecastConfig';
import { addForecastFlags, addLiveFlags, liveForecast, splitFlags, startLive, type LiveSession } from './live';
import { int, parseFlags } from './options';

const serveFlagsSchema = z.object({
  port: int(0).max(65535).default(8787),
  host: z.string().min(1).default('127.0.0.1'),
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  cors: z.string().optional(),
  maxStreams: int(1).default(100),
  maxSamples: int(1).default(2000),
  maxHorizon: int(1).default(240),
  shutdownGrace: z.string().default('10s'),
});
const SERVE_KEYS = Object.keys(serveFlagsSchema.shape);

/** A running service: the server, its URL, the live session (with `--source`), and a graceful stop. */
export interface RunningService {
  server: ForecastServer;
  url: string;
  symbol: string;
  session?: LiveSession;
  /** Ends streams, lets requests finish, stops the loop (the in-flight forecast finishes or is abandoned after the grace period), closes the model. */
  stop(): Promise<void>;
}

/** What a provider needs besides the bars: the settings, the model and the page's sizes. */
class Provider implements OutlookProvider {
  readonly symbol: string;
  readonly defaults: OnDemandParams;
  private current: LiveOutlook | undefined;
  private readonly history: { asOf: string; pUp: number }[] = [];
  private readonly listeners = new Set<(o: LiveOutlook) => void>();

  constructor(
    private readonly s: ForecastSettings,
    private readonly model: Forecaster,
    private readonly bars: () => BarArrays,
    private readonly o: { barMs: number; pathsKept: number; candles: number; dataLabel: string },
    readonly loopStats?: OutlookProvider['loopStats'],
  ) {
    this.symbol = s.symbol;
    const ar = model.info.family === 'autoregressive';
    this.defaults = {
      horizon: s.horizon,
      samples: s.samples,
      temperature: s.sampling.temperature ?? (ar ? FORECAST_DEFAULTS.temperature : undefined),
      topP: s.sampling.topP ?? (ar ? FORECAST_DEFAULTS.top_p : undefined),
    };
  }

  /** The sink the live loop feeds. */
  readonly sink: ForecastSink<LiveOutlook> = { name: 'service', emit: (o) => this.publish(o) };

  publish(o: LiveOutlook): void {
    this.current = o;
    this.history.push({ asOf: o.summary.asOf, pUp: o.summary.pUp });
    if (this.history.length > 500) this.history.splice(0, this.history.length - 500);
    for (const l of this.listeners) l(o);
  }

  latest(): LiveOutlook | undefined {
    return this.current;
  }

  pUpHistory(): { asOf: string; pUp: number }[] {
    return this.history.slice();
  }

  subscribe(listener: (o: LiveOutlook) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onDemand(p: OnDemandParams): Promise<LiveOutlook> {
    const s = { ...this.s, horizon: p.horizon, samples: p.samples, sampling: { ...this.s.sampling, temperature: p.temperature, topP: p.topP } };
    const r = await liveForecast(s, this.model, this.o)(this.bars());
    if (r.kind === 'warmingUp') throw Object.assign(new Error(`warm-up: ${r.missing} more bars needed before a forecast`), { statusCode: 503 });
    return r.value;
  }
}

/**
 * Starts the service from commander's flags (forecast, live and serve flags together).
 * @throws ConfigError for bad flags, a missing token variable, or what the live session throws.
 * @example const svc = await startService({ config: 'outlook.yaml', source: 'replay', replay: 'btc.feather', port: '0' }); svc.url // 'http://127.0.0.1:40123'
 */
export async function startService(flags: Record<string, unknown>, log: (line: string) => void = () => undefined): Promise<RunningService> {
  const serveFlags = Object.fromEntries(Object.entries(flags).filter(([k]) => SERVE_KEYS.includes(k)));
  const f = parseFlags(serveFlagsSchema, serveFlags);
  const graceMs = parseDuration(f.shutdownGrace);
  let token: string | undefined;
  if (f.tokenEnv) {
    token = process.env[f.tokenEnv];
    if (!token) throw new ConfigError(`--token-env ${f.tokenEnv}: the variable is unset or empty`, { key: '--token-env' });
  }
  const { settings, live } = splitFlags(flags, SERVE_KEYS);
  const pathsKept = Number(live.pathsKept ?? 40);
  const candles = Number(live.candles ?? 120);
  let provider: Provider;
  let session: LiveSession | undefined;
  let closeModel: () => Promise<void>;
  if (live.source !== undefined) {
    let p: Provider | undefined;
    const relay: ForecastSink<LiveOutlook> = { name: 'service', emit: (o) => p?.publish(o) };
    session = await startLive(settings, live, {
      log,
      extraSinks: [relay],
      prepare: (ss) => {
        p = new Provider(settings, ss.model, () => ss.loop.buffer.snapshot(settings.symbol),
          { barMs: ss.barMs, pathsKept: ss.live.pathsKept, candles: ss.live.candles, dataLabel: ss.dataLabel }, () => ss.loop.stats);
      },
    });
    provider = p!;
    // A source that gives up (a refused login) ends the loop; the service keeps answering with the last outlook.
    session.done.catch((err) => log(`live source stopped: ${err instanceof Error ? err.message : String(err)}`));
    closeModel = async () => undefined; // the session closes its model
  } else {
    const { arrays, barMs } = loadSymbol(settings);
    const model = await openModel(settings.model, { device: settings.device, threads: settings.threads });
    provider = new Provider(settings, model, () => arrays, { barMs, pathsKept, candles, dataLabel: settings.data });
    try {
      provider.publish(await provider.onDemand(provider.defaults));
    } catch (err) {
      await model.close();
      throw err;
    }
    closeModel = () => model.close();
  }
  const server = buildServer({
    provider,
    token,
    corsOrigins: f.cors ? f.cors.split(',').map((o) => o.trim()).filter(Boolean) : [],
    maxStreams: f.maxStreams,
    maxSamples: f.maxSamples,
    maxHorizon: f.maxHorizon,
  });
  let address: string;
  try {
    address = await server.app.listen({ host: f.host, port: f.port });
  } catch (err) {
    await session?.stop();
    await closeModel();
    throw new ConfigError(`cannot listen on ${f.host}:${f.port}: ${err instanceof Error ? err.message : String(err)}`, { key: '--port' });
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      if (session) {
        const s = session;
        const abandoned = await Promise.race([s.stop().then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
        if (abandoned) log(`shutdown: the in-flight forecast was abandoned after ${graceMs / 1000} s`);
      }
      await closeModel();
    })());
  return { server, url: address, symbol: settings.symbol, session, stop };
}

/**
 * Registers `quantbook serve`.
 * @example registerServeCommands(program) // adds `quantbook serve`
 */
export function registerServeCommands(program: Command): void {
  const cmd = program.command('serve').description('the forecast service: GET /forecast, /health, /metrics and a live page (/) updated by server-sent events');
  addLiveFlags(addForecastFlags(cmd), false)
    .option('--port <n>', 'TCP port (default 8787; 0: any free port)')
    .option('--host <addr>', 'address to bind (default 127.0.0.1: this machine only)')
    .option('--token-env <NAME>', 'require "Authorization: Bearer $NAME" on every route but /health')
    .option('--cors <origins>', 'comma-separated origins allowed by CORS (default: none, CORS off)')
    .option('--max-streams <n>', 'live page streams open at once (default 100)')
    .option('--max-samples <n>', 'largest samples a /forecast request may ask for (default 2000)')
    .option('--max-horizon <n>', 'largest horizon a /forecast request may ask for (default 240)')
    .option('--shutdown-grace <duration>', 'on SIGTERM, how long the in-flight forecast may still run (default 10s)')
    .addHelpText(
      'after',
      `
Examples:
  quantbook serve --config outlook.yaml --source replay --replay ../shared/data/real/crypto-1m/UNITTEST_BTC-1m.feather --speed 60
  QB_TOKEN=... quantbook serve --config outlook.yaml --source binance --stream-symbol btcusdt --token-env QB_TOKEN
  curl 'http://127.0.0.1:8787/forecast?symbol=BTC&samples=200&top_p=0.8'

Without --source the service forecasts the config's data file at start and on demand.`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const svc = await startService(flags, log);
      process.stderr.write(`quantbook serve: ${svc.url}/ (live page), ${svc.url}/forecast?symbol=${encodeURIComponent(svc.symbol)}\n`);
      await new Promise<void>((resolve) => {
        const onSignal = (sig: string) => {
          log(`${sig}: shutting down`);
          void svc.stop().then(resolve);
        };
        process.once('SIGTERM', () => onSignal('SIGTERM'));
        process.once('SIGINT', () => onSignal('SIGINT'));
      });
    });
}
