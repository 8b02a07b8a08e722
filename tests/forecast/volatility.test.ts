import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { loadGridSeries } from '../../src/cli/eval';
import { returnStats } from '../../src/forecast/baselines';
import { createNamedForecaster } from '../../src/forecast/named';
import { nelderMead } from '../../src/forecast/nelderMead';
import { openModel } from '../../src/forecast/openModel';
import { normalQuantile } from '../../src/stats/normal';
import { logGamma, studentTCdf, studentTQuantile } from '../../src/stats/studentT';
import { backcastVariance, ewmaNextVariance, fitGarch, garchLogLikelihood, garchVarianceForecast, garchVariances } from '../../src/forecast/volatility';
import { standardizedTQuantile, VolatilityForecaster } from '../../src/forecast/volatilityForecaster';
import { thrownBy } from '../support/errors';
import { realData } from '../support/paths';

const FIXTURES = join(__dirname, 'fixtures');
const input = JSON.parse(readFileSync(join(FIXTURES, 'garch-returns.json'), 'utf8')) as { returns: Record<string, number[]> };
// Written by scripts/crosscheck/garch_scipy.py (Debian python3-scipy, SLSQP on the same likelihood).
const scipy = JSON.parse(readFileSync(join(FIXTURES, 'garch-scipy.json'), 'utf8')) as {
  fits: Record<string, Record<'garch' | 'gjr-garch', { params: { omega: number; alpha: number; gamma: number; beta: number; nu: number }; logLik: number; success: boolean }>>;
  reference: { params: { omega: number; alpha: number; gamma: number; beta: number; nu: number }; logLik: Record<string, number> };
};
const series = loadGridSeries(realData('crypto-5m'));
const closesOf = (name: string) => series.find((s) => s.symbol === name)!.closes;

describe('Student-t helpers', () => {
  it('match tabulated quantiles and the CDF', () => {
    expect(studentTQuantile(0.975, 5)).toBeCloseTo(2.570581836, 8);
    expect(studentTQuantile(0.9, 3)).toBeCloseTo(1.637744354, 8);
    expect(studentTQuantile(0.99, 1)).toBeCloseTo(31.82051595, 6);
    expect(studentTQuantile(0.05, 10)).toBeCloseTo(-1.812461123, 8);
    expect(studentTQuantile(0.9, 1e7)).toBeCloseTo(normalQuantile(0.9), 5);
    expect(studentTCdf(studentTQuantile(0.3, 4.5), 4.5)).toBeCloseTo(0.3, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    // unit variance: the standardized 0.9 quantile of t(4) is t_{0.9,4} sqrt(2/4)
    expect(standardizedTQuantile(0.9, 4)).toBeCloseTo(1.533206274 * Math.SQRT1_2, 8);
  });

  it('Nelder-Mead finds the minimum of a quadratic bowl', () => {
    const r = nelderMead((x) => (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2, [0, 0]);
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(-2, 4);
  });
});

describe('GARCH-t log-likelihood loop', () => {
  // The formula of the module doc, one Math.log per term: the kernel's blocked, branch-free loop must agree.
  const plain = (r: Float64Array, p: { omega: number; alpha: number; gamma: number; beta: number; nu: number }, b: number): number => {
    const k = p.nu - 2;
    const c = (p.nu + 1) / 2;
    let ll = 0;
    let s2 = b;
    for (let t = 0; t < r.length; t++) {
      if (t > 0) s2 = p.omega + (r[t - 1] < 0 ? p.alpha + p.gamma : p.alpha) * r[t - 1] ** 2 + p.beta * s2;
      ll += logGamma(c) - logGamma(p.nu / 2) - 0.5 * Math.log(Math.PI * k) - 0.5 * Math.log(s2) - c * Math.log(1 + (r[t] * r[t]) / (k * s2));
    }
    return ll;
  };
  it.each([
    ['GARCH', 0],
    ['GJR', 0.04],
  ])('%s: agrees with the plain per-step sum on recorded returns, at many parameter points', (_name, gamma) => {
    const closes = closesOf(Object.keys(input.returns)[0]);
    const r = new Float64Array(600);
    for (let i = 0; i < r.length; i++) r[i] = Math.log(closes[i + 1] / closes[i]);
    let negatives = 0;
    for (const x of r) if (x < 0) negatives++;
    expect(negatives).toBeGreaterThan(100); // both branches of the leverage term are exercised
    const b = backcastVariance(r);
    for (const [alpha, beta, nu] of [[0.05, 0.9, 6], [0.1, 0.8, 4.5], [0.01, 0.95, 30], [0.2, 0.5, 2.5]]) {
      const p = { omega: b * (1 - alpha - gamma / 2 - beta), alpha, gamma, beta, nu };
      expect(p.omega).toBeGreaterThan(0);
      const got = garchLogLikelihood(r, p, b);
      const want = plain(r, p, b);
      expect(Math.abs(got - want)).toBeLessThan(1e-9 * Math.abs(want));
    }
    // the symmetric model as GJR with gamma 0 (the kernel's other loop) gives the same number
    const p0 = { omega: b * 0.05, alpha: 0.05, gamma: 0, beta: 0.9, nu: 6 };
    expect(garchLogLikelihood(r, p0, b)).toBeCloseTo(plain(r, p0, b), 6);
    expect(garchLogLikelihood(r.subarray(0, 1), p0, b)).toBeCloseTo(plain(r.subarray(0, 1), p0, b), 12);
    expect(garchLogLikelihood(new Float64Array(0), p0, b)).toBe(0);
  });
});

describe('GARCH(1,1)-t against scipy on recorded crypto-5m returns', () => {
  it('the fixture holds the returns of the recorded data', () => {
    for (const [name, rs] of Object.entries(input.returns)) {
      const c = closesOf(name);
      const r = returnStats(c.subarray(c.length - 513)).returns;
      expect(r.length).toBe(rs.length);
      // The fixture's returns are log(b / a) (numpy); returnStats takes log(b) - log(a): equal to rounding.
      const worst = Math.max(...rs.map((x, i) => Math.abs(r[i] - x)));
      expect(worst).toBeLessThan(1e-14);
    }
  });

  it('the likelihood kernel equals the Python one at a fixed point', () => {
    for (const [name, rs] of Object.entries(input.returns)) {
      const ll = garchLogLikelihood(Float64Array.from(rs), scipy.reference.params);
      expect(Math.abs(ll - scipy.reference.logLik[name])).toBeLessThan(1e-8 * Math.abs(ll));
    }
  });

  it('the fit reaches scipy optimum: log-likelihood and parameters agree', () => {
    for (const [name, rs] of Object.entries(input.returns)) {
      for (const model of ['garch', 'gjr-garch'] as const) {
        const ref = scipy.fits[name][model];
        expect(ref.success).toBe(true);
        const fit = fitGarch(Float64Array.from(rs), { asymmetric: model === 'gjr-garch' });
        expect(fit.converged, `${name} ${model}: ${fit.reason}`).toBe(true);
        // never worse than scipy by more than 1e-3 nats, and no better by more (same likelihood)
        expect(fit.logLik - ref.logLik, `${name} ${model}`).toBeGreaterThan(-1e-3);
        expect(fit.logLik - ref.logLik, `${name} ${model}`).toBeLessThan(1e-3);
        expect(Math.abs(fit.params.alpha - ref.params.alpha)).toBeLessThan(5e-3);
        expect(Math.abs(fit.params.beta - ref.params.beta)).toBeLessThan(5e-3);
        expect(Math.abs(fit.params.gamma - ref.params.gamma)).toBeLessThan(5e-3);
        expect(Math.abs(fit.params.nu / ref.params.nu - 1)).toBeLessThan(0.01);
        expect(Math.abs(fit.params.omega / ref.params.omega - 1)).toBeLessThan(0.03);
        expect(fit.nextVariance).toBe(garchVariances(Float64Array.from(rs), fit.params)[rs.length]);
      }
    }
  });

  it('variance forecasts decay to omega / (1 - persistence)', () => {
    const p = scipy.fits.ETH_BTC.garch.params;
    const v = garchVarianceForecast(p, 10 * p.omega, 400);
    expect(v[0]).toBe(10 * p.omega);
    const pers = p.alpha + p.beta;
    const uncond = p.omega / (1 - pers);
    expect(v[399] / (uncond + pers ** 399 * (10 * p.omega - uncond)) - 1).toBeLessThan(1e-10);
    expect(garchVarianceForecast(p, 10 * p.omega, 5000)[4999] / uncond - 1).toBeLessThan(1e-10);
  });
});

describe('volatility forecasters', () => {
  const eth = closesOf('ETH_BTC');
  const window = eth.subarray(eth.length - 513);
  const r = returnStats(window).returns;
  const last = window[window.length - 1];

  it('ewma: RiskMetrics recursion, normal quantiles with h sigma^2', async () => {
    const rs = Float64Array.of(0.01, -0.02, 0.03);
    let v = (1e-4 + 4e-4 + 9e-4) / 3;
    for (const x of rs) v = 0.94 * v + 0.06 * x * x;
    expect(ewmaNextVariance(rs)).toBeCloseTo(v, 15);
    expect(backcastVariance(rs)).toBeCloseTo(14e-4 / 3, 15);
    const f = await createNamedForecaster('ewma').forecast({ context: window, horizon: 4, quantileLevels: [0.1, 0.5, 0.9] });
    const next = ewmaNextVariance(r);
    const q = f.quantiles!.values.data;
    expect(q[4 + 3]).toBeCloseTo(last, 12);
    expect(q[8 + 3]).toBeCloseTo(last * Math.exp(normalQuantile(0.9) * Math.sqrt(4 * next)), 12);
    expect(f.meta).toMatchObject({ model: 'ewma', fallback: { count: 0, forecaster: null } });
  });

  it('garch: exact t quantile at h = 1, paths agree with quantiles and carry volatility clustering', async () => {
    const g = new VolatilityForecaster({ kind: 'garch' });
    const f = await g.forecast({ context: window, horizon: 10, samples: 4000, seed: 3, quantileLevels: [0.1, 0.5, 0.9] });
    const fit = g.lastFits[0].fit!;
    expect(g.lastFits[0]).toMatchObject({ model: 'garch', fellBack: false });
    const q = f.quantiles!.values.data;
    expect(q[20]).toBeCloseTo(last * Math.exp(Math.sqrt(fit.nextVariance) * standardizedTQuantile(0.9, fit.params.nu)), 12);
    const s = f.samples!.data;
    const N = 4000;
    const H = 10;
    for (const h of [0, 9]) {
      const col = Float64Array.from({ length: N }, (_, j) => s[j * H + h]).sort();
      // empirical 0.1 / 0.9 quantiles of the paths: within 15% of the log half-width of the analytic ones
      for (const [lvl, row] of [[0.1, 0], [0.9, 2]] as const) {
        const emp = Math.log(col[Math.floor(lvl * N)] / last);
        const ana = Math.log(q[row * H + h] / last);
        expect(Math.abs(emp / ana - 1), `h ${h + 1} level ${lvl}`).toBeLessThan(0.15);
      }
    }
    // clustering: the size of the first step's return correlates with the size of the third step's, across paths
    const a = new Float64Array(N);
    const b = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      a[j] = Math.abs(Math.log(s[j * H] / last));
      b[j] = Math.abs(Math.log(s[j * H + 2] / s[j * H + 1]));
    }
    expect(correlation(a, b)).toBeGreaterThan(0.05);
    const again = await g.forecast({ context: window, horizon: 10, samples: 4000, seed: 3, quantileLevels: [0.1, 0.5, 0.9] });
    expect(again.samples!.data).toEqual(s);
    expect(f.meta).toMatchObject({ model: 'garch', samplesFrom: 'model', fallback: { count: 0, forecaster: 'ewma' } });
  });

  it('a fit that cannot be made falls back to EWMA, counted and explained', async () => {
    const g = createNamedForecaster('gjr-garch');
    const short = window.subarray(window.length - 30);
    const f = await g.forecast({ context: [window, short], horizon: 3, quantileLevels: [0.9] });
    expect(f.meta.fallback.count).toBe(1);
    expect(f.meta.fallback.reasons[0]).toMatch(/^window 1: gjr-garch fit not used \(29 returns, fewer than the 50 a GARCH fit needs\); EWMA/);
    const e = await createNamedForecaster('ewma').forecast({ context: short, horizon: 3, quantileLevels: [0.9] });
    expect(Array.from(f.quantiles!.values.data.subarray(3, 6))).toEqual(Array.from(e.quantiles!.values.data));
    expect((g as VolatilityForecaster).fallbacksUsed).toBe(1);
  });

  it('is selectable by name through openModel, and unknown names are a ConfigError', async () => {
    const m = await openModel('gjr-garch');
    expect(m.info).toMatchObject({ name: 'gjr-garch', family: 'baseline', contextLength: 512 });
    expect(thrownBy(() => createNamedForecaster('arima'), ConfigError).message).toMatch(/one of naive, trend, historical, oracle, ewma, garch, gjr-garch/);
    expect(() => new VolatilityForecaster({ kind: 'ewma', lambda: 1 })).toThrow(ConfigError);
  });
});

function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
