/**
 * `npm run bench:notebook [-- --rounds N] [-- --notebook path]`: wall time of
 * running the same notebook with `quantbook run` (executed .ipynb + HTML
 * report) and with `jupyter nbconvert --execute --to html` (Debian's
 * jupyter-nbconvert, tslab kernel spec registered in a temporary prefix),
 * alternating, in the same run. Prints a table, the kernel start-up time and
 * the line `quantbook / nbconvert time: 0.45x`. Goal: at most 0.7x.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFreshBuild, packageRoot } from '../src/notebook/runner/build';
import { installKernelSpec, prefixJupyterPath } from '../src/notebook/runner/kernelspec';
import { reportName } from '../src/notebook/runner/reports';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const root = packageRoot();
const notebook = arg('notebook', join(root, 'notebooks', '00-pipeline-sample.ipynb'));
const rounds = Math.max(1, Number(arg('rounds', '3')));
const work = mkdtempSync(join(tmpdir(), 'qb-bench-'));

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return seconds;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

function hasNbconvert(): boolean {
  try {
    execFileSync('jupyter', ['nbconvert', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

ensureFreshBuild(root);
const prefix = join(work, 'jupyter');
installKernelSpec({ kind: 'prefix', prefix });
const jupyterEnv = { ...process.env, JUPYTER_PATH: prefixJupyterPath(prefix), PYDEVD_DISABLE_FILE_VALIDATION: '1' };
const nbconvert = hasNbconvert();

const runnerTimes: number[] = [];
const startupTimes: number[] = [];
const nbconvertTimes: number[] = [];
const bin = join(root, 'bin', 'quantbook.js');
// Alternate the two so drifting machine load hits both alike.
for (let r = 0; r < rounds; r++) {
  const out = join(work, `quantbook-${r}`);
  runnerTimes.push(timed(process.execPath, [bin, 'run', notebook, '-o', out, '-q', '--no-build']));
  const executed = JSON.parse(readFileSync(join(out, `${reportName(notebook)}.ipynb`), 'utf8'));
  startupTimes.push(executed.metadata.quantbook.kernel.startupS);
  if (nbconvert) {
    nbconvertTimes.push(timed('jupyter', ['nbconvert', '--execute', '--to', 'html', '--ExecutePreprocessor.kernel_name=tslab', notebook, '--output-dir', join(work, `nbconvert-${r}`)], jupyterEnv));
  }
}
rmSync(work, { recursive: true, force: true });

const row = (name: string, xs: number[]) => {
  const s = stats(xs);
  return `${name.padEnd(44)} ${s.median.toFixed(2).padStart(8)} ${s.min.toFixed(2).padStart(8)} ${s.max.toFixed(2).padStart(8)}`;
};
console.log(`notebook: ${notebook}`);
console.log(`${rounds} rounds, alternating; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
console.log(`${'wall time (s)'.padEnd(44)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`);
console.log(row('quantbook run (.ipynb + HTML report)', runnerTimes));
if (nbconvert) console.log(row('jupyter nbconvert --execute --to html', nbconvertTimes));
console.log(row('kernel start-up (tslab, spawn to kernel_info)', startupTimes));
if (nbconvert) {
  console.log(`quantbook / nbconvert time: ${(stats(runnerTimes).median / stats(nbconvertTimes).median).toFixed(2)}x`);
  console.log('goal: at most 0.70x');
} else {
  console.log('jupyter nbconvert is not installed here: no comparison (apt-get install jupyter-nbconvert)');
}
