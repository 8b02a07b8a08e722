/**
 * Load test of the forecast service (`npm run bench:serve`), loopback only, bounded, stops by
 * itself: `quantbook serve` runs in its own process with a replay of real 1-minute BTC bars at 60x
 * (a gap-free stretch of the recording, so every skip is the service's doing), while this process
 * keeps 200 concurrent `/forecast` readers (each pausing `--think-ms` between requests) and 50 open
 * live-page streams. When the replay has delivered its bars it prints: requests and failures, the
 * latency of cached `/forecast` answers (p50 / p90 / p99 / max; goal p99 < 50 ms), the streams and
 * the events each received, and the loop's forecasts and skipped bars by reason (goal: none skipped
 * for lateness).
 *
 * Options: `--bars N` replayed (default 40, 40 s at 60x), `--readers N` (200), `--streams N` (50),
 * `--think-ms N` (100), `--model REF` (default `historical`; e.g. `models/qb-ar-s.json`),
 * `--samples N` (100). The service process is sent SIGTERM at the end (and SIGKILL if it hangs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './lib/args';

const args = benchArgs('npm run bench:serve -- [options]', {
  bars: { default: 40, help: 'bars replayed' },
  readers: { default: 200, help: 'concurrent HTTP readers' },
  streams: { default: 50, help: 'WebSocket streams' },
  'think-ms': { default: 100, help: 'pause between a reader\'s requests, ms' },
  model: { default: 'historical', help: 'forecaster' },
  samples: { default: '100', help: 'paths per forecast' },
});
const BARS = args.bars;
const READERS = args.readers;
const STREAMS = args.streams;
const THINK_MS = args['think-ms'];
const MODEL = args.model;
const SAMPLES = args.samples;
const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '..', 'shared', 'data', 'real', 'crypto-1m', 'UNITTEST_BTC-1m.feather');

const agent = new Agent({ keepAlive: true, maxSockets: READERS + 10 });

function get(port: number, path: string): Promise<{ status: number; body: string; header: (k: string) => string | undefined; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolveGet, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body, header: (k) => res.headers[k] as string | undefined, ms: performance.now() - t0 }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'qb-bench-serve-'));
  const args = ['serve', '--source', 'replay', '--replay', DATA, '--symbol', 'BTC', '--session', '24x7', '--model', MODEL, '--samples', SAMPLES, '--prime', '8400', '--speed', '60', '--max-bars', String(BARS), '--port', '0', '--out', out, '--max-streams', String(STREAMS + 10)];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'quantbook.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const hardStop = setTimeout(() => child.kill('SIGKILL'), (BARS + 120) * 1000);
  try {
    let port = NaN;
    for (let i = 0; i < 600 && Number.isNaN(port); i++) {
      const m = /quantbook serve: http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode !== null) throw new Error(`the service exited: ${stderr}`);
    }
    if (Number.isNaN(port)) throw new Error('the service did not start in 60 s');

    // Live streams: count events; any stream that ends early or errors is a failure.
    let streamFailures = 0;
    const events: number[] = new Array(STREAMS).fill(0);
    const streamReqs = Array.from({ length: STREAMS }, (_, i) =>
      request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
        if (res.statusCode !== 200) streamFailures++;
        res.setEncoding('utf8').on('data', (d: string) => (events[i] += d.split('event: outlook').length - 1));
      }).on('error', () => streamFailures++),
    );
    streamReqs.forEach((r) => r.end());

    let running = true;
    let requests = 0;
    let failures = 0;
    const failureKinds = new Map<string, number>();
    const cachedMs: number[] = [];
    let onDemand = 0;
    const reader = async () => {
      while (running) {
        requests++;
        try {
          const r = await get(port, '/forecast?symbol=BTC');
          if (r.status !== 200) {
            failures++;
            failureKinds.set(`HTTP ${r.status}`, (failureKinds.get(`HTTP ${r.status}`) ?? 0) + 1);
          } else if (r.header('x-quantbook-outlook') === 'cached') cachedMs.push(r.ms);
          else onDemand++;
        } catch (err) {
          failures++;
          const k = err instanceof Error ? err.message : String(err);
          failureKinds.set(k, (failureKinds.get(k) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, THINK_MS));
      }
    };
    const t0 = performance.now();
    const readers = Array.from({ length: READERS }, reader);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const h = JSON.parse((await get(port, '/health')).body) as { barsReceived: number };
      if (h.barsReceived >= BARS) break;
      if (performance.now() - t0 > (BARS + 60) * 1000) throw new Error('the replay did not finish in time');
    }
    await new Promise((r) => setTimeout(r, 1500)); // the last forecast
    running = false;
    await Promise.all(readers);
    const wallS = (performance.now() - t0) / 1000;
    const metrics = (await get(port, '/metrics')).body;
    const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const openStreams = metric('quantbook_live_streams_open');
    child.kill('SIGTERM');
    const code = await exited;

    cachedMs.sort((a, b) => a - b);
    const p99 = quantile(cachedMs, 0.99);
    const skipped = ['deadline', 'superseded', 'stale', 'gap', 'warmUp', 'error'].map((r) => [r, metric(`quantbook_bars_skipped_total{reason="${r}"}`)] as const);
    const late = skipped.filter(([r]) => r === 'deadline' || r === 'superseded' || r === 'stale').reduce((a, [, n]) => a + n, 0);
    const rows: [string, string][] = [
      ['model / samples', `${MODEL} / ${SAMPLES}`],
      ['replay', `${BARS} bars of 1-minute BTC at 60x (${wallS.toFixed(1)} s of load)`],
      ['/forecast readers', `${READERS} (think ${THINK_MS} ms)`],
      ['requests', String(requests)],
      ['failed requests', `${failures}${failureKinds.size ? ` (${[...failureKinds].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}`],
      ['cached answers', String(cachedMs.length)],
      ['on-demand answers', `${onDemand} (before the first live forecast)`],
      ['cached p50 / p90 / p99 / max', `${[0.5, 0.9, 0.99].map((q) => quantile(cachedMs, q).toFixed(1)).join(' / ')} / ${cachedMs.at(-1)?.toFixed(1)} ms`],
      ['live streams', `${STREAMS} opened, ${openStreams} open at the end, ${streamFailures} failed`],
      ['outlook events per stream', `min ${Math.min(...events)}, max ${Math.max(...events)}`],
      ['bars / forecasts', `${metric('quantbook_bars_received_total')} / ${metric('quantbook_forecasts_total')}`],
      ['skipped bars', skipped.map(([r, n]) => `${r} ${n}`).join(', ')],
      ['service exit on SIGTERM', String(code)],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nquantbook serve under load (loopback)\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n\n`);
    const goals = [
      [`no failed request`, failures === 0 && streamFailures === 0],
      [`no bar skipped for lateness (deadline, superseded, stale)`, late === 0],
      [`p99 of cached /forecast < 50 ms (${p99.toFixed(1)} ms)`, p99 < 50],
    ] as const;
    for (const [what, ok] of goals) process.stdout.write(`  ${ok ? 'met   ' : 'MISSED'}  ${what}\n`);
    streamReqs.forEach((r) => r.destroy());
  } finally {
    clearTimeout(hardStop);
    if (child.exitCode === null) child.kill('SIGKILL');
    agent.destroy();
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:serve failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
