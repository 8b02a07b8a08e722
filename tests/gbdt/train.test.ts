import { describe, expect, it } from 'vitest';
import { trainGbdt, gbdtMetric } from '../../src/gbdt/train';
import { predictGbdt, predictGbdtMargin } from '../../src/gbdt/model';
import { featureImportance } from '../../src/gbdt/importance';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { thrownBy } from '../support/errors';

const sq = { name: 'reg:squarederror' } as const;
const stump = { x: new Float32Array([1, 2, 3, 4]), y: [1, 1, 5, 5], numFeature: 1 };

/** Seeded binary data: 4 features, the label depends on f0, f1*f2 and |f3|; 5% missing. */
function classification(n: number, seed: number): { x: Float32Array; y: Float64Array; numFeature: number } {
  const rng = new Rng(seed);
  const F = 4;
  const x = new Float32Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) x[i * F + f] = rng.uniform() < 0.05 ? NaN : rng.normal();
    const g = (k: number): number => (Number.isNaN(x[i * F + k]!) ? 0 : x[i * F + k]!);
    const s = 2 * g(0) + 1.5 * g(1) * g(2) - Math.abs(g(3));
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
  }
  return { x, y, numFeature: F };
}

describe('trainGbdt: one split by hand', () => {
  it('picks the split and leaf weights of the XGBoost gain formula (squared error, lambda 1)', () => {
    // g = -y at margin 0, h = 1: G = -12, H = 4. Split x < 3: (4/3 + 100/3) - 144/5 = 5.8667; leaves 2/3, 10/3.
    const { model } = trainGbdt(stump, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0 });
    const t = model.trees[0]!;
    expect(t.condition[0]).toBe(3);
    expect(t.lossChange[0]).toBeCloseTo(104 / 3 - 28.8, 5);
    expect(t.condition[1]).toBeCloseTo(2 / 3, 6);
    expect(t.condition[2]).toBeCloseTo(10 / 3, 6);
    expect(t.sumHessian[0]).toBe(4);
    expect(t.baseWeight[0]).toBeCloseTo(12 / 5, 6);
    expect(Array.from(predictGbdt(model, stump.x))).toEqual([2 / 3, 2 / 3, 10 / 3, 10 / 3].map(Math.fround));
  });

  it('soft-thresholds gradients by alpha (L1): leaves -(G - alpha sign G)/(H + lambda)', () => {
    const { model } = trainGbdt(stump, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0, alpha: 1 });
    const t = model.trees[0]!;
    expect(t.condition[0]).toBe(3);
    expect(t.lossChange[0]).toBeCloseTo(82 / 3 - 24.2, 5);
    expect(t.condition[1]).toBeCloseTo(1 / 3, 6);
    expect(t.condition[2]).toBeCloseTo(3, 6);
  });

  it('prunes a split whose gain is below gamma and keeps it above', () => {
    const pruned = trainGbdt(stump, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0, gamma: 6 }).model.trees[0]!;
    expect(pruned.left.length).toBe(1);
    expect(pruned.condition[0]).toBeCloseTo(2.4, 6);
    const kept = trainGbdt(stump, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0, gamma: 5.8 }).model.trees[0]!;
    expect(kept.left.length).toBe(3);
  });

  it('refuses children lighter than min_child_weight', () => {
    const t = trainGbdt(stump, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0, minChildWeight: 2.5 }).model.trees[0]!;
    expect(t.left.length).toBe(1);
    expect(t.condition[0]).toBeCloseTo(2.4, 6);
  });

  it('learns where missing values go (default left when they behave like the left side)', () => {
    const data = { x: new Float32Array([NaN, NaN, 1, 2, 3, 4]), y: [1, 1, 1, 1, 5, 5], numFeature: 1 };
    const { model } = trainGbdt(data, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0 });
    const t = model.trees[0]!;
    expect(t.condition[0]).toBe(3);
    expect(t.defaultLeft[0]).toBe(1);
    const p = predictGbdt(model, new Float32Array([NaN, 10]));
    expect(p[0]).toBeCloseTo(4 / 5, 6);
    expect(p[1]).toBeCloseTo(10 / 3, 6);
    // Mirrored: missing values like the right side go right.
    const mirrored = trainGbdt({ ...data, y: [5, 5, 1, 1, 5, 5] }, { objective: sq, rounds: 1, maxDepth: 1, eta: 1, baseScore: 0 }).model.trees[0]!;
    expect(mirrored.defaultLeft[0]).toBe(0);
  });
});

describe('trainGbdt: boosting', () => {
  const train = classification(4000, 1);
  const valid = classification(2000, 2);

  it('learns a non-linear binary target and reports the validation log loss it reaches', () => {
    const res = trainGbdt(train, { rounds: 60, maxDepth: 4, eta: 0.2 }, valid);
    expect(res.validHistory.length).toBe(60);
    expect(res.validHistory[59]!).toBeLessThan(res.validHistory[0]!);
    expect(res.validHistory[59]!).toBeLessThan(0.45);
    // The reported metric is the one of the model's own predictions.
    expect(gbdtMetric({ name: 'binary:logistic' }, predictGbdtMargin(res.model, valid.x), valid.y)).toBeCloseTo(res.validHistory[59]!, 5);
    let correct = 0;
    const p = predictGbdt(res.model, valid.x);
    for (let i = 0; i < p.length; i++) if ((p[i]! > 0.5 ? 1 : 0) === valid.y[i]) correct++;
    expect(correct / p.length).toBeGreaterThan(0.78);
  });

  it('is deterministic for a seed, and the seed drives row and column sampling', () => {
    const params = { rounds: 5, maxDepth: 3, subsample: 0.7, colsampleBytree: 0.5, seed: 11 };
    const a = trainGbdt(train, params).model;
    const b = trainGbdt(train, params).model;
    const c = trainGbdt(train, { ...params, seed: 12 }).model;
    expect(Array.from(predictGbdt(a, valid.x))).toEqual(Array.from(predictGbdt(b, valid.x)));
    expect(Array.from(predictGbdt(a, valid.x))).not.toEqual(Array.from(predictGbdt(c, valid.x)));
  });

  it('uses only the drawn features of each tree (colsample_bytree)', () => {
    const { model } = trainGbdt(train, { rounds: 8, maxDepth: 3, colsampleBytree: 0.25, seed: 3 });
    for (const t of model.trees) {
      const used = new Set<number>();
      for (let i = 0; i < t.left.length; i++) if (t.left[i] !== -1) used.add(t.feature[i]!);
      expect(used.size).toBeLessThanOrEqual(1);
    }
  });

  it('stops early and keeps the trees up to the best validation round', () => {
    const rng = new Rng(5);
    const noise = { ...train, y: train.y.map(() => (rng.uniform() < 0.5 ? 1 : 0)) };
    const res = trainGbdt(noise, { rounds: 200, maxDepth: 6, eta: 0.5, earlyStoppingRounds: 5 }, valid);
    const best = res.model.bestIteration!;
    expect(res.roundsRun).toBeLessThan(200);
    expect(res.roundsRun).toBe(best + 1 + 5);
    expect(res.model.trees.length).toBe(best + 1);
    expect(Math.min(...res.validHistory)).toBe(res.validHistory[best]);
  });

  it('fits a conditional quantile with the pinball loss (reg:quantileerror)', () => {
    const rng = new Rng(9);
    const n = 4000;
    const x = new Float32Array(n).map(() => rng.normal());
    const y = Array.from(x, (v) => v + rng.normal() * (1 + Math.abs(v)));
    for (const alpha of [0.1, 0.9]) {
      const { model } = trainGbdt({ x, y, numFeature: 1 }, { objective: { name: 'reg:quantileerror', alpha }, rounds: 30, maxDepth: 3, eta: 0.3, baseScore: 0 });
      const q = predictGbdt(model, x);
      let below = 0;
      for (let i = 0; i < n; i++) if (y[i]! <= q[i]!) below++;
      expect(Math.abs(below / n - alpha)).toBeLessThan(0.03);
    }
  });
});

describe('featureImportance', () => {
  it('averages and sums loss change and cover over the splits on each feature', () => {
    const { model } = trainGbdt(stump, { objective: sq, rounds: 2, maxDepth: 1, eta: 1, baseScore: 0 });
    const splits = model.trees.filter((t) => t.left.length > 1).map((t) => ({ gain: t.lossChange[0]!, cover: t.sumHessian[0]! }));
    expect(splits.length).toBeGreaterThan(0);
    const total = splits.reduce((s, v) => s + v.gain, 0);
    expect(featureImportance(model, 'weight')).toEqual({ f0: splits.length });
    expect(featureImportance(model, 'total_gain').f0).toBeCloseTo(total, 6);
    expect(featureImportance(model, 'gain').f0).toBeCloseTo(total / splits.length, 6);
    expect(featureImportance(model, 'cover').f0).toBe(4);
  });
});

describe('trainGbdt: bad input', () => {
  it('names the parameter, row or column at fault', () => {
    expect(thrownBy(() => trainGbdt(stump, { eta: 0 }), ConfigError).location.key).toBe('eta');
    expect(thrownBy(() => trainGbdt(stump, { earlyStoppingRounds: 3 }), ConfigError).location.key).toBe('earlyStoppingRounds');
    expect(thrownBy(() => trainGbdt({ ...stump, y: [0, 1, 2, 1] }), DataError).location.row).toBe(2);
    const inf = thrownBy(() => trainGbdt({ x: new Float32Array([1, Infinity, 2, 3]), y: [0, 1], numFeature: 2, featureNames: ['a', 'b'] }), DataError);
    expect(inf.location).toMatchObject({ row: 0, column: 'b' });
    expect(thrownBy(() => trainGbdt({ ...stump, y: [1, 1, 1] }), DataError).message).toContain('4 rows but 3 labels');
  });
});
