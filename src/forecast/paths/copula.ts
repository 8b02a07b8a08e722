/**
 * Price paths from per-step quantiles (a quantile model's output): each step's
 * price is read from that step's own quantile function, so every step's marginal
 * is exactly the model's; how the steps of one path depend on each other is a
 * separate, stated choice (the copula).
 *
 * - `brownian` (default): draw a Brownian path W (W_h = Z_1 + ... + Z_h), set
 *   z_h = W_h / sqrt(h) (standard normal for every h) and take price_h = Q_h(Φ(z_h)).
 *   Steps h and k > h have rank correlation from corr(z_h, z_k) = sqrt(h / k), as the
 *   levels of a random walk do: paths wander like prices.
 * - `comonotone`: path j keeps the level (j + 0.5) / N at every step (the engine's
 *   `samplesFromQuantiles`): stratified, no step-to-step noise, so paths never cross
 *   and barrier probabilities equal end-of-step probabilities (too low).
 * - `independent`: a fresh level at every step: right marginals, jagged paths, barrier
 *   probabilities far too high. For comparison only.
 */
import { ConfigError } from '../../core/errors';
import { Rng } from '../../core/random';
import { tensor3, type Tensor3 } from '../types';
import { normalQuantile } from '../../stats/normal';
import { DEFAULT_QUANTILE_CURVE, QuantileCurve, rearrangeQuantiles, type QuantileCurveOptions } from './quantileCurve';

/** How the steps of one path are joined. */
export type QuantilePathDependence = 'brownian' | 'comonotone' | 'independent';

/** Options of {@link pathsFromQuantiles}. */
export interface QuantilePathOptions extends QuantileCurveOptions {
  /** Default `brownian`. */
  dependence?: QuantilePathDependence;
}

/** Paths drawn from quantiles, with what was done to get them. */
export interface QuantilePaths {
  /** Closes [B, N, H]. */
  samples: Tensor3;
  /** Steps (window, step pairs) whose quantiles crossed and were sorted before use. */
  rearrangedSteps: number;
  /** One line saying how the paths were drawn (for meta and summaries). */
  method: string;
}

/**
 * Draws N paths per window from quantiles [B, Q, H] (see the module comment for the copulas).
 * Window b uses the stream `rng.fork('window b')`, so a window's paths do not depend on the
 * other windows of the call.
 *
 * @param seed - seed or generator of the Brownian / independent draws (unused by `comonotone`).
 * @throws ConfigError when n is not a positive integer. ModelError for unusable quantiles
 *   (non-finite, non-positive with `normalScore`, bad levels).
 * @example
 * const { samples } = pathsFromQuantiles({ levels: [0.1, 0.5, 0.9], values }, 100, 7);
 * samples.dims // [B, 100, H]
 */
export function pathsFromQuantiles(
  quantiles: { levels: readonly number[]; values: Tensor3 },
  n: number,
  seed: number | Rng,
  opts: QuantilePathOptions = {},
): QuantilePaths {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError('paths from quantiles: samples must be a positive integer', { key: 'samples', value: n });
  const dependence = opts.dependence ?? 'brownian';
  const curveOpts: QuantileCurveOptions = { interpolation: opts.interpolation ?? DEFAULT_QUANTILE_CURVE.interpolation,
    tails: opts.tails ?? DEFAULT_QUANTILE_CURVE.tails };
  const [b, nq, H] = quantiles.values.dims;
  const samples = tensor3(b, n, H);
  const base = typeof seed === 'number' ? new Rng(seed) : seed;
  const column = new Float64Array(nq);
  const sqrtH = Float64Array.from({ length: H }, (_, h) => Math.sqrt(h + 1));
  let rearrangedSteps = 0;
  for (let i = 0; i < b; i++) {
    const curves: QuantileCurve[] = [];
    for (let h = 0; h < H; h++) {
      for (let k = 0; k < nq; k++) column[k] = quantiles.values.data[(i * nq + k) * H + h];
      if (rearrangeQuantiles(column)) rearrangedSteps++;
      curves.push(new QuantileCurve(quantiles.levels, column, curveOpts));
    }
    const rng = base.fork(`window ${i}`);
    for (let j = 0; j < n; j++) {
      const row = (i * n + j) * H;
      if (dependence === 'comonotone') {
        const z = normalQuantile((j + 0.5) / n);
        for (let h = 0; h < H; h++) samples.data[row + h] = curves[h].quantileAtScore(z);
      } else if (dependence === 'independent') {
        for (let h = 0; h < H; h++) samples.data[row + h] = curves[h].quantileAtScore(rng.normal());
      } else {
        let w = 0;
        for (let h = 0; h < H; h++) {
          w += rng.normal();
          samples.data[row + h] = curves[h].quantileAtScore(w / sqrtH[h]);
        }
      }
    }
  }
  return { samples, rearrangedSteps, method: describeQuantilePaths(quantiles.levels, { ...curveOpts, dependence }) };
}

/**
 * The sentence that says how quantile paths were drawn.
 * @example describeQuantilePaths([0.1, 0.5, 0.9], {}) // 'each step's price from that step's quantile function ...'
 */
export function describeQuantilePaths(levels: readonly number[], opts: QuantilePathOptions): string {
  const interp = (opts.interpolation ?? DEFAULT_QUANTILE_CURVE.interpolation) === 'normalScore' ? 'linear in normal score and log price' : 'linear in level and price';
  const tails = opts.tails ?? DEFAULT_QUANTILE_CURVE.tails;
  const joint = {
    brownian: 'steps joined by a Brownian copula (u_h = Phi(W_h / sqrt(h)))',
    comonotone: 'one level per path at every step (comonotone, stratified)',
    independent: 'an independent level at every step (jagged paths: barrier probabilities overstated)',
  }[opts.dependence ?? 'brownian'];
  const range = levels.length > 0 ? `${levels.length} levels ${levels[0]}..${levels[levels.length - 1]}` : 'no levels';
  return `each step's price from that step's quantile function (${range}, ${interp}, ${tails} tails); ${joint}`;
}
