/**
 * Calibration benchmark: isotonic fit, reliability table and Platt fit on a
 * million points, against scikit-learn on the same data in the same run when
 * Debian's /usr/bin/python3 has it.
 *
 *   npm run bench:calibration            # 1,000,000 points, best of 5
 *   npm run bench:calibration -- 200000 3
 *
 * Timings are the best of R runs after one warm-up; the two sides alternate
 * call by call so that both meet the same load on a shared machine.
 * scikit-learn runs in one long-lived Python process, timed with perf_counter
 * around each call only, so interpreter start-up, imports and reading the data
 * are excluded.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fitIsotonic } from '../src/calibration/isotonic';
import { fitPlatt } from '../src/calibration/platt';
import { reliabilityTable } from '../src/calibration/reliability';
import { Rng } from '../src/core/random';

const PYTHON = '/usr/bin/python3';

// Loads the data, warms every operation up once, then times one call per request
// line on stdin and answers with milliseconds, so the two sides alternate under
// the same machine load.
const SKLEARN_SCRIPT = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.isotonic import IsotonicRegression
from sklearn.calibration import calibration_curve, _SigmoidCalibration
d = sys.argv[1]
p = np.fromfile(d + "/p.f64"); y = np.fromfile(d + "/y.f64"); s = np.fromfile(d + "/s.f64")
ops = {
  "isotonic": lambda: IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p, y),
  "uniform": lambda: calibration_curve(y, p, n_bins=10, strategy="uniform"),
  "quantile": lambda: calibration_curve(y, p, n_bins=10, strategy="quantile"),
  "platt": lambda: _SigmoidCalibration().fit(s, y),
}
iso = ops["isotonic"](); platt = ops["platt"](); ops["uniform"](); ops["quantile"]()
print(json.dumps({"version": sklearn.__version__, "isoKnots": int(iso.X_thresholds_.size),
  "plattA": float(platt.a_), "plattB": float(platt.b_)}), flush=True)
for line in sys.stdin:
    f = ops[line.strip()]
    t = time.perf_counter(); f(); ms = (time.perf_counter() - t) * 1000
    print(ms, flush=True)
`;

/** A Python process answering timing requests line by line. */
class SklearnTimer {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private buffer = '';
  private stderr = '';
  private failed: ((err: Error) => void) | undefined;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.on('exit', () => this.failed?.(new Error(this.stderr.trim().split('\n').pop() || 'python exited')));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      }
    });
    child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  static start(dir: string): SklearnTimer {
    return new SklearnTimer(spawn(PYTHON, ['-c', SKLEARN_SCRIPT, dir]));
  }

  next(): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }

  async time(op: string): Promise<number> {
    this.child.stdin.write(`${op}\n`);
    return Number(await this.next());
  }

  stop(): void {
    this.child.stdin.end();
  }
}

interface Timing {
  label: string;
  quantbookMs: number;
  sklearnMs?: number;
  check?: string;
}

function timeOnce(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const repeats = Number(process.argv[3] ?? 5);
  const rng = new Rng(2024);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.uniform();
    y[i] = rng.bernoulli(p[i] ** 1.3) ? 1 : 0; // a little miscalibrated, so the fits have work to do
    s[i] = 3 * Math.log(p[i] / (1 - p[i])); // classifier-like scores for Platt
  }
  const ops: Array<{ label: string; op: string; run: () => unknown }> = [
    { label: 'isotonic fit', op: 'isotonic', run: () => fitIsotonic(p, y, { yMin: 0, yMax: 1 }) },
    { label: 'reliability table (uniform)', op: 'uniform', run: () => reliabilityTable(p, y, { bins: 10, strategy: 'uniform' }) },
    { label: 'reliability table (quantile)', op: 'quantile', run: () => reliabilityTable(p, y, { bins: 10, strategy: 'quantile' }) },
    { label: 'Platt fit', op: 'platt', run: () => fitPlatt(s, y) },
  ];
  const iso = fitIsotonic(p, y, { yMin: 0, yMax: 1 });
  const platt = fitPlatt(s, y);
  for (const o of ops) o.run(); // warm-up (JIT)
  const rows: Timing[] = ops.map((o) => ({ label: o.label, quantbookMs: Infinity }));

  let sklearn: SklearnTimer | undefined;
  let sklearnNote = `scikit-learn: not run (${PYTHON} not found)`;
  const dir = mkdtempSync(join(tmpdir(), 'quantbook-bench-'));
  try {
    if (existsSync(PYTHON)) {
      writeFileSync(join(dir, 'p.f64'), p);
      writeFileSync(join(dir, 'y.f64'), y);
      writeFileSync(join(dir, 's.f64'), s);
      sklearn = SklearnTimer.start(dir);
      try {
        const info = JSON.parse(await sklearn.next());
        rows[0].check = `knots ${iso.x.length} vs ${info.isoKnots}`;
        rows[3].check = `A ${platt.a.toFixed(6)} vs ${info.plattA.toFixed(6)}, B ${platt.b.toFixed(6)} vs ${info.plattB.toFixed(6)}`;
        sklearnNote = `scikit-learn ${info.version} via ${PYTHON}, timed inside Python around each call (start-up, imports, data loading excluded)`;
      } catch (err) {
        sklearnNote = `scikit-learn: not run (${PYTHON}: ${err instanceof Error ? err.message : String(err)})`;
        sklearn = undefined;
      }
    }
    // Alternate the two sides call by call, so both see the same machine load.
    for (let r = 0; r < repeats; r++) {
      for (let k = 0; k < ops.length; k++) {
        rows[k].quantbookMs = Math.min(rows[k].quantbookMs, timeOnce(ops[k].run));
        if (sklearn) rows[k].sklearnMs = Math.min(rows[k].sklearnMs ?? Infinity, await sklearn.time(ops[k].op));
      }
    }
  } finally {
    sklearn?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const load = loadavg()[0].toFixed(2);
  console.log(`calibration benchmark: ${n.toLocaleString('en-US')} points, best of ${repeats} after a warm-up, the two sides alternating call by call`);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${load}; node ${process.version}`);
  console.log(sklearnNote);
  console.log('');
  const head = ['operation', 'quantbook ms', 'sklearn ms', 'sklearn / quantbook', 'check'];
  const body = rows.map((r) => [
    r.label,
    r.quantbookMs.toFixed(1),
    r.sklearnMs === undefined ? '-' : r.sklearnMs.toFixed(1),
    r.sklearnMs === undefined ? '-' : `${(r.sklearnMs / r.quantbookMs).toFixed(1)}x`,
    r.check ?? '',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((b) => b[k].length)));
  const line = (cells: string[]): string => cells.map((c, k) => (k === 0 || k === 4 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
  console.log('');
  for (const r of rows) {
    if (r.sklearnMs !== undefined) console.log(`${r.label}: sklearn / quantbook time: ${(r.sklearnMs / r.quantbookMs).toFixed(1)}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
