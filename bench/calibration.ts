/**
 * Calibration benchmark: isotonic fit, reliability tables and Platt fit on a
 * million points, against scikit-learn on the same data.
 *
 *   npm run bench:calibration                         # 1,000,000 points, 3 runs a side
 *   npm run bench:calibration -- --points 200000 --runs 5
 *
 * Protocol (bench/lib/results.ts): the parent writes the data once; each side
 * runs in a fresh process (quantbook: this script with --child; scikit-learn:
 * Debian's /usr/bin/python3), the two alternating run after run. Inside a run
 * every operation is warmed up once and timed `--repeats` times (best kept),
 * around the call only (start-up, imports and reading the data excluded). The
 * ratio of a run pair is sklearn / quantbook; the table gives the median and
 * range over the pairs. Goal (issue 20): at least 2x on every operation.
 * Writes bench/results/calibration.md; a missed goal is said on the last line,
 * never by the exit code.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './lib/args';
import { formatSpread, machineInfo, reportChild, runFresh, spread, verdictLine, writeBenchResults } from './lib/results';
import { fitIsotonic } from '../src/calibration/isotonic';
import { fitPlatt } from '../src/calibration/platt';
import { reliabilityTable } from '../src/calibration/reliability';
import { Rng } from '../src/core/random';

const PYTHON = '/usr/bin/python3';
const GOAL = 2;

// Loads the data, warms every operation up once, times each `repeats` times and prints one @@bench line.
const SKLEARN_SCRIPT = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.isotonic import IsotonicRegression
from sklearn.calibration import calibration_curve, _SigmoidCalibration
d = sys.argv[1]; repeats = int(sys.argv[2])
p = np.fromfile(d + "/p.f64"); y = np.fromfile(d + "/y.f64"); s = np.fromfile(d + "/s.f64")
ops = {
  "isotonic": lambda: IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p, y),
  "uniform": lambda: calibration_curve(y, p, n_bins=10, strategy="uniform"),
  "quantile": lambda: calibration_curve(y, p, n_bins=10, strategy="quantile"),
  "platt": lambda: _SigmoidCalibration().fit(s, y),
}
iso = ops["isotonic"](); platt = ops["platt"](); ops["uniform"](); ops["quantile"]()
ms = {}
for name, f in ops.items():
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter(); f(); best = min(best, (time.perf_counter() - t) * 1000)
    ms[name] = best
print("@@bench " + json.dumps({"version": sklearn.__version__, "isoKnots": int(iso.X_thresholds_.size),
  "plattA": float(platt.a_), "plattB": float(platt.b_), "ms": ms}), flush=True)
`;

const OPS = [
  { label: 'isotonic fit', op: 'isotonic' },
  { label: 'reliability table (uniform)', op: 'uniform' },
  { label: 'reliability table (quantile)', op: 'quantile' },
  { label: 'Platt fit', op: 'platt' },
] as const;

function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Child: times quantbook's operations on the data in `dir`. */
function child(dir: string, repeats: number): void {
  const p = readF64(join(dir, 'p.f64'));
  const y = readF64(join(dir, 'y.f64'));
  const s = readF64(join(dir, 's.f64'));
  const run: Record<string, () => unknown> = {
    isotonic: () => fitIsotonic(p, y, { yMin: 0, yMax: 1 }),
    uniform: () => reliabilityTable(p, y, { bins: 10, strategy: 'uniform' }),
    quantile: () => reliabilityTable(p, y, { bins: 10, strategy: 'quantile' }),
    platt: () => fitPlatt(s, y),
  };
  const iso = fitIsotonic(p, y, { yMin: 0, yMax: 1 });
  const platt = fitPlatt(s, y);
  for (const o of OPS) run[o.op](); // warm-up (JIT)
  const ms: Record<string, number> = {};
  for (const o of OPS) {
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      run[o.op]();
      best = Math.min(best, performance.now() - t);
    }
    ms[o.op] = best;
  }
  reportChild({ isoKnots: iso.x.length, plattA: platt.a, plattB: platt.b, ms });
}

function main(): void {
  const args = benchArgs('npm run bench:calibration -- [options]', {
    points: { default: 1_000_000, help: 'points per operation' },
    runs: { default: 3, help: 'fresh-process runs per side (alternating)' },
    repeats: { default: 3, help: 'timed calls per operation inside a run (best kept)' },
    child: { default: '', help: 'internal: data folder of a child run' },
  });
  if (args.child) {
    child(args.child, args.repeats);
    return;
  }
  const n = args.points;
  const rng = new Rng(2024);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.uniform();
    y[i] = rng.bernoulli(p[i] ** 1.3) ? 1 : 0; // a little miscalibrated, so the fits have work to do
    s[i] = 3 * Math.log(p[i] / (1 - p[i])); // classifier-like scores for Platt
  }
  const dir = mkdtempSync(join(tmpdir(), 'quantbook-bench-'));
  const haveSklearn = existsSync(PYTHON);
  let results: Record<string, Record<string, unknown>[]>;
  try {
    writeFileSync(join(dir, 'p.f64'), p);
    writeFileSync(join(dir, 'y.f64'), y);
    writeFileSync(join(dir, 's.f64'), s);
    const variants = [{ name: 'quantbook', command: process.execPath, args: [...process.execArgv, __filename, '--child', dir, '--repeats', String(args.repeats)] }];
    if (haveSklearn) variants.push({ name: 'sklearn', command: PYTHON, args: ['-c', SKLEARN_SCRIPT, dir, String(args.repeats)] });
    results = runFresh(variants, args.runs, (v, r, rec) => process.stderr.write(`  ${v} run ${r}: ${JSON.stringify(rec.ms)}\n`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const qb = results.quantbook;
  const sk = results.sklearn ?? [];
  const msOf = (recs: Record<string, unknown>[], op: string): number[] => recs.map((r) => (r.ms as Record<string, number>)[op]);
  const lines: string[] = [
    `calibration benchmark: ${n.toLocaleString('en-US')} points; ${args.runs} fresh-process runs per side, alternating; in each run every operation warmed up once and timed ${args.repeats} times (best kept)`,
    haveSklearn ? `scikit-learn ${String(sk[0]?.version)} via ${PYTHON}, timed inside Python around each call (start-up, imports, data loading excluded)` : `scikit-learn: not run (${PYTHON} not found)`,
    '',
    '| operation | quantbook ms | sklearn ms | sklearn / quantbook (per run pair) | check |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  const verdicts: string[] = [];
  let worst = Infinity;
  let worstLabel = '';
  for (const o of OPS) {
    const q = msOf(qb, o.op);
    const k = msOf(sk, o.op);
    const ratios = k.map((v, i) => v / q[i]);
    let check = '';
    if (sk.length > 0 && o.op === 'isotonic') check = `knots ${String(qb[0].isoKnots)} vs ${String(sk[0].isoKnots)}`;
    if (sk.length > 0 && o.op === 'platt') {
      check = `A ${(qb[0].plattA as number).toFixed(6)} vs ${(sk[0].plattA as number).toFixed(6)}, B ${(qb[0].plattB as number).toFixed(6)} vs ${(sk[0].plattB as number).toFixed(6)}`;
    }
    const r = ratios.length > 0 ? spread(ratios) : undefined;
    if (r && r.median < worst) {
      worst = r.median;
      worstLabel = o.label;
    }
    lines.push(`| ${o.label} | ${formatSpread(spread(q), 1)} | ${k.length ? formatSpread(spread(k), 1) : '-'} | ${r ? formatSpread(r, 1, 'x') : '-'} | ${check} |`);
  }
  lines.push('');
  for (const o of OPS) {
    const q = msOf(qb, o.op);
    const k = msOf(sk, o.op);
    if (k.length) lines.push(`${o.label}: sklearn / quantbook time: ${spread(k.map((v, i) => v / q[i])).median.toFixed(1)}x`);
  }
  if (haveSklearn) verdicts.push(verdictLine(`sklearn / quantbook >= ${GOAL}x on every operation`, worst >= GOAL, `slowest: ${worstLabel} ${worst.toFixed(1)}x (median of run pairs)`));
  else verdicts.push(verdictLine(`sklearn / quantbook >= ${GOAL}x on every operation`, false, 'scikit-learn not available, nothing compared'));
  const machine = machineInfo();
  const path = writeBenchResults('calibration', 'Calibration: quantbook vs scikit-learn', lines, verdicts, machine);
  for (const l of lines) console.log(l);
  console.log(`load average at the end: ${machine.loadAverage.map((x) => x.toFixed(2)).join(' ')}; written to ${path}`);
  console.log('');
  for (const v of verdicts) console.log(v);
}

main();
