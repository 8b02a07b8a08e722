/**
 * Gradient boosting of histogram trees (XGBoost's `hist` method, depth-wise growth) on typed
 * arrays: second-order gradients of the objective, one tree per round, row and column
 * subsampling, early stopping on a validation set. Same inputs and seed, same model.
 */
import { ConfigError, DataError } from '../core/errors';
import { Rng } from '../core/random';
import { quantileSorted } from '../stats/order';
import { binMatrix, quantileCuts, MAX_VALUE_BINS } from './binning';
import { growTree, type GrowParams } from './grow';
import { baseMargin, predictGbdtMargin, type GbdtModel, type Objective, type Tree } from './model';

/** Training parameters; names follow XGBoost's (`max_depth` is `maxDepth`, ...). */
export interface TrainParams {
  /** Default `{ name: 'binary:logistic' }`. */
  objective?: Objective;
  /** Boosting rounds (trees), default 100. */
  rounds?: number;
  /** Learning rate `eta`, default 0.3 (XGBoost's). */
  eta?: number;
  /** Default 6. */
  maxDepth?: number;
  /** Minimum hessian sum in a child, default 1. */
  minChildWeight?: number;
  /** L2 regularisation of leaf weights, default 1. */
  lambda?: number;
  /** L1 regularisation of leaf weights, default 0. */
  alpha?: number;
  /** Minimum loss reduction to keep a split (`min_split_loss`), default 0. */
  gamma?: number;
  /** Fraction of rows drawn (without replacement, Bernoulli per row) for each tree, default 1. */
  subsample?: number;
  /** Fraction of features drawn for each tree, default 1. */
  colsampleBytree?: number;
  /** Value bins per feature, 2..255, default 255. */
  maxBin?: number;
  /** Initial prediction in output space, default 0.5 (XGBoost 1.7's). */
  baseScore?: number;
  /** Stop when the validation metric has not improved for this many rounds; needs `valid`. */
  earlyStoppingRounds?: number;
  /** Seed of every random draw, default 0. */
  seed?: number;
}

/** A feature matrix (row-major, NaN = missing) with its labels. */
export interface TrainData {
  x: Float32Array | Float64Array;
  y: ArrayLike<number>;
  numFeature: number;
  featureNames?: string[];
}

/** A trained model and how training went. */
export interface TrainResult {
  model: GbdtModel;
  /** Validation metric after each round (logloss, rmse or mean pinball loss); empty without `valid`. */
  validHistory: number[];
  /** Name of the validation metric. */
  metric: 'logloss' | 'rmse' | 'pinball';
  /** Rounds actually run (at least the kept trees). */
  roundsRun: number;
}

interface Resolved extends GrowParams {
  objective: Objective;
  rounds: number;
  subsample: number;
  colsampleBytree: number;
  maxBin: number;
  baseScore: number;
  earlyStoppingRounds: number | undefined;
  seed: number;
}

function resolve(p: TrainParams): Resolved {
  const r: Resolved = {
    objective: p.objective ?? { name: 'binary:logistic' },
    rounds: p.rounds ?? 100,
    eta: p.eta ?? 0.3,
    maxDepth: p.maxDepth ?? 6,
    minChildWeight: p.minChildWeight ?? 1,
    lambda: p.lambda ?? 1,
    alpha: p.alpha ?? 0,
    gamma: p.gamma ?? 0,
    subsample: p.subsample ?? 1,
    colsampleBytree: p.colsampleBytree ?? 1,
    maxBin: p.maxBin ?? MAX_VALUE_BINS,
    baseScore: p.baseScore ?? 0.5,
    earlyStoppingRounds: p.earlyStoppingRounds,
    seed: p.seed ?? 0,
  };
  const check = (key: string, ok: boolean, value: unknown): void => {
    if (!ok) throw new ConfigError(`invalid training parameter ${key}`, { key, value });
  };
  check('rounds', Number.isInteger(r.rounds) && r.rounds >= 1, r.rounds);
  check('eta', r.eta > 0 && Number.isFinite(r.eta), r.eta);
  check('maxDepth', Number.isInteger(r.maxDepth) && r.maxDepth >= 1 && r.maxDepth <= 30, r.maxDepth);
  check('minChildWeight', r.minChildWeight >= 0 && Number.isFinite(r.minChildWeight), r.minChildWeight);
  check('lambda', r.lambda >= 0 && Number.isFinite(r.lambda), r.lambda);
  check('alpha', r.alpha >= 0 && Number.isFinite(r.alpha), r.alpha);
  check('gamma', r.gamma >= 0 && Number.isFinite(r.gamma), r.gamma);
  check('subsample', r.subsample > 0 && r.subsample <= 1, r.subsample);
  check('colsampleBytree', r.colsampleBytree > 0 && r.colsampleBytree <= 1, r.colsampleBytree);
  check('seed', Number.isInteger(r.seed), r.seed);
  check('baseScore', Number.isFinite(r.baseScore), r.baseScore);
  if (r.earlyStoppingRounds !== undefined) check('earlyStoppingRounds', Number.isInteger(r.earlyStoppingRounds) && r.earlyStoppingRounds >= 1, r.earlyStoppingRounds);
  if (r.objective.name === 'reg:quantileerror') check('objective.alpha', r.objective.alpha > 0 && r.objective.alpha < 1, r.objective.alpha);
  return r;
}

function checkData(d: TrainData, what: string, objective: Objective): Float32Array {
  const F = d.numFeature;
  if (!Number.isInteger(F) || F < 1 || d.x.length % F !== 0) {
    throw new DataError(`${what} matrix length ${d.x.length} is not a multiple of ${F} features`, { key: 'numFeature', value: F });
  }
  const n = d.x.length / F;
  if (d.y.length !== n) throw new DataError(`${what} has ${n} rows but ${d.y.length} labels`, { key: 'y', value: d.y.length });
  if (n === 0) throw new DataError(`${what} has no rows`);
  for (let i = 0; i < n; i++) {
    const v = d.y[i]!;
    if (!Number.isFinite(v)) throw new DataError(`${what} label is not finite`, { row: i, value: v });
    if (objective.name === 'binary:logistic' && (v < 0 || v > 1)) {
      throw new DataError(`${what} label of binary:logistic must be in [0, 1]`, { row: i, value: v });
    }
  }
  for (let i = 0; i < d.x.length; i++) {
    const v = d.x[i]!;
    if (v === Infinity || v === -Infinity) {
      throw new DataError(`${what} feature is infinite (use NaN for missing)`, { row: Math.floor(i / F), column: d.featureNames?.[i % F] ?? `f${i % F}`, value: v });
    }
  }
  return d.x instanceof Float32Array ? d.x : Float32Array.from(d.x);
}

/** Fills interleaved (gradient, hessian) pairs of the objective at margins `m`. */
function gradients(obj: Objective, m: Float64Array, y: ArrayLike<number>, gh: Float64Array): void {
  const n = m.length;
  if (obj.name === 'binary:logistic') {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-m[i]!));
      gh[2 * i] = p - y[i]!;
      gh[2 * i + 1] = Math.max(p * (1 - p), 1e-16);
    }
  } else if (obj.name === 'reg:squarederror') {
    for (let i = 0; i < n; i++) {
      gh[2 * i] = m[i]! - y[i]!;
      gh[2 * i + 1] = 1;
    }
  } else {
    const a = obj.alpha;
    for (let i = 0; i < n; i++) {
      gh[2 * i] = m[i]! - y[i]! >= 0 ? 1 - a : -a;
      gh[2 * i + 1] = 1;
    }
  }
}

/**
 * Validation metric at margins `m`: log loss (probabilities clipped to [1e-16, 1 - 1e-16]),
 * root mean squared error, or mean pinball loss, matching XGBoost's `logloss`, `rmse`, `quantile`.
 * @example gbdtMetric({ name: 'reg:squarederror' }, new Float64Array([1, 3]), [2, 2]) // 1
 */
export function gbdtMetric(obj: Objective, m: Float64Array, y: ArrayLike<number>): number {
  const n = m.length;
  let s = 0;
  if (obj.name === 'binary:logistic') {
    for (let i = 0; i < n; i++) {
      const p = Math.min(1 - 1e-16, Math.max(1e-16, 1 / (1 + Math.exp(-m[i]!))));
      const t = y[i]!;
      s -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    }
    return s / n;
  }
  if (obj.name === 'reg:squarederror') {
    for (let i = 0; i < n; i++) s += (m[i]! - y[i]!) ** 2;
    return Math.sqrt(s / n);
  }
  const a = obj.alpha;
  for (let i = 0; i < n; i++) {
    const d = y[i]! - m[i]!;
    s += d >= 0 ? a * d : (a - 1) * d;
  }
  return s / n;
}

/**
 * Trains a gradient-boosted tree ensemble.
 *
 * Per round: gradients and hessians of the objective at the current margins; a seeded
 * Bernoulli row sample (`subsample`) and feature sample (`colsampleBytree`); one depth-wise
 * histogram tree with XGBoost's gain `G_L^2/(H_L+λ) + G_R^2/(H_R+λ) - G^2/(H+λ)` (with L1
 * soft-thresholding by `alpha`), `min_child_weight`, the learned default direction for
 * missing values, and `gamma` pruning; leaves `-eta * G / (H + λ)`. For
 * `reg:quantileerror` each leaf is then set to `eta` times the `alpha`-quantile of its rows'
 * residuals (XGBoost 2's adaptive leaves). With `valid` and `earlyStoppingRounds`, training
 * stops after that many rounds without a better validation metric, and the model keeps the
 * trees up to the best round.
 *
 * @throws ConfigError for out-of-range parameters; DataError for mismatched shapes, infinite
 *   features, non-finite labels or logistic labels outside [0, 1].
 * @example
 * const { model } = trainGbdt({ x, y, numFeature: 2 }, { rounds: 50, maxDepth: 3, eta: 0.1 });
 * predictGbdt(model, x); // probabilities
 */
export function trainGbdt(train: TrainData, params: TrainParams = {}, valid?: TrainData): TrainResult {
  const p = resolve(params);
  if (p.earlyStoppingRounds !== undefined && !valid) {
    throw new ConfigError('early stopping needs a validation set', { key: 'earlyStoppingRounds', value: p.earlyStoppingRounds });
  }
  const F = train.numFeature;
  const x = checkData(train, 'training data', p.objective);
  let vx: Float32Array | undefined;
  if (valid) {
    if (valid.numFeature !== F) throw new DataError(`validation data has ${valid.numFeature} features, training data ${F}`, { key: 'numFeature', value: valid.numFeature });
    vx = checkData(valid, 'validation data', p.objective);
  }
  const n = x.length / F;
  const y = train.y;
  const rng = new Rng(p.seed);
  const cuts = quantileCuts(x, F, p.maxBin, p.seed);
  const bm = binMatrix(x, cuts);
  const nbins = Int32Array.from(cuts.cuts, (c) => c.length);

  const objective = p.objective;
  const model: GbdtModel = {
    objective,
    baseScore: p.baseScore,
    numFeature: F,
    featureNames: train.featureNames ? [...train.featureNames] : [],
    trees: [],
  };
  const base = baseMargin(objective, p.baseScore);
  const margin = new Float64Array(n).fill(base);
  const gh = new Float64Array(2 * n);
  const allRows = new Uint32Array(n);
  for (let i = 0; i < n; i++) allRows[i] = i;
  const rowsBuf = new Uint32Array(n);
  const scratch = new Uint32Array(n);
  const pool: Float64Array[] = [];
  const nColSample = Math.max(1, Math.floor(F * p.colsampleBytree));
  const featPerm = new Int32Array(F);

  const vMargin = vx ? new Float64Array(vx.length / F).fill(base) : undefined;
  const validHistory: number[] = [];
  let bestScore = Infinity;
  let bestRound = -1;
  let roundsRun = 0;

  for (let round = 0; round < p.rounds; round++) {
    gradients(objective, margin, y, gh);
    let nRows = n;
    if (p.subsample < 1) {
      nRows = 0;
      for (let i = 0; i < n; i++) if (rng.uniform() < p.subsample) rowsBuf[nRows++] = i;
    } else {
      rowsBuf.set(allRows);
    }
    const rows = rowsBuf.subarray(0, nRows);
    let feats: Int32Array;
    if (nColSample < F) {
      for (let i = 0; i < F; i++) featPerm[i] = i;
      for (let i = 0; i < nColSample; i++) {
        const j = i + rng.int(F - i);
        const t = featPerm[i]!;
        featPerm[i] = featPerm[j]!;
        featPerm[j] = t;
      }
      feats = featPerm.slice(0, nColSample).sort();
    } else {
      feats = Int32Array.from({ length: F }, (_, i) => i);
    }
    const grown = growTree(bm, cuts, nbins, gh, rows, feats, p, pool, scratch);
    const tree = grown.tree;
    if (objective.name === 'reg:quantileerror') refreshQuantileLeaves(tree, grown.rowStart, grown.rowEnd, rows, margin, y, objective.alpha, p.eta);
    model.trees.push(tree);
    addTree(tree, grown.rowStart, grown.rowEnd, rows, margin, p.subsample < 1 ? x : null, F);
    roundsRun = round + 1;

    if (vx && vMargin && valid) {
      const one: GbdtModel = { ...model, baseScore: objective.name === 'binary:logistic' ? 0.5 : 0, trees: [tree] };
      const add = predictGbdtMargin(one, vx);
      for (let i = 0; i < vMargin.length; i++) vMargin[i] += add[i]!;
      const score = gbdtMetric(objective, vMargin, valid.y);
      validHistory.push(score);
      if (score < bestScore) {
        bestScore = score;
        bestRound = round;
      } else if (p.earlyStoppingRounds !== undefined && round - bestRound >= p.earlyStoppingRounds) {
        break;
      }
    }
  }
  if (p.earlyStoppingRounds !== undefined && bestRound >= 0) {
    model.trees = model.trees.slice(0, bestRound + 1);
    model.bestIteration = bestRound;
  }
  const metric = objective.name === 'binary:logistic' ? 'logloss' : objective.name === 'reg:squarederror' ? 'rmse' : 'pinball';
  return { model, validHistory, metric, roundsRun };
}

/** Adds the new tree's leaves to the training margins: by leaf row ranges, or by walking the tree for every row when rows were subsampled. */
function addTree(tree: Tree, rowStart: Int32Array, rowEnd: Int32Array, rows: Uint32Array, margin: Float64Array, xAll: Float32Array | null, F: number): void {
  if (xAll) {
    const n = margin.length;
    for (let r = 0; r < n; r++) {
      let nid = 0;
      while (tree.left[nid] !== -1) {
        const v = xAll[r * F + tree.feature[nid]!]!;
        if (v < tree.condition[nid]!) nid = tree.left[nid]!;
        else if (v !== v && tree.defaultLeft[nid] === 1) nid = tree.left[nid]!;
        else nid = tree.right[nid]!;
      }
      margin[r] += tree.condition[nid]!;
    }
    return;
  }
  for (let i = 0; i < tree.left.length; i++) {
    if (tree.left[i] !== -1) continue;
    const w = tree.condition[i]!;
    for (let k = rowStart[i]!; k < rowEnd[i]!; k++) margin[rows[k]!] += w;
  }
}

function refreshQuantileLeaves(
  tree: Tree,
  rowStart: Int32Array,
  rowEnd: Int32Array,
  rows: Uint32Array,
  margin: Float64Array,
  y: ArrayLike<number>,
  alpha: number,
  eta: number,
): void {
  for (let i = 0; i < tree.left.length; i++) {
    if (tree.left[i] !== -1) continue;
    const s = rowStart[i]!;
    const e = rowEnd[i]!;
    if (e <= s) continue;
    const res = new Float64Array(e - s);
    for (let k = s; k < e; k++) res[k - s] = y[rows[k]!]! - margin[rows[k]!]!;
    // The leaf value is the type-7 alpha-quantile of the residuals (the shared one in src/stats).
    const v = Math.fround(eta * quantileSorted(res.sort(), alpha));
    tree.condition[i] = v;
    tree.baseWeight[i] = v;
  }
}
