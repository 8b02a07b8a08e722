/**
 * Volatility-model forecasters: `ewma` (RiskMetrics, normal innovations), `garch`
 * (GARCH(1,1) with standardized Student-t innovations) and `gjr-garch` (with the GJR
 * leverage term), each fitted per window (per symbol and origin) on the lookback window's
 * one-bar log returns (kernels and likelihood in `volatility.ts`).
 *
 * Quantiles of step h: last * exp(sqrt(V_h) * Z_h(q)), V_h = sum_{k<=h} E sigma_{n+k}^2 (zero
 * mean). EWMA: Z_h = normal quantile, V_h = h sigma_{n+1}^2. GARCH: Z_h = standardized t
 * quantile with nu_h = 4 + h (nu - 4) degrees of freedom for nu > 4 (the excess kurtosis
 * 6 / (nu - 4) of one step shrinks as 1/h for a sum of h steps; nu_h = nu otherwise): exact at
 * h = 1, a moment-matched approximation beyond that which leaves out the kurtosis volatility
 * clustering adds. Sampled paths simulate the recursion forward step by step (each drawn return
 * feeds the next variance), so the paths carry volatility clustering.
 *
 * A GARCH fit that does not converge (see `fitGarch`) is replaced by EWMA for that window;
 * each replacement is counted and explained in `meta.fallback`.
 */
import { ConfigError, ModelError } from '../core/errors';
import { Rng } from '../core/random';
import { returnStats } from './baselines';
import { normalQuantile } from '../stats/normal';
import { checkHorizon, checkSamples, checkWindows, tail, toWindows } from './request';
import { studentTQuantile } from '../stats/studentT';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo } from './types';
import { ewmaNextVariance, fitGarch, garchVarianceForecast, type GarchFit, type GarchParams } from './volatility';

/** Names of the volatility forecasters, as accepted by `openModel` and the CLI. */
export const VOLATILITY_NAMES = ['ewma', 'garch', 'gjr-garch'] as const;
export type VolatilityName = (typeof VOLATILITY_NAMES)[number];

/** Which volatility model, with its options. */
export type VolatilitySpec =
  | {
      kind: 'ewma';
      /** Decay lambda in (0, 1). Default 0.94 (RiskMetrics). */
      lambda?: number;
    }
  | {
      kind: 'garch';
      /** GJR leverage term. Default false. */
      asymmetric?: boolean;
      /** Decay of the EWMA used when a fit does not converge. Default 0.94. */
      fallbackLambda?: number;
    };

/** What one window was forecast with: the fitted GARCH, or EWMA (by choice or as the fallback). */
export interface VolatilityWindowFit {
  model: 'ewma' | 'garch' | 'gjr-garch';
  /** The GARCH fit (also when it failed and EWMA was used). */
  fit: GarchFit | null;
  /** sigma_{n+1}^2 used. */
  nextVariance: number;
  /** True when EWMA replaced a GARCH fit that did not converge. */
  fellBack: boolean;
}

/** One window's per-step variances and innovation law, ready for quantiles and paths. */
interface WindowPlan {
  last: number;
  /** GARCH parameters, or null for the EWMA recursion. */
  garch: GarchParams | null;
  lambda: number;
  nextVariance: number;
}

/** A volatility model as a `Forecaster`. */
export class VolatilityForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private fits: VolatilityWindowFit[] = [];
  private fallbackCount = 0;

  /**
   * @param spec - which model.
   * @param opts.lookback - closes read from the end of each window (default 512).
   * @param opts.maxHorizon - largest horizon (default 1024).
   * @throws ConfigError on a lambda outside (0, 1) or a lookback below 3.
   */
  constructor(
    readonly spec: VolatilitySpec,
    opts: { lookback?: number; maxHorizon?: number } = {},
  ) {
    const lookback = opts.lookback ?? 512;
    if (!Number.isInteger(lookback) || lookback < 3) throw new ConfigError('lookback of a volatility model must be an integer >= 3', { key: 'lookback', value: lookback });
    const lambda = spec.kind === 'ewma' ? spec.lambda : spec.fallbackLambda;
    if (lambda !== undefined && !(lambda > 0 && lambda < 1)) throw new ConfigError('EWMA lambda must be in (0, 1)', { key: 'lambda', value: lambda });
    this.info = {
      name: spec.kind === 'ewma' ? 'ewma' : spec.asymmetric ? 'gjr-garch' : 'garch',
      family: 'baseline',
      contextLength: lookback,
      minContext: 3,
      maxHorizon: opts.maxHorizon ?? 1024,
      quantileLevels: null,
    };
  }

  /** Per-window fits of the last `forecast` call, in window order. */
  get lastFits(): readonly VolatilityWindowFit[] {
    return this.fits;
  }

  /** Windows forecast by EWMA because the GARCH fit did not converge, since this forecaster was made. */
  get fallbacksUsed(): number {
    return this.fallbackCount;
  }

  /**
   * Quantiles (request levels, default 0.1..0.9) and, with `samples: N`, simulated paths.
   * @throws ModelError on bad windows, horizon or sample count.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const windows = toWindows(request.context).map((w) => tail(w, this.info.contextLength));
    checkHorizon(request.horizon, this.info);
    const n = checkSamples(request.samples, 0);
    checkWindows(windows, this.info);
    const H = request.horizon;
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    for (const q of levels) if (!(q > 0 && q < 1)) throw new ModelError('quantile levels must be in (0, 1)', { key: 'quantileLevels', value: q });
    const quantiles = tensor3(windows.length, levels.length, H);
    const samples = n > 0 ? tensor3(windows.length, n, H) : undefined;
    const rng = new Rng(request.seed ?? 0);
    const reasons: string[] = [];
    this.fits = [];
    windows.forEach((w, i) => {
      const plan = this.plan(w, i, reasons);
      writeQuantiles(plan, levels, H, quantiles.data, i * levels.length * H);
      if (samples) simulatePaths(plan, H, n, rng.fork(`window ${i}`), samples.data, i * n * H);
    });
    this.fallbackCount += reasons.length;
    const garch = this.spec.kind === 'garch';
    return {
      quantiles: { levels, values: quantiles },
      ...(samples ? { samples } : {}),
      meta: {
        model: this.info.name,
        family: 'baseline',
        device: 'none',
        batch: windows.length,
        horizon: H,
        samples: n,
        samplesFrom: samples ? 'model' : 'none',
        ...(samples ? { samplesMethod: garch ? `${this.info.name} recursion simulated forward with standardized t draws (volatility clustering)` : 'EWMA recursion simulated forward with normal draws (volatility clustering)' } : {}),
        timings: { totalMs: performance.now() - t0, modelMs: 0, runs: 0 },
        fallback: { count: reasons.length, forecaster: garch ? 'ewma' : null, reasons },
      },
    };
  }

  async close(): Promise<void> {}

  private plan(window: Float64Array, i: number, reasons: string[]): WindowPlan {
    const s = returnStats(window);
    const spec = this.spec;
    const lambda = (spec.kind === 'ewma' ? spec.lambda : spec.fallbackLambda) ?? 0.94;
    if (spec.kind === 'garch') {
      const fit = fitGarch(s.returns, { asymmetric: spec.asymmetric ?? false });
      if (fit.converged) {
        this.fits.push({ model: this.info.name as 'garch' | 'gjr-garch', fit, nextVariance: fit.nextVariance, fellBack: false });
        return { last: s.last, garch: fit.params, lambda, nextVariance: fit.nextVariance };
      }
      reasons.push(`window ${i}: ${this.info.name} fit not used (${fit.reason}); EWMA (lambda ${lambda}) forecast it`);
      const next = ewmaNextVariance(s.returns, lambda);
      this.fits.push({ model: 'ewma', fit, nextVariance: next, fellBack: true });
      return { last: s.last, garch: null, lambda, nextVariance: next };
    }
    const next = ewmaNextVariance(s.returns, lambda);
    this.fits.push({ model: 'ewma', fit: null, nextVariance: next, fellBack: false });
    return { last: s.last, garch: null, lambda, nextVariance: next };
  }
}

/** Degrees of freedom of the standardized-t approximation of an h-step sum (see the module doc). */
export function aggregateNu(nu: number, h: number): number {
  return nu > 4 ? 4 + h * (nu - 4) : nu;
}

/**
 * Quantile of a standardized (unit-variance) Student-t: t_nu^{-1}(q) sqrt((nu - 2) / nu); the
 * normal quantile for nu >= the GARCH cap.
 * @example standardizedTQuantile(0.9, 1e9) // ~1.2816
 */
export function standardizedTQuantile(q: number, nu: number): number {
  if (nu >= 1e6) return normalQuantile(q);
  return studentTQuantile(q, nu) * Math.sqrt((nu - 2) / nu);
}

function writeQuantiles(plan: WindowPlan, levels: readonly number[], H: number, out: Float64Array, offset: number): void {
  const g = plan.garch;
  const v = g ? garchVarianceForecast(g, plan.nextVariance, H) : new Float64Array(H).fill(plan.nextVariance);
  const zNormal = levels.map(normalQuantile);
  let cum = 0;
  for (let h = 1; h <= H; h++) {
    cum += v[h - 1];
    const sd = Math.sqrt(cum);
    for (let j = 0; j < levels.length; j++) {
      const z = g ? standardizedTQuantile(levels[j], aggregateNu(g.nu, h)) : zNormal[j];
      out[offset + j * H + h - 1] = plan.last * Math.exp(sd * z);
    }
  }
}

function simulatePaths(plan: WindowPlan, H: number, n: number, rng: Rng, out: Float64Array, offset: number): void {
  const g = plan.garch;
  const logLast = Math.log(plan.last);
  const tScale = g ? Math.sqrt((g.nu - 2) / g.nu) : 1;
  const lambda = plan.lambda;
  for (let j = 0; j < n; j++) {
    const row = offset + j * H;
    let s2 = plan.nextVariance;
    let logP = logLast;
    for (let h = 0; h < H; h++) {
      const z = g ? rng.studentT(g.nu) * tScale : rng.normal();
      const r = Math.sqrt(s2) * z;
      logP += r;
      out[row + h] = Math.exp(logP);
      s2 = g ? g.omega + (r < 0 ? g.alpha + g.gamma : g.alpha) * r * r + g.beta * s2 : lambda * s2 + (1 - lambda) * r * r;
    }
  }
}

/**
 * A volatility forecaster by name (`ewma`, `garch`, `gjr-garch`).
 * @throws ConfigError on another name.
 * @example createVolatilityForecaster('garch').info.name // 'garch'
 */
export function createVolatilityForecaster(name: string, opts: { lookback?: number; maxHorizon?: number } = {}): VolatilityForecaster {
  if (name === 'ewma') return new VolatilityForecaster({ kind: 'ewma' }, opts);
  if (name === 'garch') return new VolatilityForecaster({ kind: 'garch' }, opts);
  if (name === 'gjr-garch') return new VolatilityForecaster({ kind: 'garch', asymmetric: true }, opts);
  throw new ConfigError(`unknown volatility model "${name}" (use ${VOLATILITY_NAMES.join(', ')})`, { key: 'model', value: name });
}
