/**
 * Gradient-boosted trees against XGBoost's `hist` method, one thread each, on the same
 * seeded synthetic data and parameters:
 *
 *   npm run bench:gbdt                        # 1,000,000 training rows x 32 features
 *   npm run bench:gbdt -- --rows 100000       # a quick run
 *   npm run bench:gbdt -- --rounds 50 --depth 6
 *
 * Data: 32 standard-normal features, 5% of cells missing (NaN), a binary label drawn from
 * a logistic model with interactions, a threshold, a sine and an absolute value, so that
 * depth matters; the validation set is a fifth of the training size from the same model.
 *
 * Timed: train = binning/DMatrix construction + boosting; predict = probabilities of the
 * validation rows from the in-memory matrix (XGBoost: `inplace_predict`, nthread=1).
 * XGBoost runs in Debian's /usr/bin/python3 (python3-xgboost) in a child process, timed
 * with perf_counter around each step, so start-up and file reads are excluded. The two
 * sides run one after the other, so both meet the load of the moment: on a shared machine
 * the ratios are the number to read, not the seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/random';
import { trainGbdt } from '../src/gbdt/train';
import { predictGbdt } from '../src/gbdt/model';
import { benchArgs } from './lib/args';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const F = 32;

const args = benchArgs('npm run bench:gbdt -- [options]', {
  rows: { default: 1_000_000, help: 'training rows' },
  rounds: { default: 100, help: 'boosting rounds' },
  depth: { default: 6, help: 'tree depth' },
  eta: { default: 0.1, help: 'learning rate' },
});
for (const [name, v] of Object.entries(args) as [string, number][]) if (!(v > 0)) throw new Error(`--${name} needs a positive number`);
const { rows, rounds, depth, eta } = args;

/** Seeded synthetic binary-classification data, row-major float32 with NaN for missing. */
function synthetic(n: number, rng: Rng): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) x[i * F + f] = rng.uniform() < 0.05 ? NaN : rng.normal();
    const g = (k: number): number => {
      const v = x[i * F + k]!;
      return v === v ? v : 0;
    };
    const s = g(0) + 0.5 * g(1) * g(2) - 0.8 * Math.abs(g(3)) + Math.sin(2 * g(4)) + 0.3 * g(5) + (g(6) > 0.5 ? 0.7 : -0.2) + 0.2 * g(7) * g(8);
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
  }
  return { x, y };
}

function logloss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-16, Math.max(1e-16, p[i]!));
    s -= y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q);
  }
  return s / y.length;
}

const XGB_SCRIPT = `
import json, sys, time
import numpy as np
import xgboost as xgb
d, n, nv, F, rounds, depth, eta = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
X = np.fromfile(d + "/x.f32", dtype=np.float32).reshape(n, F)
y = np.fromfile(d + "/y.f32", dtype=np.float32)
Xv = np.fromfile(d + "/xv.f32", dtype=np.float32).reshape(nv, F)
yv = np.fromfile(d + "/yv.f32", dtype=np.float32)
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": depth, "eta": eta,
          "max_bin": 256, "min_child_weight": 1, "lambda": 1, "nthread": 1, "base_score": 0.5}
t0 = time.perf_counter()
dtrain = xgb.DMatrix(X, label=y, nthread=1)
bst = xgb.train(params, dtrain, rounds)
t1 = time.perf_counter()
p = bst.inplace_predict(Xv)
t2 = time.perf_counter()
pc = np.clip(p.astype(np.float64), 1e-16, 1 - 1e-16)
ll = float(-np.mean(yv * np.log(pc) + (1 - yv) * np.log(1 - pc)))
print(json.dumps({"version": xgb.__version__, "trainMs": (t1 - t0) * 1000, "predictMs": (t2 - t1) * 1000, "logloss": ll}))
`;

/** What the XGB_SCRIPT child prints as its last stdout line (JSON). */
type XgbResult = { version: string; trainMs: number; predictMs: number; logloss: number };

function runXgboost(dir: string, n: number, nv: number): XgbResult | string {
  const probe = spawnSync(PYTHON, ['-c', 'import xgboost'], { encoding: 'utf8' });
  if (probe.status !== 0) return `xgboost not importable from ${PYTHON} (apt-get install python3-xgboost)`;
  const r = spawnSync(PYTHON, ['-c', XGB_SCRIPT, dir, String(n), String(nv), String(F), String(rounds), String(depth), String(eta)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return `xgboost run failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as XgbResult;
}

const nv = Math.max(1000, Math.floor(rows / 5));
const rng = new Rng(20261202);
const train = synthetic(rows, rng.fork('train'));
const valid = synthetic(nv, rng.fork('valid'));
const dir = mkdtempSync(join(tmpdir(), 'quantbook-bench-gbdt-'));
try {
  writeFileSync(join(dir, 'x.f32'), train.x);
  writeFileSync(join(dir, 'y.f32'), train.y);
  writeFileSync(join(dir, 'xv.f32'), valid.x);
  writeFileSync(join(dir, 'yv.f32'), valid.y);
  console.log(`gbdt bench: ${rows} training rows, ${nv} validation rows, ${F} features, ${rounds} rounds, max_depth ${depth}, eta ${eta}, one thread each`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const xgb = existsSync(PYTHON) ? runXgboost(dir, rows, nv) : `${PYTHON} not found`;

  const t0 = performance.now();
  const res = trainGbdt({ x: train.x, y: train.y, numFeature: F }, { rounds, maxDepth: depth, eta, minChildWeight: 1, lambda: 1, baseScore: 0.5 });
  const t1 = performance.now();
  const p = predictGbdt(res.model, valid.x);
  const t2 = performance.now();
  const ours = { trainMs: t1 - t0, predictMs: t2 - t1, logloss: logloss(p, valid.y) };
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log('');
  console.log('| side      | train     | predict   | validation log loss |');
  console.log('|-----------|-----------|-----------|---------------------|');
  console.log(`| quantbook | ${fmt(ours.trainMs).padStart(9)} | ${fmt(ours.predictMs).padStart(9)} | ${ours.logloss.toFixed(6).padStart(19)} |`);
  if (typeof xgb === 'string') {
    console.log('');
    console.log(`xgboost skipped: ${xgb}`);
    console.log('goals: not checked (no xgboost to compare against)');
  } else {
    console.log(`| xgboost   | ${fmt(xgb.trainMs).padStart(9)} | ${fmt(xgb.predictMs).padStart(9)} | ${xgb.logloss.toFixed(6).padStart(19)} |`);
    console.log('');
    const trainRatio = xgb.trainMs / ours.trainMs;
    const predictRatio = xgb.predictMs / ours.predictMs;
    const llRel = (ours.logloss - xgb.logloss) / xgb.logloss;
    console.log(`xgboost ${xgb.version}`);
    console.log(`xgboost / quantbook train time: ${trainRatio.toFixed(2)}x`);
    console.log(`xgboost / quantbook predict time: ${predictRatio.toFixed(2)}x`);
    console.log(`validation log loss: quantbook ${ours.logloss.toFixed(6)}, xgboost ${xgb.logloss.toFixed(6)} (${(llRel * 100).toFixed(3)}% relative)`);
    const misses: string[] = [];
    if (Math.abs(llRel) > 0.01 && llRel > 0) misses.push(`log loss ${(llRel * 100).toFixed(2)}% above xgboost's (goal: within 1%)`);
    if (trainRatio < 0.5) misses.push(`training ${(1 / trainRatio).toFixed(2)}x xgboost's time (goal: at most 2x)`);
    if (predictRatio < 1) misses.push(`prediction ${(1 / predictRatio).toFixed(2)}x xgboost's time (goal: at most 1x)`);
    console.log(misses.length === 0 ? 'goals: all met (log loss within 1%, train <= 2x, predict <= 1x)' : `goals NOT met: ${misses.join('; ')}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
