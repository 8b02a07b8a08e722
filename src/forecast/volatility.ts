/**
 * Volatility-model kernels on typed arrays: the EWMA (RiskMetrics) variance recursion and
 * GARCH(1,1) / GJR-GARCH(1,1) with standardized Student-t innovations, fitted by maximum
 * likelihood (Nelder-Mead on the exact log-likelihood), with h-step variance forecasts.
 *
 * Model of a window's one-bar log returns r_1..r_n (zero mean; missing bars skipped):
 *   r_t = sigma_t z_t,  z_t iid standardized t(nu) (unit variance), nu > 2
 *   sigma_1^2 = b = mean(r_t^2) (the backcast)
 *   sigma_t^2 = omega + (alpha + gamma 1{r_{t-1} < 0}) r_{t-1}^2 + beta sigma_{t-1}^2
 * with omega > 0, alpha >= 0, alpha + gamma >= 0, beta >= 0, alpha + gamma/2 + beta < 1
 * (gamma = 0 unless asymmetric: Glosten, Jagannathan and Runkle 1993; Bollerslev 1986, 1987).
 * Log-likelihood: sum_t [ log G((nu+1)/2) - log G(nu/2) - log(pi (nu-2)) / 2 - log(sigma_t^2) / 2
 *   - (nu+1)/2 log(1 + r_t^2 / ((nu-2) sigma_t^2)) ].
 * EWMA: sigma_1^2 = b, sigma_{t+1}^2 = lambda sigma_t^2 + (1 - lambda) r_t^2 (RiskMetrics 1996, lambda 0.94).
 *
 * `scripts/crosscheck-garch.py` maximises the same likelihood with scipy (fixture in
 * tests/forecast/fixtures/garch-scipy.json).
 */
import { logGamma } from '../stats/studentT';
import { nelderMead } from './nelderMead';

/** GARCH(1,1)-t parameters in the units of the returns (omega in squared log return per bar). */
export interface GarchParams {
  omega: number;
  alpha: number;
  /** Leverage term of GJR-GARCH; 0 for the symmetric model. */
  gamma: number;
  beta: number;
  /** Degrees of freedom of the standardized t innovations (> 2). */
  nu: number;
}

/** A fitted GARCH model. */
export interface GarchFit {
  params: GarchParams;
  /** Log-likelihood at `params`, returns in log units (not rescaled). */
  logLik: number;
  /** True when the optimiser met its tolerances with finite likelihood and a stationary fit. */
  converged: boolean;
  /** Why the fit is not usable, when `converged` is false. */
  reason: string | null;
  /** Likelihood evaluations spent. */
  evaluations: number;
  /** Returns used (n). */
  n: number;
  /** The backcast b = mean(r^2), sigma_1^2. */
  backcast: number;
  /** sigma_{n+1}^2: the one-step-ahead conditional variance after the last return. */
  nextVariance: number;
}

/** Options of {@link fitGarch}. */
export interface GarchFitOptions {
  /** Fit the GJR leverage term gamma. Default false. */
  asymmetric?: boolean;
  /** Fewest returns to fit on; fewer give `converged: false`. Default 50. */
  minReturns?: number;
  /** Likelihood evaluations per Nelder-Mead run (two runs: a start and a restart). Default 1500. */
  maxEvaluations?: number;
}

/** Upper bound of nu: beyond it the t is a normal for every practical purpose. */
export const GARCH_NU_MAX = 200;

/**
 * Mean of squared returns, the backcast sigma_1^2 of both recursions.
 * @example backcastVariance(new Float64Array([0.01, -0.01])) // 1e-4
 */
export function backcastVariance(returns: Float64Array): number {
  let s = 0;
  for (let i = 0; i < returns.length; i++) s += returns[i] * returns[i];
  return returns.length > 0 ? s / returns.length : 0;
}

/**
 * EWMA variance after the last return: sigma_{n+1}^2 with sigma_1^2 = mean(r^2) and
 * sigma_{t+1}^2 = lambda sigma_t^2 + (1 - lambda) r_t^2.
 * @param lambda - decay in (0, 1); RiskMetrics uses 0.94.
 * @example ewmaNextVariance(new Float64Array([0.01, -0.01]), 0.94) // 1e-4
 */
export function ewmaNextVariance(returns: Float64Array, lambda = 0.94): number {
  let s2 = backcastVariance(returns);
  for (let i = 0; i < returns.length; i++) s2 = lambda * s2 + (1 - lambda) * returns[i] * returns[i];
  return s2;
}

/**
 * GARCH-t log-likelihood of `returns` at `p` (formula in the module doc), or -Infinity
 * outside the parameter space.
 * @param backcast - sigma_1^2 (default mean(r^2)).
 * @example garchLogLikelihood(r, { omega: 1e-6, alpha: 0.05, gamma: 0, beta: 0.9, nu: 6 })
 */
export function garchLogLikelihood(returns: Float64Array, p: GarchParams, backcast = backcastVariance(returns)): number {
  if (!inDomain(p)) return -Infinity;
  return llKernel(returns, p.omega, p.alpha, p.gamma, p.beta, p.nu, backcast);
}

function inDomain(p: GarchParams): boolean {
  return p.omega > 0 && p.alpha >= 0 && p.alpha + p.gamma >= 0 && p.beta >= 0 && p.alpha + p.gamma / 2 + p.beta < 1 && p.nu > 2 && p.nu <= GARCH_NU_MAX;
}

/**
 * The likelihood loop: logs are taken of products of 8 factors to spend fewer Math.log calls.
 * The recursion carries the previous return in a register and has no branch on t: the symmetric
 * model (gamma 0) has no select at all, and GJR selects alpha or alpha + gamma from the sign
 * of the previous return. Same operations in the same order as the plain recursion, so the
 * same bits (a branch per step on t > 0 and on the return's sign made it 2.5x slower).
 */
function llKernel(r: Float64Array, omega: number, alpha: number, gamma: number, beta: number, nu: number, backcast: number): number {
  const k = nu - 2;
  const c = (nu + 1) / 2;
  const n = r.length;
  const constant = n * (logGamma(c) - logGamma(nu / 2) - 0.5 * Math.log(Math.PI * k));
  // log(1 + r^2 / (k s2)) = log(k s2 + r^2) - log(k s2), so the sum is
  // (c - 1/2) sum log s2 + n c log k - c sum log(k s2 + r^2) ... collected per block.
  let sumLogS2 = 0;
  let sumLogA = 0;
  let prodS2 = 1;
  let prodA = 1;
  let s2 = backcast;
  if (n > 0) {
    const x0 = r[0];
    prodS2 = s2;
    prodA = k * s2 + x0 * x0;
    let prev = x0;
    if (gamma === 0) {
      for (let t = 1; t < n; t++) {
        s2 = omega + alpha * prev * prev + beta * s2;
        const x = r[t];
        prodS2 *= s2;
        prodA *= k * s2 + x * x;
        prev = x;
        if ((t & 7) === 7) {
          sumLogS2 += Math.log(prodS2);
          sumLogA += Math.log(prodA);
          prodS2 = 1;
          prodA = 1;
        }
      }
    } else {
      const down = alpha + gamma;
      for (let t = 1; t < n; t++) {
        s2 = omega + (prev < 0 ? down : alpha) * prev * prev + beta * s2;
        const x = r[t];
        prodS2 *= s2;
        prodA *= k * s2 + x * x;
        prev = x;
        if ((t & 7) === 7) {
          sumLogS2 += Math.log(prodS2);
          sumLogA += Math.log(prodA);
          prodS2 = 1;
          prodA = 1;
        }
      }
    }
  }
  sumLogS2 += Math.log(prodS2);
  sumLogA += Math.log(prodA);
  // -1/2 log s2 - c log(1 + x^2/(k s2)) = (c - 1/2) log s2 + c log k - c log(k s2 + x^2)
  const ll = constant + (c - 0.5) * sumLogS2 + n * c * Math.log(k) - c * sumLogA;
  return Number.isFinite(ll) ? ll : -Infinity;
}

/**
 * Conditional variances sigma_1^2..sigma_{n+1}^2 of `returns` under `p` (the last is the
 * one-step-ahead forecast).
 * @example garchVariances(r, params)[r.length] // sigma_{n+1}^2
 */
export function garchVariances(returns: Float64Array, p: GarchParams, backcast = backcastVariance(returns)): Float64Array {
  const n = returns.length;
  const out = new Float64Array(n + 1);
  let s2 = backcast;
  out[0] = s2;
  for (let t = 1; t <= n; t++) {
    const prev = returns[t - 1];
    s2 = p.omega + (prev < 0 ? p.alpha + p.gamma : p.alpha) * prev * prev + p.beta * s2;
    out[t] = s2;
  }
  return out;
}

/**
 * Expected conditional variances of steps 1..H after the window: E sigma_{n+1}^2 = next, then
 * E sigma_{n+k}^2 = omega + (alpha + gamma/2 + beta) E sigma_{n+k-1}^2 (symmetric innovations).
 * @example garchVarianceForecast(params, 2e-6, 3) // Float64Array of 3 variances
 */
export function garchVarianceForecast(p: GarchParams, next: number, horizon: number): Float64Array {
  const out = new Float64Array(horizon);
  const persistence = p.alpha + p.gamma / 2 + p.beta;
  let v = next;
  for (let h = 0; h < horizon; h++) {
    out[h] = v;
    v = p.omega + persistence * v;
  }
  return out;
}

/** Starting points (alpha, beta) tried before the simplex; omega targets the sample variance. */
const STARTS: readonly [number, number][] = [
  [0.05, 0.9],
  [0.1, 0.8],
  [0.03, 0.96],
  [0.2, 0.5],
];

/**
 * Fits GARCH(1,1)-t (or GJR with `asymmetric`) to one window's returns by maximum likelihood.
 *
 * The returns are scaled by s = sqrt(mean r^2) (omega' = omega / s^2; the likelihood shifts
 * by -n log s), the best of four variance-targeted starts seeds a Nelder-Mead run over
 * (log omega', |alpha|, |beta|, [|alpha + gamma|], log(nu - 2)), and a second run restarts from its end
 * (the usual guard against a collapsed simplex). Deterministic: no random starts.
 * Not converged (and `reason` says why) when there are fewer than `minReturns` returns, all
 * returns are zero, the optimiser runs out of evaluations, or the likelihood is not finite.
 * @example fitGarch(returns, { asymmetric: true }).params.gamma
 */
export function fitGarch(returns: Float64Array, opts: GarchFitOptions = {}): GarchFit {
  const n = returns.length;
  const asym = opts.asymmetric ?? false;
  const minReturns = opts.minReturns ?? 50;
  const maxEval = opts.maxEvaluations ?? 1500;
  const b = backcastVariance(returns);
  const fail = (reason: string, evaluations = 0): GarchFit => ({
    params: { omega: b > 0 ? b : NaN, alpha: 0, gamma: 0, beta: 0, nu: GARCH_NU_MAX },
    logLik: NaN,
    converged: false,
    reason,
    evaluations,
    n,
    backcast: b,
    nextVariance: b,
  });
  if (n < minReturns) return fail(`${n} returns, fewer than the ${minReturns} a GARCH fit needs`);
  if (!(b > 0) || !Number.isFinite(b)) return fail('every return in the window is zero: no variance to model');
  const s = Math.sqrt(b);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = returns[i] / s;
  // Scaled backcast is exactly 1.
  // alpha, beta and alpha + gamma enter as absolute values: their bounds at 0 are no walls for
  // the simplex, which then reaches an optimum on a bound (ARCH-free, leverage-only) smoothly.
  const unpack = (th: Float64Array): GarchParams => {
    const alpha = Math.abs(th[1]);
    return {
      omega: Math.exp(th[0]),
      alpha,
      beta: Math.abs(th[2]),
      gamma: asym ? Math.abs(th[3]) - alpha : 0,
      nu: 2 + Math.exp(th[asym ? 4 : 3]),
    };
  };
  const objective = (th: Float64Array): number => {
    const p = unpack(th);
    if (!inDomain(p)) return Infinity;
    return -llKernel(x, p.omega, p.alpha, p.gamma, p.beta, p.nu, 1);
  };
  const logNu0 = Math.log(8 - 2);
  let best: Float64Array | null = null;
  let bestF = Infinity;
  let evaluations = 0;
  for (const [a, be] of STARTS) {
    const th = asym ? Float64Array.of(Math.log(1 - a - be), a, be, a, logNu0) : Float64Array.of(Math.log(1 - a - be), a, be, logNu0);
    const f = objective(th);
    evaluations++;
    if (f < bestF) {
      bestF = f;
      best = th;
    }
  }
  if (!best) return fail('no starting point has a finite likelihood', evaluations);
  const step = asym ? [0.5, 0.03, 0.03, 0.03, 0.5] : [0.5, 0.03, 0.03, 0.5];
  const first = nelderMead(objective, best, { step, xTol: 1e-4, fTol: 1e-6, maxEvaluations: maxEval });
  const second = nelderMead(objective, first.x, { step: step.map((v) => v / 4), xTol: 1e-6, fTol: 1e-8, maxEvaluations: maxEval });
  evaluations += first.evaluations + second.evaluations;
  const end = second.f <= first.f ? second : first;
  const scaled = unpack(end.x);
  const params: GarchParams = { ...scaled, omega: scaled.omega * b };
  const logLik = -end.f - n * Math.log(s);
  const base = { params, evaluations, n, backcast: b };
  if (!Number.isFinite(end.f)) return fail('the likelihood is not finite at the optimum', evaluations);
  if (!second.converged) {
    return { ...base, logLik, converged: false, reason: `the optimiser did not converge in ${maxEval} likelihood evaluations`, nextVariance: NaN };
  }
  const v = garchVariances(returns, params, b);
  return { ...base, logLik, converged: true, reason: null, nextVariance: v[n] };
}
