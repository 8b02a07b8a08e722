/**
 * XGBoost's JSON model format (`Booster.save_model('m.json')`, schema of XGBoost 1.7, read
 * also from 2.x): load a model saved by XGBoost, and write ours so that XGBoost loads it.
 * Trees only (`gbtree`), one output (no multi-class), numerical splits (no categorical).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ModelError } from '../core/errors';
import type { GbdtModel, Objective, Tree } from './model';

/** Root's parent in XGBoost's arrays (`kInvalidNodeId` as stored). */
const NO_PARENT = 2147483647;

type Json = Record<string, unknown>;

function field(obj: unknown, key: string, path: string, file: string | undefined): unknown {
  if (typeof obj !== 'object' || obj === null || !(key in obj)) {
    throw new ModelError(`XGBoost model is missing ${path}.${key}`, { file, key: `${path}.${key}` });
  }
  return (obj as Json)[key];
}

function numberOf(v: unknown, key: string, file: string | undefined): number {
  // XGBoost writes most scalars as strings ("5E-1"); 2.1 wraps base_score in brackets ("[5E-1]").
  const s = typeof v === 'string' ? v.replace(/^\[|\]$/g, '') : v;
  const n = typeof s === 'number' ? s : typeof s === 'string' && s.trim() !== '' ? Number(s) : NaN;
  if (!Number.isFinite(n)) throw new ModelError('XGBoost model field is not a number', { file, key, value: v });
  return n;
}

function arrayOf(v: unknown, key: string, len: number, file: string | undefined): number[] {
  if (!Array.isArray(v) || v.length !== len) {
    throw new ModelError(`XGBoost tree array must have ${len} entries (tree_param.num_nodes)`, { file, key, value: Array.isArray(v) ? v.length : v });
  }
  return v.map((x, i) => {
    const n = typeof x === 'boolean' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new ModelError('XGBoost tree array entry is not a finite number', { file, key: `${key}[${i}]`, value: x });
    return n;
  });
}

function objectiveOf(obj: unknown, file: string | undefined): Objective {
  const name = field(obj, 'name', 'learner.objective', file);
  if (name === 'binary:logistic' || name === 'reg:logistic') return { name: 'binary:logistic' };
  if (name === 'reg:squarederror' || name === 'reg:linear') return { name: 'reg:squarederror' };
  if (name === 'reg:quantileerror') {
    const raw = field(field(obj, 'quantile_loss_param', 'learner.objective', file), 'quantile_alpha', 'learner.objective.quantile_loss_param', file);
    const alphas = String(raw).match(/[-+0-9.eE]+/g) ?? [];
    if (alphas.length !== 1) throw new ModelError('only one quantile_alpha is supported', { file, key: 'learner.objective.quantile_loss_param.quantile_alpha', value: raw });
    return { name: 'reg:quantileerror', alpha: Number(alphas[0]) };
  }
  throw new ModelError('unsupported XGBoost objective (supported: binary:logistic, reg:logistic, reg:squarederror, reg:quantileerror)', {
    file,
    key: 'learner.objective.name',
    value: name,
  });
}

/** One tree, renumbered breadth-first over the nodes reachable from the root (deleted nodes drop out). */
function treeOf(t: unknown, k: number, numFeature: number, file: string | undefined): Tree {
  const path = `learner.gradient_booster.model.trees[${k}]`;
  const param = field(t, 'tree_param', path, file);
  const m = numberOf(field(param, 'num_nodes', `${path}.tree_param`, file), `${path}.tree_param.num_nodes`, file);
  const arr = (key: string): number[] => arrayOf(field(t, key, path, file), `${path}.${key}`, m, file);
  const left = arr('left_children');
  const right = arr('right_children');
  const feat = arr('split_indices');
  const cond = arr('split_conditions');
  const dflt = arr('default_left');
  const bw = arr('base_weights');
  const loss = arr('loss_changes');
  const hess = arr('sum_hessian');
  const splitType = field(t, 'split_type', path, file);
  if (Array.isArray(splitType) && splitType.some((s) => s !== 0)) {
    throw new ModelError('categorical splits are not supported', { file, key: `${path}.split_type` });
  }
  const order = [0];
  for (let i = 0; i < order.length; i++) {
    const nid = order[i]!;
    const l = left[nid]!;
    if (l === -1) continue;
    const r = right[nid]!;
    for (const [c, side] of [
      [l, 'left_children'],
      [r, 'right_children'],
    ] as const) {
      if (!Number.isInteger(c) || c <= 0 || c >= m) throw new ModelError('child index out of range', { file, key: `${path}.${side}[${nid}]`, value: c });
    }
    if (!Number.isInteger(feat[nid]!) || feat[nid]! < 0 || feat[nid]! >= numFeature) {
      throw new ModelError(`split feature out of range (num_feature ${numFeature})`, { file, key: `${path}.split_indices[${nid}]`, value: feat[nid] });
    }
    order.push(l, r);
    if (order.length > m) throw new ModelError('tree is not a tree (a node is reached twice)', { file, key: path });
  }
  const n = order.length;
  const at = new Map<number, number>();
  order.forEach((old, i) => at.set(old, i));
  const tree: Tree = {
    left: new Int32Array(n),
    right: new Int32Array(n),
    parent: new Int32Array(n),
    feature: new Int32Array(n),
    condition: new Float32Array(n),
    defaultLeft: new Uint8Array(n),
    baseWeight: new Float32Array(n),
    lossChange: new Float32Array(n),
    sumHessian: new Float32Array(n),
  };
  tree.parent[0] = NO_PARENT;
  order.forEach((old, i) => {
    const l = left[old]!;
    tree.condition[i] = cond[old]!;
    tree.baseWeight[i] = bw[old]!;
    tree.sumHessian[i] = hess[old]!;
    if (l === -1) {
      tree.left[i] = -1;
      tree.right[i] = -1;
      return;
    }
    const li = at.get(l)!;
    const ri = at.get(right[old]!)!;
    tree.left[i] = li;
    tree.right[i] = ri;
    tree.parent[li] = i;
    tree.parent[ri] = i;
    tree.feature[i] = feat[old]!;
    tree.defaultLeft[i] = dflt[old]! ? 1 : 0;
    tree.lossChange[i] = loss[old]!;
  });
  return tree;
}

/**
 * Parses the text of an XGBoost JSON model.
 * @param file - shown in errors.
 * @throws ModelError naming the JSON path of anything missing, malformed or unsupported
 *   (other boosters than gbtree, several classes or targets, categorical splits, other objectives).
 * @example parseXgboostJson(readFileSync('m.json', 'utf8')).trees.length // number of boosting rounds
 */
export function parseXgboostJson(text: string, file?: string): GbdtModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`not JSON: ${err instanceof Error ? err.message : String(err)}`, { file }, { cause: err });
  }
  const learner = field(doc, 'learner', '$', file);
  const mp = field(learner, 'learner_model_param', 'learner', file);
  const numFeature = numberOf(field(mp, 'num_feature', 'learner.learner_model_param', file), 'learner.learner_model_param.num_feature', file);
  const numClass = numberOf((mp as Json).num_class ?? '0', 'learner.learner_model_param.num_class', file);
  const numTarget = numberOf((mp as Json).num_target ?? '1', 'learner.learner_model_param.num_target', file);
  if (numClass > 1 || numTarget > 1) throw new ModelError('multi-class and multi-target models are not supported', { file, key: 'learner.learner_model_param', value: { numClass, numTarget } });
  const baseScore = numberOf(field(mp, 'base_score', 'learner.learner_model_param', file), 'learner.learner_model_param.base_score', file);
  const objective = objectiveOf(field(learner, 'objective', 'learner', file), file);
  const gb = field(learner, 'gradient_booster', 'learner', file);
  const gbName = field(gb, 'name', 'learner.gradient_booster', file);
  if (gbName !== 'gbtree') throw new ModelError('only the gbtree booster is supported', { file, key: 'learner.gradient_booster.name', value: gbName });
  const model = field(gb, 'model', 'learner.gradient_booster', file);
  const trees = field(model, 'trees', 'learner.gradient_booster.model', file);
  if (!Array.isArray(trees)) throw new ModelError('trees is not an array', { file, key: 'learner.gradient_booster.model.trees' });
  const names = (learner as Json).feature_names;
  const featureNames = Array.isArray(names) ? names.map(String) : [];
  if (featureNames.length !== 0 && featureNames.length !== numFeature) {
    throw new ModelError(`${featureNames.length} feature names for ${numFeature} features`, { file, key: 'learner.feature_names' });
  }
  const out: GbdtModel = {
    objective,
    baseScore,
    numFeature,
    featureNames,
    trees: trees.map((t, k) => treeOf(t, k, numFeature, file)),
  };
  const best = ((learner as Json).attributes as Json | undefined)?.best_iteration;
  if (best !== undefined) out.bestIteration = numberOf(best, 'learner.attributes.best_iteration', file);
  return out;
}

/**
 * Reads an XGBoost JSON model file.
 * @throws ModelError when the file cannot be read or is not a supported model (see {@link parseXgboostJson}).
 * @example loadXgboostModel('m.json').objective // { name: 'binary:logistic' }
 */
export function loadXgboostModel(path: string): GbdtModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelError(`cannot read model file: ${err instanceof Error ? err.message : String(err)}`, { file: path }, { cause: err });
  }
  return parseXgboostJson(text, path);
}

/**
 * A float32 value as the shortest decimal that reads back to the same float32, always with a '.'
 * or an exponent so that XGBoost's JSON reader takes it as a number, not an integer. (XGBoost
 * 1.7 silently falls back to its default when base_score has more digits than a float holds.)
 */
function f32(v: number): string {
  const x = Math.fround(v);
  let s = String(x);
  for (let p = 1; p <= 9; p++) {
    const t = x.toPrecision(p);
    if (Math.fround(Number(t)) === x) {
      s = String(Number(t));
      break;
    }
  }
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

function floats(a: ArrayLike<number>): string {
  return `[${Array.from(a, f32).join(',')}]`;
}

function ints(a: ArrayLike<number>): string {
  return `[${Array.from(a).join(',')}]`;
}

function treeJson(t: Tree, id: number, numFeature: number): string {
  const m = t.left.length;
  const parts = [
    `"base_weights":${floats(t.baseWeight)}`,
    '"categories":[]',
    '"categories_nodes":[]',
    '"categories_segments":[]',
    '"categories_sizes":[]',
    `"default_left":${ints(t.defaultLeft)}`,
    `"id":${id}`,
    `"left_children":${ints(t.left)}`,
    `"loss_changes":${floats(t.lossChange)}`,
    `"parents":${ints(t.parent)}`,
    `"right_children":${ints(t.right)}`,
    `"split_conditions":${floats(t.condition)}`,
    `"split_indices":${ints(t.feature)}`,
    `"split_type":${ints(new Uint8Array(m))}`,
    `"sum_hessian":${floats(t.sumHessian)}`,
    `"tree_param":{"num_deleted":"0","num_feature":"${numFeature}","num_nodes":"${m}","size_leaf_vector":"0"}`,
  ];
  return `{${parts.join(',')}}`;
}

/**
 * The model as XGBoost JSON text (schema of XGBoost 1.7.4, which 1.7 and 2.x load). A
 * `reg:quantileerror` model carries XGBoost 2's `quantile_loss_param` and loads in XGBoost >= 2.0 only.
 * @example JSON.parse(toXgboostJson(model)).learner.objective.name // 'binary:logistic'
 */
export function toXgboostJson(model: GbdtModel): string {
  const o = model.objective;
  const objective =
    o.name === 'reg:quantileerror'
      ? { name: o.name, quantile_loss_param: { quantile_alpha: `[${o.alpha}]` } }
      : { name: o.name, reg_loss_param: { scale_pos_weight: '1' } };
  const attributes: Record<string, string> = {};
  if (model.bestIteration !== undefined) {
    attributes.best_iteration = String(model.bestIteration);
    attributes.best_ntree_limit = String(model.bestIteration + 1);
  }
  const n = model.trees.length;
  const head = {
    attributes,
    feature_names: model.featureNames,
    feature_types: model.featureNames.map(() => 'float'),
  };
  const gbtree = `{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"${n}","size_leaf_vector":"0"},"tree_info":${ints(new Uint8Array(n))},"trees":[${model.trees
    .map((t, i) => treeJson(t, i, model.numFeature))
    .join(',')}]},"name":"gbtree"}`;
  const mp = {
    base_score: f32(model.baseScore),
    // "0": base_score is final. With "1", XGBoost 1.7 replaces a logistic base_score by 0.5 on load.
    boost_from_average: '0',
    num_class: '0',
    num_feature: String(model.numFeature),
    num_target: '1',
  };
  const learner = `{${JSON.stringify(head).slice(1, -1)},"gradient_booster":${gbtree},"learner_model_param":${JSON.stringify(mp)},"objective":${JSON.stringify(objective)}}`;
  return `{"learner":${learner},"version":[1,7,4]}`;
}

/**
 * Writes the model as an XGBoost JSON file (see {@link toXgboostJson}).
 * @throws ModelError when the file cannot be written.
 * @example saveXgboostModel(model, 'model.json') // then in Python: xgb.Booster(model_file='model.json')
 */
export function saveXgboostModel(model: GbdtModel, path: string): void {
  try {
    writeFileSync(path, toXgboostJson(model));
  } catch (err) {
    throw new ModelError(`cannot write model file: ${err instanceof Error ? err.message : String(err)}`, { file: path }, { cause: err });
  }
}
