/**
 * The seeded synthetic market: several correlated symbols on one calendar, with
 * regime-switching drift and volatility, GARCH(1,1) volatility clustering,
 * Student-t shocks, jumps, overnight gaps, and (for calendar markets) U-shaped
 * intraday volatility and volume. Same options and seed give identical numbers.
 *
 * Model, per bar t of symbol i (log returns):
 *   h_t = (1 - a - b) + a z_{t-1}^2 h_{t-1} + b h_{t-1}      (unit-mean GARCH variance multiplier)
 *   sigma_t = sigmaBar_i * regime.volMultiplier * u(x_t) * sqrt(h_t)
 *   r_t = (mu_regime - sigma_t^2 / 2) dt + sigma_t z_t + J_t,   z_t = rho_i f_t + sqrt(1 - rho_i^2) e_t
 * with f_t, e_t unit-variance Student-t(5) draws, J_t ~ N(0, (jumpSize * sigmaBar_i)^2) with
 * probability jumpsPerDay / barsPerDay, and u(x) = 0.6 + 1.2 (2x - 1)^2 (mean 1 over the window,
 * 3x higher at the open and close than at midday; x = position in the window).
 */
import { Rng } from '../../core/random';
import { ConfigError } from '../../core/errors';
import type { BarArrays } from '../bars';
import { DAY_MS } from '../interval';
import { asCompiled, sessionIndex, sessionTimestamps, type SessionLike } from '../sessions';
import { DEFAULT_REGIMES, simulateRegimes, type RegimeSpec } from './regimes';

/** One simulated symbol. */
export interface SyntheticSymbol {
  symbol: string;
  /** First open price. */
  price: number;
  /** Annualized volatility of the calm-to-normal market, e.g. 0.25. */
  annualVol: number;
  /** Loading on the common market factor in [-1, 1]; correlation of two symbols is the product. Default 0.6. */
  factorLoading?: number;
  /** Mean volume per bar. Default 1000. */
  volume?: number;
  /** Price tick; prices are rounded to it. Default 0.01. */
  tick?: number;
  /** Volume rounding step. Default 1. */
  volumeStep?: number;
}

/** Options of {@link simulateMarket}. */
export interface SyntheticMarketOptions {
  seed: number;
  /** Calendar: `'24x7'` for crypto, `'us-rth'` for US equities, or any session spec. */
  session: SessionLike;
  /** Bar length in ms, e.g. 60_000. */
  barMs: number;
  /** First and last (exclusive) instant, ISO text or ms UTC. */
  start: string | number;
  end: string | number;
  symbols: SyntheticSymbol[];
  /** Regimes; default {@link DEFAULT_REGIMES}. */
  regimes?: readonly RegimeSpec[];
  /** GARCH(1,1) coefficients of the unit-mean variance multiplier; default `{ alpha: 0.06, beta: 0.92 }`. */
  garch?: { alpha: number; beta: number };
  /** Jump size standard deviation in multiples of the base bar volatility; default 8. */
  jumpSize?: number;
  /** Standard deviation of the overnight (session-to-session) gap, in multiples of the daily volatility; default 0.3. Calendar markets only. */
  overnightGap?: number;
  /** U-shaped intraday volatility and volume; default true for calendar sessions, false for 24x7. */
  intradayShape?: boolean;
  /** Probability that a bar is missing from a symbol's record (to exercise gap handling); default 0. */
  missingBarProbability?: number;
}

/** One symbol's bars with the generator's hidden state per bar. */
export interface SyntheticSeries extends BarArrays {
  symbol: string;
  /** Market regime index per bar (into `SyntheticMarket.regimeNames`). */
  regime: Int8Array;
  /** Conditional volatility of the bar's log return (the sigma_t above). */
  sigma: Float64Array;
}

/** Output of {@link simulateMarket}. */
export interface SyntheticMarket {
  series: SyntheticSeries[];
  regimeNames: string[];
  barMs: number;
}

const TRADING_DAYS_PER_YEAR = 252;
const CRYPTO_DAYS_PER_YEAR = 365;

function toMs(t: string | number, key: string): number {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new ConfigError('not a valid instant', { key, value: t });
  return ms;
}

// Dividing by an integer (1 / step for ticks like 0.01) gives the nearest double to the decimal,
// so prices print as 61487.6, not 61487.600000000006.
function roundTo(x: number, step: number): number {
  const inv = Math.round(1 / step);
  if (inv >= 1 && Math.abs(inv * step - 1) < 1e-12) return Math.round(x * inv) / inv;
  return Math.round(x / step) * step;
}

// Student-t(5) scaled to unit variance: heavier tails than the normal, as in real returns.
function shock(rng: Rng): number {
  return rng.studentT(5) * Math.sqrt(3 / 5);
}

/**
 * Simulates a market on a calendar. Every symbol shares the timestamps and the regime path.
 * @throws ConfigError for an empty period, no symbols, or invalid parameters.
 * @example
 * const m = simulateMarket({ seed: 7, session: '24x7', barMs: 300_000, start: '2024-01-01', end: '2024-01-08',
 *   symbols: [{ symbol: 'BTC', price: 40_000, annualVol: 0.6 }] });
 * m.series[0].close.length // 2016 five-minute bars in a week
 */
export function simulateMarket(opts: SyntheticMarketOptions): SyntheticMarket {
  const session = asCompiled(opts.session);
  const regimes = opts.regimes ?? DEFAULT_REGIMES;
  const { alpha, beta } = opts.garch ?? { alpha: 0.06, beta: 0.92 };
  if (alpha < 0 || beta < 0 || alpha + beta >= 1) throw new ConfigError('garch alpha + beta must be below 1, both >= 0', { key: 'garch', value: { alpha, beta } });
  if (opts.symbols.length === 0) throw new ConfigError('no symbols to simulate', { key: 'symbols' });
  if (!(opts.barMs > 0)) throw new ConfigError('barMs must be positive', { key: 'barMs', value: opts.barMs });
  const ts = sessionTimestamps(session, toMs(opts.start, 'start'), toMs(opts.end, 'end'), opts.barMs);
  const n = ts.length;
  if (n === 0) throw new ConfigError('the period holds no trading bars', { key: 'start', value: [opts.start, opts.end] });

  const rng = new Rng(opts.seed);
  const idx = sessionIndex(ts, session);
  const windowMs = session.continuous ? DAY_MS : session.windows.reduce((s, w) => s + w.endMs - w.startMs, 0);
  const barsPerDay = windowMs / opts.barMs;
  const daysPerYear = session.continuous ? CRYPTO_DAYS_PER_YEAR : TRADING_DAYS_PER_YEAR;
  const dtYears = 1 / (barsPerDay * daysPerYear);
  const regime = simulateRegimes(rng.fork('regimes'), regimes, n, barsPerDay);
  const shaped = opts.intradayShape ?? !session.continuous;
  const jumpSize = opts.jumpSize ?? 8;
  const gapSd = opts.overnightGap ?? 0.3;

  // Position in the window and session-open flags, shared by all symbols.
  const uVol = new Float64Array(n).fill(1);
  const uVolume = new Float64Array(n).fill(1);
  const opensSession = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    if (shaped) {
      const x = (ts[t] + opts.barMs / 2 - idx.windowStart[t]) / (idx.windowEnd[t] - idx.windowStart[t]);
      const d = (2 * x - 1) ** 2;
      uVol[t] = 0.6 + 1.2 * d;
      uVolume[t] = 0.5 + 1.5 * d;
    }
    opensSession[t] = t > 0 && idx.sessionId[t] !== idx.sessionId[t - 1] ? 1 : 0;
  }
  const factorRng = rng.fork('factor');
  const factor = new Float64Array(n);
  for (let t = 0; t < n; t++) factor[t] = shock(factorRng);

  const series = opts.symbols.map((spec) => {
    const r = rng.fork(`symbol:${spec.symbol}`);
    const rho = spec.factorLoading ?? 0.6;
    if (Math.abs(rho) > 1) throw new ConfigError('factorLoading must be within [-1, 1]', { key: 'factorLoading', value: rho, symbol: spec.symbol });
    if (!(spec.price > 0) || !(spec.annualVol > 0)) throw new ConfigError('price and annualVol must be positive', { symbol: spec.symbol, value: spec });
    const tick = spec.tick ?? 0.01;
    const volStep = spec.volumeStep ?? 1;
    const meanVolume = spec.volume ?? 1000;
    const sigmaBar = spec.annualVol * Math.sqrt(dtYears);
    const sigmaDay = spec.annualVol / Math.sqrt(daysPerYear);
    const idio = Math.sqrt(1 - rho * rho);
    const open = new Float64Array(n);
    const high = new Float64Array(n);
    const low = new Float64Array(n);
    const close = new Float64Array(n);
    const volume = new Float64Array(n);
    const sigma = new Float64Array(n);
    let logP = Math.log(spec.price);
    let h = 1;
    let zPrev = 0;
    for (let t = 0; t < n; t++) {
      const reg = regimes[regime[t]];
      h = 1 - alpha - beta + alpha * zPrev * zPrev * h + beta * h;
      const s = sigmaBar * reg.volMultiplier * uVol[t] * Math.sqrt(h);
      sigma[t] = s;
      if (opensSession[t] && !session.continuous) logP += gapSd * sigmaDay * reg.volMultiplier * r.normal();
      const o = logP;
      const z = rho * factor[t] + idio * shock(r);
      zPrev = z;
      let jump = 0;
      if (r.uniform() < reg.jumpsPerDay / barsPerDay) jump = jumpSize * sigmaBar * r.normal();
      const ret = (reg.driftAnnual - (s * s) / (2 * dtYears)) * dtYears + s * z + jump;
      // Intrabar path: four steps whose sum is the bar return, plus a small wick beyond the extremes.
      let hi = o;
      let lo = o;
      let p = o;
      const w = [r.normal(), r.normal(), r.normal(), r.normal()];
      const mean = (w[0] + w[1] + w[2] + w[3]) / 4;
      for (let k = 0; k < 4; k++) {
        p += ret / 4 + (w[k] - mean) * s * 0.5;
        if (p > hi) hi = p;
        if (p < lo) lo = p;
      }
      logP = o + ret;
      hi += Math.abs(r.normal()) * s * 0.15;
      lo -= Math.abs(r.normal()) * s * 0.15;
      open[t] = roundTo(Math.exp(o), tick);
      close[t] = roundTo(Math.exp(logP), tick);
      high[t] = Math.max(roundTo(Math.exp(hi), tick), open[t], close[t]);
      low[t] = Math.max(tick, Math.min(roundTo(Math.exp(lo), tick), open[t], close[t]));
      const activity = 1 + 0.8 * Math.abs(z) + (jump !== 0 ? 3 : 0);
      volume[t] = roundTo(meanVolume * uVolume[t] * reg.volumeMultiplier * activity * Math.exp(0.35 * r.normal() - 0.06) / 1.64, volStep);
    }
    const out: SyntheticSeries = { symbol: spec.symbol, ts, open, high, low, close, volume, regime, sigma };
    return opts.missingBarProbability ? dropBars(out, opts.missingBarProbability, r.fork('missing')) : out;
  });
  return { series, regimeNames: regimes.map((x) => x.name), barMs: opts.barMs };
}

function dropBars(s: SyntheticSeries, p: number, rng: Rng): SyntheticSeries {
  const keep: number[] = [];
  for (let i = 0; i < s.ts.length; i++) if (i === 0 || rng.uniform() >= p) keep.push(i);
  const pick = <T extends Float64Array | Int8Array>(a: T): T => {
    const r = new (a.constructor as new (n: number) => T)(keep.length);
    keep.forEach((k, j) => (r[j] = a[k]));
    return r;
  };
  return { symbol: s.symbol, ts: pick(s.ts), open: pick(s.open), high: pick(s.high), low: pick(s.low), close: pick(s.close), volume: pick(s.volume),
    regime: pick(s.regime), sigma: pick(s.sigma) };
}
