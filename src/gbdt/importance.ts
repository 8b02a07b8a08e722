/**
 * Feature importance from the split statistics stored in the trees, with XGBoost's
 * definitions (`Booster.get_score`), so that loaded XGBoost models and models trained here
 * are read the same way.
 */
import { ConfigError } from '../core/errors';
import type { GbdtModel } from './model';

/** `weight`: number of splits; `gain`/`cover`: mean loss change / hessian cover per split; `total_*`: their sums. */
export const IMPORTANCE_TYPES = ['weight', 'gain', 'cover', 'total_gain', 'total_cover'] as const;
export type ImportanceType = (typeof IMPORTANCE_TYPES)[number];

/**
 * Importance of each feature used in at least one split, keyed by feature name (or `f<index>`
 * when the model has no names), in feature order.
 *
 * gain of f = (sum of `loss_changes` of splits on f) / (number of splits on f); cover likewise
 * with `sum_hessian`; the `total_` variants skip the division.
 * @throws ConfigError for an unknown type.
 * @example featureImportance(model, 'gain') // { f0: 12.5, f3: 1.25 }
 */
export function featureImportance(model: GbdtModel, type: ImportanceType = 'gain'): Record<string, number> {
  if (!IMPORTANCE_TYPES.includes(type)) throw new ConfigError(`unknown importance type (one of ${IMPORTANCE_TYPES.join(', ')})`, { key: 'type', value: type });
  const F = model.numFeature;
  const count = new Float64Array(F);
  const gain = new Float64Array(F);
  const cover = new Float64Array(F);
  for (const t of model.trees) {
    for (let i = 0; i < t.left.length; i++) {
      if (t.left[i] === -1) continue;
      const f = t.feature[i]!;
      count[f]! += 1;
      gain[f]! += t.lossChange[i]!;
      cover[f]! += t.sumHessian[i]!;
    }
  }
  const out: Record<string, number> = {};
  for (let f = 0; f < F; f++) {
    if (count[f] === 0) continue;
    const name = model.featureNames[f] ?? `f${f}`;
    const c = count[f]!;
    out[name] =
      type === 'weight' ? c : type === 'gain' ? gain[f]! / c : type === 'cover' ? cover[f]! / c : type === 'total_gain' ? gain[f]! : cover[f]!;
  }
  return out;
}
