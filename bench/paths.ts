/**
 * `npm run bench:paths`: latency of `quantbook forecast` end to end and the cost of the
 * path statistics.
 *
 * 1. The command as a user runs it (fresh `node bin/quantbook.js` processes, real 1-minute
 *    BTC bars, shipped AR model, N = 100, H = 30, L = 480, --device cpu --no-png): median
 *    and worst of every stage from the summary's timings, the process's own CPU time, and the
 *    wall time seen from outside (process start to exit). Goal: under 1.5 s.
 * 2. The same with 100 paths per ONNX run instead of the default 10 (why the default is 10).
 * 3. The kernels: path statistics and Brownian-copula paths for N = 100 and 10,000.
 *
 * Options: --runs N (default 5), --model CARD (default models/qb-ar-s.json).
 * The machine is shared: the load average is printed with the tables.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/random';
import { normalQuantile } from '../src/stats/normal';
import { pathsFromQuantiles, pathStatistics } from '../src/forecast/paths';
import { packageRoot } from '../src/notebook/runner/build';
import { benchArgs } from './lib/args';

const ROOT = packageRoot();
const args = benchArgs('npm run bench:paths -- [options]', {
  runs: { default: 5, help: 'fresh-process runs of each stage' },
  model: { default: 'models/qb-ar-s.json', help: 'model card or baseline name' },
});
const RUNS = args.runs;
const MODEL = args.model;
const DATA = join(ROOT, '..', 'shared', 'data', 'real', 'crypto-1m', 'UNITTEST_BTC-1m.feather');
const STAGES = ['startupMs', 'loadMs', 'openModelMs', 'prepareMs', 'sampleMs', 'summariseMs', 'writeMs', 'totalMs', 'cpuMs'];

const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
const table = (rows: string[][]) => {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ')).join('\n');
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function commandRuns(extra: string[]): { stages: Record<string, number[]>; wall: number[] } {
  const stages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = mkdtempSync(join(tmpdir(), 'qb-bench-paths-'));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['bin/quantbook.js', 'forecast', '--data', DATA, '--symbol', 'BTC', '--session', '24x7', '--model', MODEL, '--samples', '100', '--horizon', '30', '--lookback', '480', '--seed', String(i), '--device', 'cpu', '--no-png', '--json', '--out', out, ...extra], { cwd: ROOT, encoding: 'utf8' });
    wall.push(performance.now() - t0);
    rmSync(out, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`quantbook forecast failed: ${r.stderr}`);
    const timings = JSON.parse(r.stdout).timings as Record<string, number>;
    for (const s of STAGES) stages[s].push(timings[s]);
  }
  return { stages, wall };
}

function printRuns(title: string, runs: { stages: Record<string, number[]>; wall: number[] }): void {
  const rows = [['stage (ms)', 'median', 'worst']];
  for (const s of STAGES) rows.push([s.replace(/Ms$/, ''), median(runs.stages[s]).toFixed(0), Math.max(...runs.stages[s]).toFixed(0)]);
  rows.push(['process wall (outside)', median(runs.wall).toFixed(0), Math.max(...runs.wall).toFixed(0)]);
  process.stdout.write(`${title}  (${RUNS} fresh processes; load average ${load()})\n${table(rows)}\n\n`);
}

function kernels(): void {
  const rows = [['kernel', 'N', 'H', 'ms per call']];
  const H = 30;
  const levels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const values = new Float64Array(levels.length * H);
  levels.forEach((u, k) => {
    for (let h = 0; h < H; h++) values[k * H + h] = 100 * Math.exp(0.001 * Math.sqrt(h + 1) * normalQuantile(u));
  });
  for (const n of [100, 10_000]) {
    const rng = new Rng(1);
    const close = new Float64Array(n * H);
    for (let j = 0; j < n; j++) {
      let x = 100;
      for (let h = 0; h < H; h++) close[j * H + h] = x *= Math.exp(0.001 * rng.normal());
    }
    const paths = { close, high: close.map((c) => c * 1.0005), low: close.map((c) => c * 0.9995), n, horizon: H };
    const barriers = [{ name: 'vwap', price: 99.8 }, { name: 'midband', price: 100.1 }, { name: 'R', price: 100.5 }];
    const reps = n === 100 ? 200 : 5;
    let t = performance.now();
    for (let r = 0; r < reps; r++) pathStatistics(paths, 100, { barriers });
    rows.push(['pathStatistics (3 barriers, highs/lows)', String(n), String(H), ((performance.now() - t) / reps).toFixed(3)]);
    t = performance.now();
    for (let r = 0; r < reps; r++) pathsFromQuantiles({ levels, values: { data: values, dims: [1, levels.length, H] } }, n, r);
    rows.push(['pathsFromQuantiles (Brownian copula)', String(n), String(H), ((performance.now() - t) / reps).toFixed(3)]);
  }
  process.stdout.write(`kernels  (load average ${load()})\n${table(rows)}\n`);
}

function main(): void {
  process.stdout.write(`bench:paths  quantbook forecast --model ${MODEL} N=100 H=30 L=480, real 1m BTC, CPU (2 shared cores)\n\n`);
  printRuns('default: 10 paths per ONNX run', commandRuns([]));
  printRuns('100 paths per ONNX run', commandRuns(['--samples-per-batch', '100']));
  kernels();
}

main();
