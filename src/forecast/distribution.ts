/**
 * Converting between the two output shapes of the Forecast contract: quantiles
 * from samples (empirical, type 7) and samples from quantiles (inverse of the
 * piecewise-linear quantile function).
 */
import { quantileSorted } from '../stats/order';
import { tensor3, type Tensor3 } from './types';

/**
 * Empirical quantiles of samples [B, N, H] at `levels`, per window and step: [B, Q, H].
 * @example quantilesFromSamples({ data: new Float64Array([1, 2, 3]), dims: [1, 3, 1] }, [0.5]).data // [2]
 */
export function quantilesFromSamples(samples: Tensor3, levels: readonly number[]): Tensor3 {
  const [b, n, h] = samples.dims;
  const out = tensor3(b, levels.length, h);
  const column = new Float64Array(n);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < h; k++) {
      for (let j = 0; j < n; j++) column[j] = samples.data[(i * n + j) * h + k];
      column.sort();
      for (let q = 0; q < levels.length; q++) out.data[(i * levels.length + q) * h + k] = quantileSorted(column, levels[q]);
    }
  }
  return out;
}

/**
 * Value of the piecewise-linear quantile function through (levels[i], values[i]) at u,
 * extended linearly beyond the outer levels with the slope of the outer segment.
 * @example quantileFunction([0.1, 0.9], [0, 8], 0.5) // 4
 */
export function quantileFunction(levels: readonly number[], values: ArrayLike<number>, u: number): number {
  const q = levels.length;
  if (q === 1) return values[0];
  let i = 0;
  while (i < q - 2 && u > levels[i + 1]) i++;
  const slope = (values[i + 1] - values[i]) / (levels[i + 1] - levels[i]);
  return values[i] + (u - levels[i]) * slope;
}

/**
 * Samples [B, N, H] from quantiles [B, Q, H]: path j takes the level u_j = (j + 0.5) / N
 * at every step (stratified and comonotone: each path is one quantile curve, so per-step
 * marginals are right but paths carry no step-to-step noise; `meta.samplesFrom = 'quantiles'`).
 * @example samplesFromQuantiles([0.1, 0.9], { data: new Float64Array([0, 8]), dims: [1, 2, 1] }, 2).data // [1.5, 6.5]
 */
export function samplesFromQuantiles(levels: readonly number[], quantiles: Tensor3, n: number): Tensor3 {
  const [b, nq, h] = quantiles.dims;
  const out = tensor3(b, n, h);
  const column = new Float64Array(nq);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < h; k++) {
      for (let q = 0; q < nq; q++) column[q] = quantiles.data[(i * nq + q) * h + k];
      for (let j = 0; j < n; j++) out.data[(i * n + j) * h + k] = quantileFunction(levels, column, (j + 0.5) / n);
    }
  }
  return out;
}
