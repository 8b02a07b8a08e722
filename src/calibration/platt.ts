/**
 * Platt scaling: a two-parameter logistic map from scores to probabilities,
 * fitted by Newton's method with backtracking (Lin, Lin and Weng 2007).
 */
import { DataError } from '../core/errors';
import { checkFinite, checkInteger, checkOutcomes, checkSameLength, toFloat64, type Numbers } from './validate';

/** A fitted Platt map `p = 1 / (1 + exp(a * s + b))`. */
export interface PlattModel {
  kind: 'platt';
  /** Slope A (negative when higher scores mean more likely). */
  a: number;
  /** Intercept B. */
  b: number;
  /** Newton iterations used. */
  iterations: number;
  /** False when the iteration limit was reached or the line search could not improve. */
  converged: boolean;
  /** Mean smoothed-target cross-entropy at (a, b), in nats. */
  loss: number;
}

/** Options of {@link fitPlatt}. */
export interface PlattOptions {
  /** Newton iteration limit; default 100. */
  maxIterations?: number;
  /** Stop when both gradient components of the mean loss are below this; default 1e-9. */
  tolerance?: number;
}

// Ridge on the Hessian's diagonal (Lin, Lin and Weng 2007) keeps it invertible
// when all scores are (almost) equal.
const HESSIAN_RIDGE = 1e-12;
const MIN_STEP = 1e-10;
const ARMIJO = 1e-4;

/**
 * Fits Platt scaling `P(y = 1 | s) = 1 / (1 + exp(A s + B))` to scores and outcomes.
 *
 * Targets are Platt's smoothed labels, `T+ = (N+ + 1) / (N+ + 2)` for outcomes
 * 1 and `T- = 1 / (N- + 2)` for outcomes 0, which keep A and B finite even
 * for separable data. The cross-entropy against them is minimised by Newton's
 * method with a backtracking (Armijo) line search from `A = 0`,
 * `B = ln((N- + 1) / (N+ + 1))`, written as Lin, Lin and Weng (2007) advise:
 * `log(1 + exp(f))` evaluated without overflow on either sign of f, and a small
 * ridge on the Hessian. Scores are standardised before fitting and A, B mapped
 * back, so scores in the thousands or of 1e-6 spread behave the same.
 *
 * @param scores - classifier scores (or logit probabilities); finite.
 * @param y - outcomes, 0 or 1.
 * @param options - maxIterations (100), tolerance (1e-9 on the mean-loss gradient).
 * @throws DataError for non-finite scores, outcomes other than 0/1, different lengths or no points.
 * @example
 * const m = fitPlatt([-2, -1, 1, 2, -0.5, 0.5], [0, 0, 1, 1, 1, 0]);
 * m.a < 0; // true: higher scores, higher probability
 * predictPlatt(m, [0]); // Float64Array [0.5] (symmetric data)
 */
export function fitPlatt(scores: Numbers, y: Numbers, options: PlattOptions = {}): PlattModel {
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-9;
  checkInteger(maxIterations, 'maxIterations', 1);
  checkSameLength(scores, y, 'scores', 'outcome');
  if (scores.length === 0) throw new DataError('Platt fit needs at least one point');
  checkFinite(scores, 'scores');
  checkOutcomes(y);
  const s = toFloat64(scores);
  const yf = toFloat64(y);
  const n = s.length;

  let nPos = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    nPos += yf[i];
    mean += s[i];
  }
  mean /= n;
  // Deviations divided by the largest one first, so that squaring cannot overflow.
  let maxDev = 0;
  for (let i = 0; i < n; i++) maxDev = Math.max(maxDev, Math.abs(s[i] - mean));
  let variance = 0;
  if (maxDev > 0) for (let i = 0; i < n; i++) variance += ((s[i] - mean) / maxDev) ** 2;
  const sd = maxDev * Math.sqrt(variance / n);
  const nNeg = n - nPos;
  const tPos = (nPos + 1) / (nPos + 2);
  const tNeg = 1 / (nNeg + 2);

  // Standardised scores z = (s - mean) / scale; a constant score keeps scale 1.
  const scale = sd > 0 ? sd : 1;
  const z = new Float64Array(n);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    z[i] = (s[i] - mean) / scale;
    t[i] = yf[i] === 1 ? tPos : tNeg;
  }

  let a = 0;
  let b = Math.log((nNeg + 1) / (nPos + 1));
  let f = lossSum(z, t, a, b);
  let iterations = 0;
  let converged = false;
  const gradTol = tolerance * n;
  for (; iterations < maxIterations; iterations++) {
    let h11 = HESSIAN_RIDGE;
    let h22 = HESSIAN_RIDGE;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const zi = z[i];
      const fApB = a * zi + b;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        const e = Math.exp(-fApB);
        p = e / (1 + e);
        q = 1 / (1 + e);
      } else {
        const e = Math.exp(fApB);
        p = 1 / (1 + e);
        q = e / (1 + e);
      }
      const d2 = p * q;
      h11 += zi * zi * d2;
      h22 += d2;
      h21 += zi * d2;
      const d1 = t[i] - p;
      g1 += zi * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < gradTol && Math.abs(g2) < gradTol) {
      converged = true;
      break;
    }
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    let accepted = false;
    while (step >= MIN_STEP) {
      const newA = a + step * dA;
      const newB = b + step * dB;
      const newF = lossSum(z, t, newA, newB);
      if (newF < f + ARMIJO * step * gd) {
        a = newA;
        b = newB;
        f = newF;
        accepted = true;
        break;
      }
      step /= 2;
    }
    if (!accepted) {
      // No decrease possible in floating point: at the optimum when the gradient is tiny.
      converged = Math.abs(g1) < 1e3 * gradTol && Math.abs(g2) < 1e3 * gradTol;
      iterations++;
      break;
    }
  }
  // Back to raw scores: a z + b = (a / scale) s + (b - a mean / scale).
  return { kind: 'platt', a: a / scale, b: b - (a * mean) / scale, iterations, converged, loss: f / n };
}

/** Sum over points of the cross-entropy against targets t at f = a z + b, overflow-free. */
function lossSum(z: Float64Array, t: Float64Array, a: number, b: number): number {
  let f = 0;
  for (let i = 0; i < z.length; i++) {
    const fApB = a * z[i] + b;
    if (fApB >= 0) f += t[i] * fApB + Math.log1p(Math.exp(-fApB));
    else f += (t[i] - 1) * fApB + Math.log1p(Math.exp(fApB));
  }
  return f;
}

/**
 * Probabilities from a fitted Platt map: `p = 1 / (1 + exp(a s + b))`,
 * evaluated without overflow for any finite score.
 * @throws DataError for a NaN score.
 * @example
 * predictPlatt({ kind: 'platt', a: -1, b: 0, iterations: 0, converged: true, loss: 0 }, [0, 1000]); // Float64Array [0.5, 1]
 */
export function predictPlatt(model: PlattModel, scores: Numbers): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) throw new DataError('cannot apply Platt scaling to NaN', { column: 'scores', row: i, value: s });
    const f = model.a * s + model.b;
    if (f >= 0) {
      const e = Math.exp(-f);
      out[i] = e / (1 + e);
    } else {
      out[i] = 1 / (1 + Math.exp(f));
    }
  }
  return out;
}
