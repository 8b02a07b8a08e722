/**
 * `npm run bench:sweep [-- --workers N] [-- --combos K] [-- --sleep-ms MS]`: wall time of one
 * queued sweep (BullMQ on a redis-server this script starts on a free loopback port and stops)
 * run by 1 worker, then by N workers (default 2; each worker a separate `quantbook worker`
 * process), same grid. Prints a table and the line `N workers / 1 worker speed-up: Rx`.
 * The notebook is tests/notebook/fixtures/queued.ipynb: a kernel start, then a sleep of
 * `--sleep-ms` (default 2000) standing in for research work; the speed-up is bounded by the
 * cores each kernel start needs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureFreshBuild, packageRoot } from '../src/notebook/runner/build';
import { benchArgs } from './lib/args';


const root = packageRoot();
const args = benchArgs('npm run bench:sweep -- [options]', {
  workers: { default: 2, help: 'queue workers (at least 2)' },
  combos: { default: 6, help: 'grid combinations (at least 2)' },
  'sleep-ms': { default: 2000, help: 'sleep per notebook run, ms' },
});
const nWorkers = Math.max(2, args.workers);
const combos = Math.max(2, args.combos);
const sleepMs = Math.max(0, args['sleep-ms']);
const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!redisBin) {
  process.stdout.write('bench:sweep needs redis-server (Debian package redis-server); not run\n');
  process.exit(0);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  ensureFreshBuild();
  const work = mkdtempSync(join(tmpdir(), 'qb-bench-sweep-'));
  const port = await freePort();
  const redis = spawn(redisBin!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', work, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
    const bin = join(root, 'bin', 'quantbook.js');
    const env = { ...process.env, QUANTBOOK_CATALOGUE: 'off' };
    const labels = Array.from({ length: combos }, (_, i) => String.fromCharCode(97 + i)).join(',');
    const timeSweep = async (workers: number, db: number): Promise<number> => {
      const url = `redis://127.0.0.1:${port}/${db}`;
      const ws: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [bin, 'worker', '--queue', url, '--no-build', '-q'], { cwd: root, env, stdio: 'ignore' }));
      await new Promise((r) => setTimeout(r, 1500)); // workers connected before the clock starts
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [bin, 'sweep', 'tests/notebook/fixtures/queued.ipynb', '--grid', `label=${labels}`, '-p', 'sleepMs', String(sleepMs),
        '--queue', url, '-o', join(work, `w${workers}`), '-q', '--no-build'], { cwd: root, env, encoding: 'utf8' });
      const s = (performance.now() - t0) / 1000;
      for (const w of ws) w.kill('SIGTERM');
      if (r.status !== 0) throw new Error(`the sweep failed (exit ${r.status}):\n${r.stderr}`);
      return s;
    };
    const one = await timeSweep(1, 1);
    const many = await timeSweep(nWorkers, 2);
    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    process.stdout.write(`bench:sweep: ${combos} combinations of queued.ipynb (kernel start + ${sleepMs} ms each) on a local Redis; ${cpus().length} cores, load ${load}\n\n`);
    process.stdout.write(`| workers | wall time | per combination |\n| --- | --- | --- |\n`);
    process.stdout.write(`| 1 | ${one.toFixed(1)} s | ${(one / combos).toFixed(2)} s |\n| ${nWorkers} | ${many.toFixed(1)} s | ${(many / combos).toFixed(2)} s |\n\n`);
    process.stdout.write(`${nWorkers} workers / 1 worker speed-up: ${(one / many).toFixed(2)}x\n`);
  } finally {
    redis.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
