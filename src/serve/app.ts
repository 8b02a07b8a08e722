/**
 * The forecast service: `/forecast` (cached or on-demand summaries, validated
 * parameters), `/health`, `/metrics`, and the live page (`/`, plotly.js from the
 * installed package, updates by server-sent events on `/events`). Safe defaults:
 * loopback only (the caller binds), CORS off, an optional bearer token for all but
 * `/health` (and the empty `/favicon.ico`), security headers on every answer, a bound on open streams.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LiveStats } from '../live/loop';
import type { LiveOutlook } from '../live/types';
import { prometheusText, ServiceMetrics } from './metrics';
import { livePageHtml, livePageScript, plotlyScript } from './page';

/** The parameters of an on-demand forecast (the rest of the settings are the config's). */
export interface OnDemandParams {
  horizon: number;
  samples: number;
  temperature?: number;
  topP?: number;
}

/** Where the service gets outlooks: the live loop's latest, its P(up) history, and on-demand runs. */
export interface OutlookProvider {
  readonly symbol: string;
  /** The parameters of the cached (live) outlook: a request asking for these gets the cache. */
  readonly defaults: OnDemandParams;
  latest(): LiveOutlook | undefined;
  /** Recent P(up) by forecast origin, oldest first (bounded). */
  pUpHistory(): { asOf: string; pUp: number }[];
  /** A fresh outlook on the latest bars with other parameters. */
  onDemand(params: OnDemandParams): Promise<LiveOutlook>;
  /** Calls `listener` on each new live outlook; returns the unsubscribe function. */
  subscribe(listener: (o: LiveOutlook) => void): () => void;
  /** The live loop's counters, when a live source runs. */
  loopStats?(): LiveStats;
}

/** Options of {@link buildServer}. */
export interface ServeOptions {
  provider: OutlookProvider;
  /** Bearer token required on every route but `/health` (header, or `access_token` query for the page, RFC 6750 section 2.3). */
  token?: string;
  /** Origins allowed by CORS; empty (default): no CORS headers at all. */
  corsOrigins?: readonly string[];
  /** Open event streams at most; more get 503. Default 100. */
  maxStreams?: number;
  /** Largest `samples` a request may ask for. Default 2000. */
  maxSamples?: number;
  /** Largest `horizon` a request may ask for. Default 240. */
  maxHorizon?: number;
  /** On-demand forecasts running or waiting at most; more get 503. Default 4. */
  maxOnDemand?: number;
  /** Cached on-demand outlooks (by parameters and origin). Default 32. */
  onDemandCache?: number;
  /** SSE keep-alive comment interval, ms. Default 15 000. */
  keepAliveMs?: number;
}

/** Headers on every answer: a strict CSP (scripts only from this origin, no inline script), no framing, no sniffing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** A 400 naming the parameter. */
class BadParam extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
}

const FORECAST_KEYS = ['symbol', 'horizon', 'samples', 'temperature', 'top_p', 'access_token'] as const;

/**
 * Checks `/forecast`'s query: known keys only, `symbol` required, numbers in range.
 * @throws BadParam (a 400) naming the first bad parameter.
 */
function forecastQuery(q: Record<string, unknown>, o: { maxSamples: number; maxHorizon: number }): { symbol: string; params: Partial<OnDemandParams> } {
  for (const k of Object.keys(q)) if (!(FORECAST_KEYS as readonly string[]).includes(k)) throw new BadParam(k, `unknown parameter ${k} (allowed: symbol, horizon, samples, temperature, top_p)`);
  const one = (k: string) => {
    const v = q[k];
    if (Array.isArray(v)) throw new BadParam(k, `${k} given more than once`);
    return v === undefined || v === '' ? undefined : String(v);
  };
  const symbol = one('symbol');
  if (!symbol) throw new BadParam('symbol', 'symbol is required');
  const num = (k: string, schema: z.ZodType<number>, what: string) => {
    const v = one(k);
    if (v === undefined) return undefined;
    const r = schema.safeParse(Number(v));
    if (!r.success || !/^[-+0-9.eE]+$/.test(v)) throw new BadParam(k, `${k} must be ${what}, got ${JSON.stringify(v.slice(0, 40))}`);
    return r.data;
  };
  return {
    symbol,
    params: {
      horizon: num('horizon', z.number().int().min(1).max(o.maxHorizon), `a whole number from 1 to ${o.maxHorizon}`),
      samples: num('samples', z.number().int().min(1).max(o.maxSamples), `a whole number from 1 to ${o.maxSamples}`),
      temperature: num('temperature', z.number().gt(0).max(10), 'a number in (0, 10]'),
      topP: num('top_p', z.number().gt(0).max(1), 'a number in (0, 1]'),
    },
  };
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A bounded cache, least recently used out first. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }
}

/** The service and a way to close it with its streams. */
export interface ForecastServer {
  app: FastifyInstance;
  metrics: ServiceMetrics;
  /** Ends every open event stream, then stops the server (in-flight requests finish). */
  close(): Promise<void>;
}

/**
 * Builds the Fastify app (not listening yet: `await server.app.listen({ host: '127.0.0.1', port })`).
 * @example
 * const server = buildServer({ provider, token: process.env.QB_TOKEN });
 * await server.app.listen({ host: '127.0.0.1', port: 8787 });
 */
export function buildServer(opts: ServeOptions): ForecastServer {
  const p = opts.provider;
  const limits = { maxSamples: opts.maxSamples ?? 2000, maxHorizon: opts.maxHorizon ?? 240 };
  const maxStreams = opts.maxStreams ?? 100;
  const maxOnDemand = opts.maxOnDemand ?? 4;
  const cors = new Set(opts.corsOrigins ?? []);
  const metrics = new ServiceMetrics();
  const cache = new Lru<LiveOutlook>(opts.onDemandCache ?? 32);
  const inFlight = new Map<string, Promise<LiveOutlook>>();
  const streams = new Set<ServerResponse>();
  // Serialised once per outlook, not once per request or stream: a cached answer is a string copy.
  const summaryJson = new WeakMap<LiveOutlook, string>();
  const eventJson = new WeakMap<LiveOutlook, string>();
  const memo = (m: WeakMap<LiveOutlook, string>, o: LiveOutlook, f: (o: LiveOutlook) => unknown) => {
    let text = m.get(o);
    if (text === undefined) m.set(o, (text = JSON.stringify(f(o))));
    return text;
  };
  const sendSummary = (reply: FastifyReply, o: LiveOutlook, how: 'cached' | 'on-demand') =>
    reply.header('x-quantbook-outlook', how).type('application/json; charset=utf-8').send(memo(summaryJson, o, (x) => x.summary));
  let onDemandRunning = 0;
  let closing = false;
  const app = Fastify({ logger: false, bodyLimit: 1024, routerOptions: { maxParamLength: 100 } });

  const corsHeaders = (req: FastifyRequest): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || !cors.has(origin)) return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-headers': 'authorization', 'access-control-allow-methods': 'GET' };
  };

  app.addHook('onRequest', async (req, reply) => {
    (req as FastifyRequest & { t0: number }).t0 = performance.now();
    reply.headers({ ...SECURITY_HEADERS, ...corsHeaders(req) });
    if (req.method === 'OPTIONS') return reply.code(cors.size > 0 && corsHeaders(req)['access-control-allow-origin'] ? 204 : 405).send();
    const path = req.url.split('?')[0];
    if (!opts.token || path === '/health' || path === '/favicon.ico') return;
    const header = req.headers.authorization;
    const fromHeader = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const fromQuery = (req.query as Record<string, unknown>)?.access_token;
    if (!tokenMatches(fromHeader ?? (typeof fromQuery === 'string' ? fromQuery : undefined), opts.token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a bearer token is required (Authorization: Bearer <token>)' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.request(route, reply.statusCode, (performance.now() - (req as FastifyRequest & { t0: number }).t0) / 1000);
  });

  app.get('/health', async () => {
    const latest = p.latest();
    const st = p.loopStats?.();
    return {
      status: closing ? 'closing' : 'ok',
      symbol: p.symbol,
      lastForecastAsOf: latest?.summary.asOf ?? null,
      barsReceived: st?.barsReceived ?? null,
      forecasts: st?.forecasts ?? null,
      openStreams: streams.size,
    };
  });

  app.get('/forecast', async (req, reply) => {
    let q: ReturnType<typeof forecastQuery>;
    try {
      q = forecastQuery(req.query as Record<string, unknown>, limits);
    } catch (err) {
      if (err instanceof BadParam) return reply.code(400).send({ error: 'bad_request', parameter: err.parameter, message: err.message });
      throw err;
    }
    if (q.symbol !== p.symbol) return reply.code(404).send({ error: 'not_found', parameter: 'symbol', message: `no outlook for symbol ${q.symbol} (this service forecasts ${p.symbol})` });
    const d = p.defaults;
    const params: OnDemandParams = { horizon: q.params.horizon ?? d.horizon, samples: q.params.samples ?? d.samples,
      temperature: q.params.temperature ?? d.temperature, topP: q.params.topP ?? d.topP };
    const latest = p.latest();
    const isDefault = params.horizon === d.horizon && params.samples === d.samples && params.temperature === d.temperature && params.topP === d.topP;
    reply.header('cache-control', 'no-store');
    if (isDefault && latest) return sendSummary(reply, latest, 'cached');
    const key = `${JSON.stringify(params)}@${latest?.summary.asOf ?? ''}`;
    const hit = cache.get(key);
    if (hit) return sendSummary(reply, hit, 'cached');
    let run = inFlight.get(key);
    if (!run) {
      if (onDemandRunning >= maxOnDemand) {
        metrics.onDemandRefused++;
        return reply.code(503).header('retry-after', '5').send({ error: 'busy', message: `${onDemandRunning} on-demand forecasts are running; try again shortly` });
      }
      onDemandRunning++;
      const t0 = performance.now();
      run = p.onDemand(params).finally(() => {
        onDemandRunning--;
        inFlight.delete(key);
        metrics.onDemandLatency.observe((performance.now() - t0) / 1000);
      });
      inFlight.set(key, run);
    }
    const o = await run;
    cache.set(key, o);
    return sendSummary(reply, o, 'on-demand');
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(prometheusText(metrics, p.loopStats?.())));

  app.get('/', async (req, reply) => {
    const token = (req.query as Record<string, unknown>)?.access_token;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(livePageHtml(p.symbol, typeof token === 'string' ? token : undefined));
  });
  // Browsers ask for it; an empty answer keeps a 404 out of the page's console.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/live.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(livePageScript()));
  app.get('/plotly.min.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(plotlyScript()));

  app.get('/events', (req, reply) => {
    if (closing || streams.size >= maxStreams) {
      metrics.refusedStreams++;
      return reply.code(503).header('retry-after', '10').send({ error: 'busy', message: `at most ${maxStreams} live streams are open; try again later` });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...SECURITY_HEADERS, ...corsHeaders(req), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    streams.add(res);
    metrics.openStreams = streams.size;
    metrics.request('/events', 200, (performance.now() - (req as FastifyRequest & { t0: number }).t0) / 1000);
    const send = (event: string, json: string) => res.write(`event: ${event}\ndata: ${json}\n\n`);
    send('history', JSON.stringify(p.pUpHistory()));
    const latest = p.latest();
    if (latest) send('outlook', memo(eventJson, latest, (x) => x));
    const unsubscribe = p.subscribe((o) => send('outlook', memo(eventJson, o, (x) => x)));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), opts.keepAliveMs ?? 15_000);
    const done = () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
      metrics.openStreams = streams.size;
    };
    res.on('close', done);
  });

  app.setErrorHandler((err, _req, reply: FastifyReply) => {
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: 'bad_request', message: e.message });
    if (e.statusCode === 503) return reply.code(503).header('retry-after', '60').send({ error: 'unavailable', message: e.message });
    return reply.code(500).send({ error: 'internal', message: (e.message ?? String(err)).split('\n')[0] });
  });

  return {
    app,
    metrics,
    close: async () => {
      closing = true;
      for (const res of streams) res.end();
      await app.close();
    },
  };
}
