import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveLoop } from '../../src/live/loop';
import type { LiveOutlook } from '../../src/live/types';
import { buildServer, SECURITY_HEADERS, type ForecastServer, type OnDemandParams, type OutlookProvider, type ServeOptions } from '../../src/serve/app';

function outlook(asOf: string, pUp: number, extra: Record<string, unknown> = {}): LiveOutlook {
  const summary = { schema: 'quantbook.pred-summary/1', symbol: 'BTC', asOf, pUp, bands: { levels: [0.1, 0.5, 0.9], values: [[1], [2], [3]] }, ...extra } as unknown as LiveOutlook['summary'];
  return { summary, paths: [[1, 2]], candles: { ts: [0], open: [1], high: [1], low: [1], close: [1], vwap: [null] } };
}

/** A provider with a fixed latest outlook; on-demand runs echo their parameters and count calls. */
function fakeProvider() {
  const listeners = new Set<(o: LiveOutlook) => void>();
  const calls: OnDemandParams[] = [];
  let latest: LiveOutlook | undefined = outlook('2024-06-12T13:31:00.000Z', 0.55);
  const loop = new LiveLoop<number>({ symbol: 'BTC', barMs: 60_000, session: '24x7', capacity: 4, deadlineMs: Infinity, clock: { now: () => 0, speed: 1 }, forecast: async () => ({ kind: 'warmingUp', missing: 1 }) });
  loop.stats.skipped.gap = 3;
  Object.assign(loop.stats, { backfilledBars: 7, backfillFailures: 2, backfillShort: 1 });
  loop.stats.latency.observe(0.2);
  const provider: OutlookProvider = {
    symbol: 'BTC',
    defaults: { horizon: 30, samples: 100, temperature: 1, topP: 0.9 },
    latest: () => latest,
    pUpHistory: () => [{ asOf: '2024-06-12T13:31:00.000Z', pUp: 0.55 }],
    onDemand: async (p) => {
      calls.push(p);
      await new Promise((r) => setTimeout(r, 30));
      return outlook('2024-06-12T13:31:00.000Z', 0.5, { samples: p.samples, horizon: p.horizon, topP: p.topP });
    },
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    loopStats: () => loop.stats,
  };
  return { provider, calls, push: (o: LiveOutlook) => ((latest = o), listeners.forEach((l) => l(o))), listeners };
}

let server: ForecastServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = (p: OutlookProvider, o: Partial<ServeOptions> = {}) => (server = buildServer({ provider: p, ...o }));

describe('GET /forecast', () => {
  it('serves the cached live summary for the default parameters, on-demand (then cached) for others', async () => {
    const f = fakeProvider();
    const { app } = start(f.provider);
    const cached = await app.inject('/forecast?symbol=BTC');
    expect(cached.statusCode).toBe(200);
    expect(cached.headers['x-quantbook-outlook']).toBe('cached');
    expect(cached.json()).toMatchObject({ schema: 'quantbook.pred-summary/1', pUp: 0.55, bands: { levels: [0.1, 0.5, 0.9] } });
    expect((await app.inject('/forecast?symbol=BTC&samples=100&horizon=30&top_p=0.9&temperature=1')).headers['x-quantbook-outlook']).toBe('cached');
    const first = await app.inject('/forecast?symbol=BTC&samples=200&top_p=0.8');
    expect(first.headers['x-quantbook-outlook']).toBe('on-demand');
    expect(first.json()).toMatchObject({ samples: 200, horizon: 30, topP: 0.8 });
    const again = await app.inject('/forecast?symbol=BTC&samples=200&top_p=0.8');
    expect(again.headers['x-quantbook-outlook']).toBe('cached');
    expect(f.calls).toEqual([{ horizon: 30, samples: 200, temperature: 1, topP: 0.8 }]);
  });

  it('a bad or unknown parameter is a 400 naming it; limits bound samples and horizon; another symbol is a 404', async () => {
    const { app } = start(fakeProvider().provider, { maxSamples: 500, maxHorizon: 60 });
    const bad = async (qs: string) => (await app.inject(`/forecast?${qs}`)).json() as { parameter: string; message: string };
    expect((await app.inject('/forecast?symbol=BTC&samples=abc')).statusCode).toBe(400);
    expect(await bad('symbol=BTC&samples=abc')).toMatchObject({ parameter: 'samples', message: 'samples must be a whole number from 1 to 500, got "abc"' });
    expect((await bad('symbol=BTC&samples=501')).parameter).toBe('samples');
    expect((await bad('symbol=BTC&samples=2.5')).parameter).toBe('samples');
    expect((await bad('symbol=BTC&horizon=61')).parameter).toBe('horizon');
    expect((await bad('symbol=BTC&horizon=0x10')).parameter).toBe('horizon');
    expect((await bad('symbol=BTC&top_p=0')).parameter).toBe('top_p');
    expect((await bad('symbol=BTC&temperature=-1')).parameter).toBe('temperature');
    expect((await bad('symbol=BTC&samples=1&samples=2')).parameter).toBe('samples');
    expect((await bad('symbol=BTC&topp=0.5')).parameter).toBe('topp');
    expect((await bad('horizon=5')).parameter).toBe('symbol');
    const other = await app.inject('/forecast?symbol=ETH');
    expect([other.statusCode, other.json().parameter]).toEqual([404, 'symbol']);
  });

  it('refuses on-demand work beyond its bound with a 503 and counts it; identical requests share one run', async () => {
    const f = fakeProvider();
    const { app, metrics } = start(f.provider, { maxOnDemand: 1 });
    const [a, b, c] = await Promise.all([
      app.inject('/forecast?symbol=BTC&samples=10'),
      app.inject('/forecast?symbol=BTC&samples=10'),
      app.inject('/forecast?symbol=BTC&samples=11'),
    ]);
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([200, 200, 503]);
    expect(c.headers['retry-after']).toBe('5');
    expect(f.calls).toHaveLength(1);
    expect(metrics.onDemandRefused).toBe(1);
  });
});

describe('health, metrics, security', () => {
  it('/health is open, the rest needs the bearer token (header or access_token query)', async () => {
    const { app } = start(fakeProvider().provider, { token: 'tok-123' });
    expect((await app.inject('/health')).json()).toMatchObject({ status: 'ok', symbol: 'BTC', lastForecastAsOf: '2024-06-12T13:31:00.000Z' });
    for (const url of ['/forecast?symbol=BTC', '/metrics', '/', '/live.js', '/events']) {
      const r = await app.inject(url);
      expect([url, r.statusCode, r.headers['www-authenticate']]).toEqual([url, 401, 'Bearer']);
    }
    expect((await app.inject({ url: '/forecast?symbol=BTC', headers: { authorization: 'Bearer tok-124' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/forecast?symbol=BTC', headers: { authorization: 'Bearer tok-123' } })).statusCode).toBe(200);
    expect((await app.inject('/forecast?symbol=BTC&access_token=tok-123')).statusCode).toBe(200);
    const page = await app.inject('/?access_token=tok-123');
    expect(page.body).toContain('<script src="/live.js?access_token=tok-123"></script>');
  });

  it('/metrics is Prometheus text: request counts, forecast latency histograms, skipped bars by reason, backfill counts', async () => {
    const { app } = start(fakeProvider().provider);
    await app.inject('/forecast?symbol=BTC');
    await app.inject('/forecast?symbol=BTC&samples=x');
    await app.inject('/nope');
    const r = await app.inject('/metrics');
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = r.body.split('\n');
    expect(lines).toContain('quantbook_http_requests_total{route="/forecast",status="200"} 1');
    expect(lines).toContain('quantbook_http_requests_total{route="/forecast",status="400"} 1');
    expect(lines).toContain('quantbook_http_requests_total{route="unmatched",status="404"} 1');
    expect(lines).toContain('quantbook_forecast_duration_seconds_bucket{kind="live",le="0.25"} 1');
    expect(lines).toContain('quantbook_forecast_duration_seconds_bucket{kind="live",le="0.1"} 0');
    expect(lines).toContain('quantbook_forecast_duration_seconds_count{kind="live"} 1');
    expect(lines).toContain('quantbook_bars_skipped_total{reason="gap"} 3');
    expect(lines).toContain('quantbook_bars_skipped_total{reason="deadline"} 0');
    expect(lines).toContain('quantbook_backfilled_bars_total 7');
    expect(lines).toContain('quantbook_backfill_failures_total{kind="error"} 2');
    expect(lines).toContain('quantbook_backfill_failures_total{kind="short"} 1');
    expect(lines).toContain('# TYPE quantbook_forecast_duration_seconds histogram');
  });

  it('every answer carries the security headers; CORS headers only for configured origins', async () => {
    const { app } = start(fakeProvider().provider);
    const r = await app.inject({ url: '/forecast?symbol=BTC', headers: { origin: 'http://evil.example' } });
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k]).toBe(v);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(SECURITY_HEADERS['content-security-policy']).toMatch(/script-src 'self';/);
    await server!.close();
    const withCors = start(fakeProvider().provider, { corsOrigins: ['http://dash.local'] }).app;
    expect((await withCors.inject({ url: '/forecast?symbol=BTC', headers: { origin: 'http://dash.local' } })).headers['access-control-allow-origin']).toBe('http://dash.local');
    expect((await withCors.inject({ url: '/forecast?symbol=BTC', headers: { origin: 'http://evil.example' } })).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('the page loads plotly.js from this server (no CDN) and no inline script', async () => {
    const { app } = start(fakeProvider().provider);
    const page = (await app.inject('/')).body;
    expect(page).toContain('<script src="/plotly.min.js"></script>');
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/<script>(?!<\/script>)/);
    const plotly = await app.inject('/plotly.min.js');
    expect(plotly.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plotly.body.length).toBeGreaterThan(1_000_000);
  });
});

/** Opens /events over a real socket; collects the text until closed. */
function openStream(port: number): Promise<{ status: number; text: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      resolve({ status: res.statusCode ?? 0, text: () => text, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /events', () => {
  it('streams history and each new outlook, bounds open streams (503 beyond), and close() ends them', async () => {
    const f = fakeProvider();
    const s = start(f.provider, { maxStreams: 2 });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = s.app.server.address() as AddressInfo;
    const a = await openStream(port);
    const b = await openStream(port);
    const c = await openStream(port);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 503]);
    f.push(outlook('2024-06-12T13:32:00.000Z', 0.6));
    await new Promise((r) => setTimeout(r, 50));
    const events = a.text().split('\n\n').filter(Boolean).map((e) => e.split('\n')[0]);
    expect(events).toEqual(['event: history', 'event: outlook', 'event: outlook']);
    expect(a.text()).toContain('"asOf":"2024-06-12T13:32:00.000Z"');
    expect(s.metrics.openStreams).toBe(2);
    expect([s.metrics.requests.get('/events 200'), s.metrics.requests.get('/events 503'), s.metrics.refusedStreams]).toEqual([2, 1, 1]);
    await s.close();
    server = undefined;
    await Promise.all([a.ended, b.ended]);
    expect(f.listeners.size).toBe(0);
  });
});
