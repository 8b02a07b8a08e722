import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdOf, QUEUE_NAME, type SweepJobData } from '../../src/notebook/sweep/queue';
import { startWorker } from '../../src/notebook/sweep/worker';
import { REPO_ROOT } from '../support/paths';

// Sweeps on a BullMQ queue: workers and coordinators are separate `quantbook` processes, Redis
// is Debian's redis-server on a free loopback port with AOF (fsync always), started and stopped here.
const BIN = join(REPO_ROOT, 'bin/quantbook.js');
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const PARAMS = 'tests/notebook/fixtures/params.ipynb';
const QUEUED = 'tests/notebook/fixtures/queued.ipynb';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, f: () => boolean, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let port = 0;
let dir = '';
let redis: ChildProcess | undefined;
const children: ChildProcess[] = [];

async function startRedis(): Promise<void> {
  redis = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'yes'], { stdio: 'ignore' });
  await until('redis to answer', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000);
}

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  const r = redis;
  const exited = new Promise<void>((resolve) => r.on('exit', () => resolve()));
  r.kill('SIGTERM'); // Redis flushes its AOF and exits
  await exited;
}

function qb(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { out: string; err: string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } }) as ChildProcess & { out: string; err: string };
  child.out = '';
  child.err = '';
  child.stdout!.on('data', (d) => (child.out += d));
  child.stderr!.on('data', (d) => (child.err += d));
  children.push(child);
  return child;
}

const exitOf = (c: ChildProcess) => new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.on('exit', (code) => resolve(code))));

/** results.json without its timings. */
function results(out: string): unknown {
  const j = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { durationS: number; rows: Array<{ durationS: number }> };
  return { ...j, durationS: 0, rows: j.rows.map((r) => ({ ...r, durationS: 0 })) };
}

describe.skipIf(!REDIS)('sweeps on a Redis queue (BullMQ)', () => {
  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'qb-queue-'));
    await startRedis();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await stopRedis();
  });

  it('two workers give exactly the results, CSV and comparison page of a local sweep', async () => {
    const url = `redis://127.0.0.1:${port}/1`;
    const workers = [qb(['worker', '--queue', url, '--no-build']), qb(['worker', '--queue', url, '--no-build'])];
    const grid = ['--grid', 'horizon=15,30', '--grid', 'label=a'];
    const queued = qb(['sweep', PARAMS, ...grid, '--queue', url, '-o', join(dir, 'queued'), '--no-build']);
    const local = qb(['sweep', PARAMS, ...grid, '-w', '2', '-o', join(dir, 'local'), '-q', '--no-build']);
    expect(await exitOf(queued), queued.err).toBe(0);
    expect(await exitOf(local), local.err).toBe(0);
    expect(queued.err).toMatch(/\[sweep\] 2\/2 done, 0 failed/);
    expect(results(join(dir, 'queued'))).toEqual(results(join(dir, 'local')));
    const csv = (d: string) => readFileSync(join(dir, d, 'results.csv'), 'utf8').split('\n').map((l) => l.split(',').filter((_, i) => i !== 2).join(','));
    expect(csv('queued')).toEqual(csv('local'));
    const page = (d: string) => readFileSync(join(dir, d, 'index.html'), 'utf8').replace(/data-sort="[\d.]*"/g, '').replace(/[\d.]+ (ms|s|min|h)\b/g, '');
    expect(page('queued')).toEqual(page('local'));
    // The workers (separate processes) ran each combination once between them, and stop cleanly on SIGTERM.
    let ran = 0;
    for (const w of workers) {
      w.kill('SIGTERM');
      expect(await exitOf(w)).toBe(0);
      ran += (w.err.match(/: ok$/gm) ?? []).length;
    }
    expect(ran).toBe(2);
  }, 300_000);

  it('a killed worker, a killed coordinator and a Redis restart lose nothing; a failing notebook is retried, then listed as failed', async () => {
    const url = `redis://127.0.0.1:${port}/2`;
    const log = join(dir, 'executions.log');
    writeFileSync(log, '');
    const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const out = join(dir, 'faults');
    const sweepArgs = ['sweep', QUEUED, '--grid', 'label=a,b,c', '-p', 'sleepMs', '3000', '-p', 'logFile', log, '-p', 'failLabel', 'c', '--retries', '1', '--queue', url, '-o', out, '--no-build'];
    const coord = qb(sweepArgs);
    const w1 = qb(['worker', '--queue', url, '--lock-duration', '3', '--no-build']);
    // a finishes and is recorded; b starts on w1; then w1 and the coordinator die with SIGKILL.
    await until('a to be recorded', () => /1\/3 done/.test(coord.err), 180_000);
    await until('b to start', () => lines().includes('b'), 180_000);
    w1.kill('SIGKILL');
    coord.kill('SIGKILL');
    const sweepId = /\[sweep\] (sw\S+) on/.exec(coord.err)![1];
    await stopRedis();
    await startRedis();
    const w2 = qb(['worker', '--queue', url, '--lock-duration', '3', '--no-build']);
    const resumed = qb(['sweep', '--resume', sweepId, '--queue', url]);
    expect(await exitOf(resumed), resumed.err).toBe(1); // c failed
    w2.kill('SIGTERM');
    await exitOf(w2);
    // a ran once (recorded before the crash, not run again); b twice (its worker died);
    // c twice (a failing notebook runs once more, then is listed as failed).
    const count = (l: string) => lines().filter((x) => x === l).length;
    expect([count('a'), count('b'), count('c')]).toEqual([1, 2, 2]);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: Array<{ index: number; status: string; records: Record<string, unknown>; error: string | null }> };
    expect(r.rows.map((x) => [x.index, x.status])).toEqual([[1, 'ok'], [2, 'ok'], [3, 'failed']]);
    expect(r.rows[1].records).toEqual({ label: 'b', code: 98 });
    expect(r.rows[2].error).toMatch(/failing on purpose at c/);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(4);
  }, 400_000);

  it('a worker on other code refuses the job with both versions named', async () => {
    const url = `redis://127.0.0.1:${port}/3`;
    const { Queue, Job } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue<SweepJobData>(QUEUE_NAME, { connection });
    const data: SweepJobData = {
      sweepId: 'swtest', index: 0, name: '1-x', notebook: PARAMS, notebookSha256: '0'.repeat(64), version: '0.0.1+deadbeef0000',
      parameters: {}, cellTimeoutMs: 0, startTimeoutMs: 60_000,
    };
    await queue.add('swtest', data, { jobId: jobIdOf('swtest', 0), attempts: 3 });
    const seen: string[] = [];
    const worker = await startWorker(url, { log: (l) => seen.push(l) });
    await until('the refusal', () => seen.some((l) => /refused/.test(l)), 30_000);
    let job = await Job.fromId(queue, jobIdOf('swtest', 0));
    for (let i = 0; i < 50 && (await job!.getState()) !== 'failed'; i++) {
      await sleep(100);
      job = await Job.fromId(queue, jobIdOf('swtest', 0));
    }
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1); // refused outright, not retried
    expect(job!.failedReason).toMatch(/refused by worker .*: it runs quantbook 0\.1\.0\+\S+, the sweep needs 0\.0\.1\+deadbeef0000/);
    await worker.close();
    await queue.close();
    connection.disconnect();
  }, 60_000);
});
