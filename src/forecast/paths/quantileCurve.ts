/**
 * A forecast's quantiles at a few levels (0.1..0.9) as a whole distribution: a
 * quantile function through the knots, with a stated rule between them and a
 * stated rule beyond the outer ones (tails), and its inverse, the CDF.
 *
 * Between knots (`interpolation`):
 * - `normalScore` (default): linear in (z, log price), z = Φ⁻¹(level). Exact for a
 *   log-normal forecast; smooth densities rather than the flat, stepped density
 *   that linear-in-level interpolation gives.
 * - `level`: linear in (level, price): the convention of `quantileFunction` and of
 *   the backtest's P(up) from quantiles.
 *
 * Beyond the outer knots u₀ (lowest level) and u₁ (highest) (`tails`), with d the
 * slope dy/du of the outer segment (y = log price or price as above):
 * - `exponential` (default): y = y₀ + d u₀ ln(u / u₀) below, y = y₁ - d (1 - u₁) ln((1 - u) / (1 - u₁))
 *   above: a Laplace-type tail whose density joins the outer segment's without a jump.
 *   Heavier than normal (the 0.1% quantile sits 2.6 outer-segment z-widths out, against
 *   1.8 for `normal`): the conservative choice for drawdown percentiles and stops.
 * - `normal`: the outer segment continued as a normal tail, y = y₀ + d φ(z₀) (z - z₀).
 * - `clamp`: no extrapolation: the quantile function stays at the outer knot and the
 *   CDF at the outer level, so P(up) never leaves [1 - u₁, 1 - u₀]. Not a proper
 *   distribution beyond the knots; kept for the backtest's historical convention.
 */
import { ModelError } from '../../core/errors';
import { normalCdf, normalPdf, normalQuantile } from '../../stats/normal';

/** How values are interpolated between quantile knots. */
export type QuantileInterpolation = 'normalScore' | 'level';
/** How the quantile function continues beyond the outer knots. */
export type QuantileTails = 'exponential' | 'normal' | 'clamp';

/** Interpolation and tail rule of a quantile curve. */
export interface QuantileCurveOptions {
  /** Default `normalScore`. */
  interpolation?: QuantileInterpolation;
  /** Default `exponential`. */
  tails?: QuantileTails;
}

/** The rule the forecast command uses for quantile models. */
export const DEFAULT_QUANTILE_CURVE: Required<QuantileCurveOptions> = { interpolation: 'normalScore', tails: 'exponential' };

/**
 * One step's quantile function, compiled for repeated evaluation (kernel: plain numbers,
 * typed arrays). Values must be non-decreasing (see {@link rearrangeQuantiles}).
 */
export class QuantileCurve {
  private readonly u: Float64Array;
  private readonly z: Float64Array;
  private readonly y: Float64Array;
  /** Knot positions on the interpolation axis: z (normalScore) or u (level). */
  private readonly x: Float64Array;
  private readonly logSpace: boolean;
  private readonly tails: QuantileTails;
  /** dy/du of the outer segments at u₀ and u₁. */
  private readonly slopeLo: number;
  private readonly slopeHi: number;

  /**
   * @param levels - strictly increasing, inside (0, 1).
   * @param values - prices at those levels (positive for `normalScore`), non-decreasing.
   * @throws ModelError for bad levels, non-finite or decreasing values, or non-positive
   *   prices with `normalScore`.
   */
  constructor(levels: ArrayLike<number>, values: ArrayLike<number>, opts: QuantileCurveOptions = {}) {
    const q = levels.length;
    if (q < 1 || values.length !== q) throw new ModelError(`a quantile curve needs one value per level (${q} levels, ${values.length} values)`, { key: 'quantiles' });
    this.logSpace = (opts.interpolation ?? DEFAULT_QUANTILE_CURVE.interpolation) === 'normalScore';
    this.tails = opts.tails ?? DEFAULT_QUANTILE_CURVE.tails;
    this.u = Float64Array.from(levels);
    this.z = this.u.map(normalQuantile);
    this.y = new Float64Array(q);
    for (let k = 0; k < q; k++) {
      const u = this.u[k];
      if (!(u > 0 && u < 1) || (k > 0 && !(u > this.u[k - 1]))) {
        throw new ModelError('quantile levels must be strictly increasing inside (0, 1)', { key: 'quantileLevels', value: Array.from(levels) });
      }
      const v = values[k];
      if (!Number.isFinite(v) || (this.logSpace && !(v > 0))) {
        throw new ModelError(`quantile value ${v} at level ${u} is not ${this.logSpace ? 'a positive price' : 'finite'}`, { key: 'quantiles', value: v });
      }
      this.y[k] = this.logSpace ? Math.log(v) : v;
      if (k > 0 && this.y[k] < this.y[k - 1]) {
        throw new ModelError(`quantiles cross: value ${v} at level ${u} is below ${values[k - 1]} at level ${this.u[k - 1]} (rearrange them first)`, { key: 'quantiles', value: v });
      }
    }
    this.x = this.logSpace ? this.z : this.u;
    if (q === 1) {
      this.slopeLo = 0;
      this.slopeHi = 0;
    } else {
      // dy/du = (dy/dx) (dx/du); dx/du is 1 on the level axis, 1 / φ(z) on the normal-score axis.
      const dxduLo = this.logSpace ? 1 / normalPdf(this.z[0]) : 1;
      const dxduHi = this.logSpace ? 1 / normalPdf(this.z[q - 1]) : 1;
      this.slopeLo = ((this.y[1] - this.y[0]) / (this.x[1] - this.x[0])) * dxduLo;
      this.slopeHi = ((this.y[q - 1] - this.y[q - 2]) / (this.x[q - 1] - this.x[q - 2])) * dxduHi;
    }
  }

  /**
   * The price at probability level u (0 < u < 1).
   * @example new QuantileCurve([0.1, 0.5, 0.9], [98, 100, 102], { interpolation: 'level', tails: 'clamp' }).quantile(0.3) // 99
   */
  quantile(u: number): number {
    const q = this.u.length;
    if (u < this.u[0]) return this.out(this.lowerTail(u, this.tails === 'normal' ? normalQuantile(u) : NaN));
    if (u > this.u[q - 1]) return this.out(this.upperTail(1 - u, this.tails === 'normal' ? normalQuantile(u) : NaN));
    return this.out(this.interior(this.logSpace ? normalQuantile(u) : u));
  }

  /**
   * The price at the level whose normal score is z, i.e. `quantile(Φ(z))` without the
   * round trip through u (the copula's path: z = W_h / sqrt(h)).
   * @example new QuantileCurve([0.1, 0.5, 0.9], [98, 100, 102]).quantileAtScore(0) // 100
   */
  quantileAtScore(z: number): number {
    const q = this.u.length;
    // The tail probability straight from z (Φ(-z) for the upper side) keeps its precision.
    if (z < this.z[0]) return this.out(this.lowerTail(normalCdf(z), z));
    if (z > this.z[q - 1]) return this.out(this.upperTail(normalCdf(-z), z));
    return this.out(this.interior(this.logSpace ? z : normalCdf(z)));
  }

  /**
   * P(X <= price) = sup{u : Q(u) <= price} (right-continuous, so a price on a flat stretch
   * counts the whole stretch as "not above"). With `clamp` tails it is held at the outer levels.
   * @example new QuantileCurve([0.1, 0.5, 0.9], [98, 100.5, 103], { interpolation: 'level', tails: 'clamp' }).cdf(100) // 0.42
   */
  cdf(price: number): number {
    const q = this.u.length;
    if (this.logSpace && !(price > 0)) return 0;
    const y = this.logSpace ? Math.log(price) : price;
    const y0 = this.y[0];
    const y1 = this.y[q - 1];
    if (y < y0) {
      if (this.tails === 'clamp') return this.u[0];
      if (!(this.slopeLo > 0)) return 0;
      if (this.tails === 'normal') return normalCdf(this.z[0] + (y - y0) / (this.slopeLo * normalPdf(this.z[0])));
      return this.u[0] * Math.exp((y - y0) / (this.slopeLo * this.u[0]));
    }
    if (y >= y1) {
      if (this.tails === 'clamp') return this.u[q - 1];
      if (!(this.slopeHi > 0)) return 1;
      const v1 = 1 - this.u[q - 1];
      if (this.tails === 'normal') return 1 - normalCdf(-(this.z[q - 1] + (y - y1) / (this.slopeHi * normalPdf(this.z[q - 1]))));
      return 1 - v1 * Math.exp(-(y - y1) / (this.slopeHi * v1));
    }
    // Largest k with y_k <= y (then y < y_{k+1}, since y < y1).
    let k = 0;
    while (k < q - 2 && this.y[k + 1] <= y) k++;
    const x = this.x[k] + ((y - this.y[k]) / (this.y[k + 1] - this.y[k])) * (this.x[k + 1] - this.x[k]);
    return this.logSpace ? normalCdf(x) : x;
  }

  private interior(x: number): number {
    const q = this.u.length;
    if (q === 1) return this.y[0];
    let i = 0;
    while (i < q - 2 && x > this.x[i + 1]) i++;
    const dx = this.x[i + 1] - this.x[i];
    return this.y[i] + ((x - this.x[i]) / dx) * (this.y[i + 1] - this.y[i]);
  }

  /** y below the lowest knot; `tailProb` = u, `z` = Φ⁻¹(u) (needed by `normal` only). */
  private lowerTail(tailProb: number, z: number): number {
    const u0 = this.u[0];
    if (this.tails === 'clamp' || this.slopeLo === 0) return this.y[0];
    if (this.tails === 'normal') return this.y[0] + this.slopeLo * normalPdf(this.z[0]) * (z - this.z[0]);
    return this.y[0] + this.slopeLo * u0 * Math.log(tailProb / u0);
  }

  /** y above the highest knot; `tailProb` = 1 - u. */
  private upperTail(tailProb: number, z: number): number {
    const q = this.u.length;
    const v1 = 1 - this.u[q - 1];
    if (this.tails === 'clamp' || this.slopeHi === 0) return this.y[q - 1];
    if (this.tails === 'normal') return this.y[q - 1] + this.slopeHi * normalPdf(this.z[q - 1]) * (z - this.z[q - 1]);
    return this.y[q - 1] - this.slopeHi * v1 * Math.log(tailProb / v1);
  }

  private out(y: number): number {
    return this.logSpace ? Math.exp(y) : y;
  }
}

/**
 * P(X > price) from quantiles at one step: `1 - F(price)` of the {@link QuantileCurve}.
 * @throws ModelError as the curve's constructor.
 * @example probAboveFromQuantiles([0.1, 0.5, 0.9], [98, 100.5, 103], 100, { interpolation: 'level', tails: 'clamp' }) // 0.58
 */
export function probAboveFromQuantiles(levels: ArrayLike<number>, values: ArrayLike<number>, price: number, opts: QuantileCurveOptions = {}): number {
  return 1 - new QuantileCurve(levels, values, opts).cdf(price);
}

/**
 * Sorts crossing quantile values in place (monotone rearrangement, Chernozhukov,
 * Fernández-Val and Galichon 2010: sorting never increases the quantile loss) and says
 * whether anything moved, so callers can count and report it.
 * @example rearrangeQuantiles(Float64Array.of(1, 3, 2)) // true, values now [1, 2, 3]
 */
export function rearrangeQuantiles(values: Float64Array): boolean {
  for (let k = 1; k < values.length; k++) {
    if (values[k] < values[k - 1]) {
      values.sort();
      return true;
    }
  }
  return false;
}
