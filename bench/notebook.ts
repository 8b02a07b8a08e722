/**
 * `npm run bench:notebook [-- --rounds N] [-- --notebook path] [-- --no-all]`: wall time of
 * running notebooks with quantbook against `jupyter nbconvert --execute --to html`
 * (Debian's jupyter-nbconvert, tslab kernel spec registered in a temporary prefix).
 *
 * Two comparisons, each side in a fresh process, alternating run after run (bench/lib):
 * - one notebook (default the sample): `quantbook run` (executed .ipynb + HTML report)
 *   against nbconvert of the same file; line `quantbook / nbconvert time: Rx` (goal <= 0.7x);
 * - every notebook in `notebooks/` (or `--notebooks a,b`): `quantbook report` (its default
 *   `--workers`: two notebooks at once on 2+ cores, longest first by earlier runs, kernels
 *   started ahead) against one `jupyter nbconvert --execute` of the same files,
 *   which runs them one after another; line `quantbook report / nbconvert time: Rx` (goal <= 0.5x).
 * The ratio of each run pair is taken, then the median and range over the pairs. Both sides get
 * 600 s to start a kernel (a loaded machine can take over a minute). The report side also says
 * how much kernel start-up its pool hid (sum of start-ups against the time runs waited for them).
 * The report side runs after one untimed report of the same files, which fills the kernels' compile
 * cache (`runner/compileCache.ts`) as any earlier run would, and is also timed with
 * `--no-compile-cache` (every cell type-checked and compiled, as on a first run): both ratios are printed.
 * Every notebook is the goal's set and the default: the heavy ones (05-sweep, 06, 07) take minutes
 * each, so one side of one round took about 20 minutes under load 15-30 here (2 cores shared);
 * `--notebooks a,b` restricts the set (the verdict then names it a subset), `--no-all` skips it.
 * Writes bench/results/notebook.md; a missed goal is said on the last line, never by the exit code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './lib/args';
import { formatSpread, machineInfo, reportChild, runFresh, spread, verdictLine, writeBenchResults, type Spread, type Variant } from './lib/results';
import { ensureFreshBuild, packageRoot } from '../src/notebook/runner/build';
import { installKernelSpec, prefixJupyterPath } from '../src/notebook/runner/kernelspec';
import { reportName } from '../src/notebook/runner/reports';

const args = benchArgs('npm run bench:notebook -- [options]', {
  rounds: { default: 3, help: 'fresh-process runs per side (alternating)' },
  notebook: { default: 'notebooks/00-pipeline-sample.ipynb', help: 'the single-notebook comparison' },
  all: { default: true, help: 'also compare quantbook report with nbconvert on every notebook' },
  notebooks: { default: '', help: 'comma-separated notebooks for the report comparison (default: every notebooks/*.ipynb)' },
  child: { default: '', help: 'internal: run one side and print its time' },
  work: { default: '', help: 'internal: scratch folder of a child' },
});

const root = packageRoot();
const bin = join(root, 'bin', 'quantbook.js');

function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return seconds;
}

type CompileCounts = { hits: number; misses: number; stale: number; corrupt: number; uncacheable: number };
type Executed = { metadata: { quantbook: { kernel: { startupS: number; readyAfterS?: number; snapshot?: { state: string }; compileCache?: CompileCounts } } } };

/** Child: one side of one comparison, timed around the command only. */
function child(kind: string, work: string, files: string[]): void {
  const out = mkdtempSync(join(work, `${kind}-`));
  const jupyterEnv = { ...process.env, JUPYTER_PATH: prefixJupyterPath(join(work, 'jupyter')), PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  const nbconvert = (): number => timed('jupyter', ['nbconvert', '--execute', '--to', 'html', '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=-1', '--ExecutePreprocessor.startup_timeout=600', ...files, '--output-dir', out], jupyterEnv);
  if (kind === 'run') {
    const seconds = timed(process.execPath, [bin, 'run', files[0], '-o', out, '-q', '--no-build', '--start-timeout', '600']);
    const executed = JSON.parse(readFileSync(join(out, `${reportName(files[0])}.ipynb`), 'utf8')) as Executed;
    const kernel = executed.metadata.quantbook.kernel;
    const c = kernel.compileCache;
    reportChild({
      seconds, startupS: kernel.startupS, snapshotKernels: kernel.snapshot?.state === 'used' ? 1 : 0,
      compileHits: c?.hits ?? 0, compileCells: c ? c.hits + c.misses + c.stale + c.corrupt + c.uncacheable : 0,
    });
  } else if (kind === 'report' || kind === 'report-cold') {
    const cold = kind === 'report-cold' ? ['--no-compile-cache'] : [];
    const seconds = timed(process.execPath, [bin, 'report', ...files, '-o', out, '-q', '--no-build', '--start-timeout', '600', ...cold]);
    // Read after the timed command: each run's kernel start-up and how long the run waited for its kernel.
    const kernels = files.map((f) => (JSON.parse(readFileSync(join(out, `${reportName(f)}.ipynb`), 'utf8')) as Executed).metadata.quantbook.kernel);
    reportChild({
      seconds,
      startupS: kernels.reduce((a, k) => a + k.startupS, 0),
      waitS: kernels.reduce((a, k) => a + (k.readyAfterS ?? k.startupS), 0),
      snapshotKernels: kernels.filter((k) => k.snapshot?.state === 'used').length,
      compileHits: kernels.reduce((a, k) => a + (k.compileCache?.hits ?? 0), 0),
      compileCells: kernels.reduce((a, { compileCache: c }) => a + (c ? c.hits + c.misses + c.stale + c.corrupt + c.uncacheable : 0), 0),
    });
  } else reportChild({ seconds: nbconvert() });
  rmSync(out, { recursive: true, force: true });
}

function hasNbconvert(): boolean {
  try {
    execFileSync('jupyter', ['nbconvert', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** How many quantbook kernels started from the V8 startup snapshot (`runner/snapshot.ts`; the first run may build it). */
function snapshotLine(runs: Record<string, unknown>[], kernelsPerRun: number): string {
  const used = runs.reduce((a, r) => a + Number(r.snapshotKernels ?? 0), 0);
  return `quantbook kernels started from the startup snapshot: ${used} of ${runs.length * kernelsPerRun} (without it a kernel starts as before, while the snapshot is built in the background).`;
}

/** How many cells the kernels compiled from their compile cache (`runner/compileCache.ts`), over all runs of a side. */
function compileLine(side: string, runs: Record<string, unknown>[]): string {
  const hits = runs.reduce((a, x) => a + Number(x.compileHits ?? 0), 0);
  const cells = runs.reduce((a, x) => a + Number(x.compileCells ?? 0), 0);
  return `${side} cells compiled from the compile cache: ${hits} of ${cells} (the others were type-checked and compiled by tslab).`;
}

const single = resolve(root, args.notebook);
const all = args.notebooks
  ? args.notebooks.split(',').map((f) => resolve(root, f))
  : readdirSync(join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort().map((f) => join(root, 'notebooks', f));

if (args.child) {
  child(args.child, args.work, args.child === 'run' || args.child === 'nbconvert-one' ? [single] : all);
} else {
  ensureFreshBuild(root);
  const work = mkdtempSync(join(tmpdir(), 'qb-bench-'));
  installKernelSpec({ kind: 'prefix', prefix: join(work, 'jupyter') });
  const nbconvert = hasNbconvert();
  const side = (name: string, kind: string, extra: string[] = []): Variant => ({
    name,
    command: process.execPath,
    args: [...process.execArgv, __filename, '--child', kind, '--work', work, '--notebook', single, ...extra],
  });
  const loadNow = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
  const log = (v: string, r: number, rec: Record<string, unknown>): void =>
    void process.stderr.write(`  ${v} run ${r}: ${Number(rec.seconds).toFixed(2)} s (load average ${loadNow()})\n`);
  const body: string[] = [`Load average at the start: ${loadNow()}.`, ''];
  const subset = args.notebooks !== '';
  const verdicts: string[] = [];
  const seconds = (recs: Record<string, unknown>[]): number[] => recs.map((r) => Number(r.seconds));
  const ratioOf = (a: number[], b: number[]): Spread => spread(a.map((x, i) => x / b[i]));
  try {
    const one = runFresh([side('quantbook run', 'run'), ...(nbconvert ? [side('nbconvert', 'nbconvert-one')] : [])], args.rounds, log);
    body.push(`## One notebook: ${args.notebook}`, '', `${args.rounds} fresh-process runs per side, alternating.`, '', '| wall time (s) | median (min-max, n) |', '| --- | ---: |');
    body.push(`| quantbook run (.ipynb + HTML report) | ${formatSpread(spread(seconds(one['quantbook run'])))} |`);
    if (nbconvert) body.push(`| jupyter nbconvert --execute --to html | ${formatSpread(spread(seconds(one.nbconvert)))} |`);
    body.push(`| kernel start-up (tslab, spawn to kernel_info) | ${formatSpread(spread(one['quantbook run'].map((r) => Number(r.startupS))))} |`, '');
    body.push(snapshotLine(one['quantbook run'], 1), '', compileLine('quantbook run', one['quantbook run']), '');
    if (nbconvert) {
      const r = ratioOf(seconds(one['quantbook run']), seconds(one.nbconvert));
      body.push(`quantbook / nbconvert time: ${r.median.toFixed(2)}x (per run pair: ${formatSpread(r, 2, 'x')})`, '');
      verdicts.push(verdictLine('quantbook run / nbconvert <= 0.70x on one notebook', r.median <= 0.7, `${r.median.toFixed(2)}x`));
    }
    if (args.all) {
      const files = ['--notebooks', all.join(',')];
      // As any earlier run of these notebooks would: fills the compile cache (and starts the
      // snapshot's build when it is missing). Untimed; the runs below then find what it stored.
      const warm = runFresh([side('quantbook report (warm-up)', 'report', files)], 1, log)['quantbook report (warm-up)'][0];
      const many = runFresh([
        side('quantbook report', 'report', files),
        side('quantbook report --no-compile-cache', 'report-cold', files),
        ...(nbconvert ? [side('nbconvert', 'nbconvert-all', files)] : []),
      ], args.rounds, log);
      body.push(`## Every notebook (${all.length}): ${all.map((f) => f.slice(root.length + 1)).join(', ')}`, '');
      body.push(`${args.rounds} fresh-process run(s) per side, alternating, after one untimed \`quantbook report\` of the same files (${Number(warm.seconds).toFixed(1)} s), as any earlier run: it fills the kernels' compile cache (\`runner/compileCache.ts\`).`, '');
      body.push('| wall time (s) | median (min-max, n) |', '| --- | ---: |');
      body.push(`| quantbook report (default --workers, kernels started ahead) | ${formatSpread(spread(seconds(many['quantbook report'])))} |`);
      body.push(`| quantbook report --no-compile-cache (every cell type-checked and compiled, as a first run) | ${formatSpread(spread(seconds(many['quantbook report --no-compile-cache'])))} |`);
      const sum = (k: string): Spread => spread(many['quantbook report'].map((r) => Number(r[k])));
      body.push(`| report: kernel start-ups, summed over the notebooks | ${formatSpread(sum('startupS'))} |`);
      body.push(`| report: time the runs waited for their kernels, summed | ${formatSpread(sum('waitS'))} |`);
      if (nbconvert) {
        body.push(`| jupyter nbconvert --execute --to html, the same files one after another | ${formatSpread(spread(seconds(many.nbconvert)))} |`, '');
        const r = ratioOf(seconds(many['quantbook report']), seconds(many.nbconvert));
        const cold = ratioOf(seconds(many['quantbook report --no-compile-cache']), seconds(many.nbconvert));
        body.push(`quantbook report / nbconvert time: ${r.median.toFixed(2)}x (per run pair: ${formatSpread(r, 2, 'x')})`, '');
        body.push(`quantbook report --no-compile-cache / nbconvert time: ${cold.median.toFixed(2)}x (per run pair: ${formatSpread(cold, 2, 'x')}): a first run, or one whose cells or declarations all changed`, '');
        const which = subset ? `on ${all.length} notebooks given by --notebooks (a subset: the goal is for every notebook)` : 'on every notebook';
        verdicts.push(verdictLine(`quantbook report / nbconvert <= 0.50x ${which}`, r.median <= 0.5, `${r.median.toFixed(2)}x`));
      }
      if (!nbconvert) body.push('');
      body.push(snapshotLine(many['quantbook report'], all.length), '');
      body.push(compileLine('quantbook report', many['quantbook report']), '');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!nbconvert) verdicts.push(verdictLine('quantbook / nbconvert', false, 'jupyter nbconvert is not installed here: no comparison (apt-get install jupyter-nbconvert)'));
  const machine = machineInfo();
  const path = writeBenchResults('notebook', 'Notebooks: quantbook against jupyter nbconvert', body, verdicts, machine);
  for (const l of body) console.log(l);
  console.log(`load average at the end: ${machine.loadAverage.map((x) => x.toFixed(2)).join(' ')}; written to ${path}`);
  for (const v of verdicts) console.log(v);
}
