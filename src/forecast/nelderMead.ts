/**
 * Nelder-Mead simplex minimiser on typed arrays, for the few-parameter likelihoods of the
 * volatility models. Deterministic: no random restarts.
 */

/** Result of {@link nelderMead}. */
export interface NelderMeadResult {
  /** Best point found. */
  x: Float64Array;
  /** Objective at `x`. */
  f: number;
  /** Objective evaluations made. */
  evaluations: number;
  /** True when both tolerances were met before `maxEvaluations`. */
  converged: boolean;
}

/** Options of {@link nelderMead}. */
export interface NelderMeadOptions {
  /** Initial simplex edge per coordinate (absolute). Default 0.1 per coordinate. */
  step?: ArrayLike<number>;
  /** Stop when max |x_i - x_best| over the simplex is below this. Default 1e-6. */
  xTol?: number;
  /** ... and max f_i - f_best is below this. Default 1e-9. */
  fTol?: number;
  /** Evaluation budget. Default 2000. */
  maxEvaluations?: number;
}

/**
 * Minimises `f` from `x0` with the Nelder-Mead simplex (standard coefficients: reflection 1,
 * expansion 2, contraction 0.5, shrink 0.5; Lagarias et al. 1998 ordering), the convergence
 * test of scipy's `fmin` (both `xTol` and `fTol` met). `f` may return Infinity outside its
 * domain (a wall); `x0` must be inside.
 * @example nelderMead((x) => (x[0] - 1) ** 2 + (x[1] + 2) ** 2, [0, 0]).x // ~[1, -2]
 */
export function nelderMead(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: NelderMeadOptions = {}): NelderMeadResult {
  const n = x0.length;
  const xTol = opts.xTol ?? 1e-6;
  const fTol = opts.fTol ?? 1e-9;
  const maxEval = opts.maxEvaluations ?? 2000;
  const pts: Float64Array[] = [];
  const vals = new Float64Array(n + 1);
  let evals = 0;
  const call = (x: Float64Array) => {
    evals++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  pts.push(Float64Array.from(x0));
  vals[0] = call(pts[0]);
  for (let i = 0; i < n; i++) {
    const p = Float64Array.from(x0);
    p[i] += opts.step ? opts.step[i] : 0.1;
    pts.push(p);
    vals[i + 1] = call(p);
  }
  const order = Array.from({ length: n + 1 }, (_, i) => i);
  const centroid = new Float64Array(n);
  const xr = new Float64Array(n);
  const xe = new Float64Array(n);
  const xc = new Float64Array(n);
  let converged = false;
  while (evals < maxEval) {
    order.sort((a, b) => vals[a] - vals[b]);
    const best = order[0];
    const worst = order[n];
    const second = order[n - 1];
    // Convergence: simplex small in x and in f.
    let dx = 0;
    let df = 0;
    for (let k = 1; k <= n; k++) {
      const p = pts[order[k]];
      df = Math.max(df, Math.abs(vals[order[k]] - vals[best]));
      for (let i = 0; i < n; i++) dx = Math.max(dx, Math.abs(p[i] - pts[best][i]));
    }
    if (dx <= xTol && df <= fTol) {
      converged = true;
      break;
    }
    centroid.fill(0);
    for (let k = 0; k < n; k++) {
      const p = pts[order[k]];
      for (let i = 0; i < n; i++) centroid[i] += p[i] / n;
    }
    const pw = pts[worst];
    for (let i = 0; i < n; i++) xr[i] = centroid[i] + (centroid[i] - pw[i]);
    const fr = call(xr);
    if (fr < vals[best]) {
      for (let i = 0; i < n; i++) xe[i] = centroid[i] + 2 * (centroid[i] - pw[i]);
      const fe = call(xe);
      if (fe < fr) {
        pw.set(xe);
        vals[worst] = fe;
      } else {
        pw.set(xr);
        vals[worst] = fr;
      }
      continue;
    }
    if (fr < vals[second]) {
      pw.set(xr);
      vals[worst] = fr;
      continue;
    }
    // Contraction: outside when the reflected point beats the worst, inside otherwise.
    const outside = fr < vals[worst];
    for (let i = 0; i < n; i++) xc[i] = outside ? centroid[i] + 0.5 * (xr[i] - centroid[i]) : centroid[i] + 0.5 * (pw[i] - centroid[i]);
    const fc = call(xc);
    if (fc < (outside ? fr : vals[worst])) {
      pw.set(xc);
      vals[worst] = fc;
      continue;
    }
    // Shrink towards the best point.
    const pb = pts[best];
    for (let k = 1; k <= n; k++) {
      const p = pts[order[k]];
      for (let i = 0; i < n; i++) p[i] = pb[i] + 0.5 * (p[i] - pb[i]);
      vals[order[k]] = call(p);
    }
  }
  let bi = 0;
  for (let k = 1; k <= n; k++) if (vals[k] < vals[bi]) bi = k;
  return { x: Float64Array.from(pts[bi]), f: vals[bi], evaluations: evals, converged };
}
