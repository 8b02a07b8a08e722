import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXgboostModel, parseXgboostJson, saveXgboostModel, toXgboostJson } from '../../src/gbdt/xgboostJson';
import { predictGbdt, predictGbdtMargin, type GbdtModel } from '../../src/gbdt/model';
import { featureImportance, IMPORTANCE_TYPES } from '../../src/gbdt/importance';
import { trainGbdt } from '../../src/gbdt/train';
import { ModelError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { thrownBy } from '../support/errors';

const FIX = join(__dirname, 'fixtures');
const CASES = ['logistic', 'squarederror', 'exact_depthwise'] as const;

interface Expected {
  x: (number | null)[][];
  margin: number[];
  prediction: number[];
  importance: Record<string, Record<string, number>>;
}

function expected(name: string): { exp: Expected; x: Float32Array; F: number } {
  const exp = JSON.parse(readFileSync(join(FIX, `${name}.expected.json`), 'utf8')) as Expected;
  const F = exp.x[0]!.length;
  return { exp, x: Float32Array.from(exp.x.flat(), (v) => (v === null ? NaN : v)), F };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('XGBoost JSON models (committed fixtures written by XGBoost 1.7)', () => {
  for (const name of CASES) {
    it(`predicts what XGBoost predicted for ${name}, margins and outputs to 1e-6, missing values included`, () => {
      const model = loadXgboostModel(join(FIX, `${name}.model.json`));
      const { exp, x } = expected(name);
      expect(x.some(Number.isNaN)).toBe(true);
      expect(maxAbsDiff(predictGbdtMargin(model, x), exp.margin)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(predictGbdt(model, x), exp.prediction)).toBeLessThanOrEqual(1e-6);
    });

    it(`reads the same feature importance as Booster.get_score for ${name}`, () => {
      const model = loadXgboostModel(join(FIX, `${name}.model.json`));
      const { exp } = expected(name);
      for (const type of IMPORTANCE_TYPES) {
        const ours = featureImportance(model, type);
        const theirs = exp.importance[type]!;
        expect(Object.keys(ours)).toEqual(Object.keys(theirs));
        // XGBoost sums in float32: agreement to 1e-6 relative.
        for (const k of Object.keys(theirs)) expect(Math.abs(ours[k]! - theirs[k]!)).toBeLessThanOrEqual(1e-6 * Math.abs(theirs[k]!));
      }
    });

    it(`writes ${name} back in XGBoost's schema with the same predictions`, () => {
      const text = readFileSync(join(FIX, `${name}.model.json`), 'utf8');
      const model = parseXgboostJson(text);
      const again = parseXgboostJson(toXgboostJson(model));
      const { x } = expected(name);
      expect(Array.from(predictGbdtMargin(again, x))).toEqual(Array.from(predictGbdtMargin(model, x)));
      // Same keys as XGBoost's own file, at every level of the learner and of a tree.
      const keysOf = (o: unknown): string[] => (typeof o === 'object' && o !== null && !Array.isArray(o) ? Object.keys(o).sort() : []);
      const a = JSON.parse(text).learner;
      const b = JSON.parse(toXgboostJson(model)).learner;
      for (const path of [[], ['gradient_booster'], ['gradient_booster', 'model'], ['learner_model_param'], ['objective']]) {
        const pick = (o: Record<string, unknown>): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], o);
        expect(keysOf(pick(b))).toEqual(keysOf(pick(a)));
      }
      expect(keysOf(b.gradient_booster.model.trees[0])).toEqual(keysOf(a.gradient_booster.model.trees[0]));
    });
  }

  it('keeps feature names and the objective', () => {
    const model = loadXgboostModel(join(FIX, 'squarederror.model.json'));
    expect(model.featureNames).toEqual(['ret_1', 'ret_4', 'vol', 'range', 'vwap_dist', 'hour']);
    expect(model.objective).toEqual({ name: 'reg:squarederror' });
    expect(model.baseScore).toBeGreaterThan(90);
  });
});

describe('XGBoost JSON: bad models', () => {
  const good = readFileSync(join(FIX, 'logistic.model.json'), 'utf8');
  it('names the JSON path of what is missing or unsupported', () => {
    const doc = JSON.parse(good);
    delete doc.learner.gradient_booster.model.trees[3].split_conditions;
    expect(thrownBy(() => parseXgboostJson(JSON.stringify(doc), 'm.json'), ModelError).location).toMatchObject({
      file: 'm.json',
      key: 'learner.gradient_booster.model.trees[3].split_conditions',
    });
    const obj = JSON.parse(good);
    obj.learner.objective.name = 'multi:softprob';
    expect(thrownBy(() => parseXgboostJson(JSON.stringify(obj)), ModelError).location.key).toBe('learner.objective.name');
    const cat = JSON.parse(good);
    cat.learner.gradient_booster.model.trees[0].split_type[0] = 1;
    expect(thrownBy(() => parseXgboostJson(JSON.stringify(cat)), ModelError).problem).toContain('categorical');
    const idx = JSON.parse(good);
    idx.learner.gradient_booster.model.trees[1].split_indices[0] = 99;
    expect(thrownBy(() => parseXgboostJson(JSON.stringify(idx)), ModelError).location.key).toBe('learner.gradient_booster.model.trees[1].split_indices[0]');
    expect(thrownBy(() => parseXgboostJson('{"learner":'), ModelError).problem).toContain('not JSON');
  });
});

const PYTHON = '/usr/bin/python3';
const hasXgboost = spawnSync(PYTHON, ['-c', 'import xgboost'], { encoding: 'utf8' }).status === 0;

/** XGBoost's margins for `x` from a model file, run live. */
function xgboostMargins(modelPath: string, x: Float32Array, F: number, dir: string): Float64Array {
  const xPath = join(dir, 'x.f32');
  writeFileSync(xPath, x);
  const script = `
import sys, numpy as np, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, int(sys.argv[3]))
m = b.predict(xgb.DMatrix(x, feature_names=b.feature_names), output_margin=True)
sys.stdout.write(",".join(repr(float(v)) for v in m))
`;
  const r = spawnSync(PYTHON, ['-c', script, modelPath, xPath, String(F)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(r.stderr);
  return Float64Array.from(r.stdout.split(','), Number);
}

describe.skipIf(!hasXgboost)('round trip through XGBoost, live (needs python3-xgboost)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantbook-gbdt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(4);
  const F = 5;
  const n = 3000;
  const x = new Float32Array(n * F).map(() => (rng.uniform() < 0.08 ? NaN : Math.round(rng.normal() * 4) / 4));
  const signal = (i: number): number => (Number.isNaN(x[i * F]!) ? 1 : x[i * F]!) - (x[i * F + 1]! > 0 ? 1 : 0) + 0.5 * (x[i * F + 2]! || 0);
  const yBin = Array.from({ length: n }, (_, i) => (rng.uniform() < 1 / (1 + Math.exp(-signal(i))) ? 1 : 0));
  const yReg = Array.from({ length: n }, (_, i) => 3 * signal(i) + rng.normal());

  const models: [string, GbdtModel][] = [
    ['logistic', trainGbdt({ x, y: yBin, numFeature: F }, { rounds: 30, maxDepth: 5, eta: 0.3, subsample: 0.8, colsampleBytree: 0.8, seed: 1, baseScore: 0.37 }).model],
    [
      'squarederror with names, L1 and gamma',
      trainGbdt({ x, y: yReg, numFeature: F, featureNames: ['a', 'b', 'c', 'd', 'e'] }, { objective: { name: 'reg:squarederror' }, rounds: 25, alpha: 1, gamma: 2, baseScore: 0.25 }).model,
    ],
  ];
  for (const [name, model] of models) {
    it(`XGBoost loads our ${name} model and predicts our margins to 1e-6`, () => {
      const path = join(dir, 'ours.json');
      saveXgboostModel(model, path);
      const theirs = xgboostMargins(path, x, F, dir);
      expect(maxAbsDiff(predictGbdtMargin(model, x), theirs)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('an XGBoost model saved again by us predicts the same in XGBoost', () => {
    const model = loadXgboostModel(join(FIX, 'exact_depthwise.model.json'));
    const { x: ex, F: eF, exp } = expected('exact_depthwise');
    const path = join(dir, 'resaved.json');
    saveXgboostModel(model, path);
    expect(maxAbsDiff(xgboostMargins(path, ex, eF, dir), exp.margin)).toBeLessThanOrEqual(1e-6);
  });
});
