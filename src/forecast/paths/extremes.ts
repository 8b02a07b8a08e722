/**
 * Intrabar highs and lows for forecasters that sample closes only: a Brownian bridge per
 * forecast step between the step's sampled closes, its volatility the forecast's own step
 * volatility times a scale kappa calibrated on the context bars' highs and lows.
 *
 * In log prices, a Brownian bridge from a to b with variance s^2 over the bar has its maximum
 * M above max(a, b) with P(M > m) = exp(-2 (m - a)(m - b) / s^2), so M = (a + b + sqrt((b - a)^2
 * - 2 s^2 log U)) / 2 for U uniform, and the minimum likewise with a minus sign (Karatzas and
 * Shreve 1991; the usual bridge correction of barrier-option Monte Carlo).
 *
 * Calibration: for every context bar with its previous close, high and low observed, the
 * excursions log(high) - max(a, b) and min(a, b) - log(low) (0 when the bar opened beyond its
 * high or low side) are compared with bridge excursions drawn with s = kappa * r, r the RMS of
 * the context's one-bar log returns, on fixed seeded uniforms; kappa solves mean(simulated) =
 * mean(observed) by bisection (the mean is increasing in kappa). Flat markets (many bars with
 * high = low = close) thus get a small kappa. Forecast: s_h = kappa * (standard deviation over
 * paths of the step-h log return).
 */
import { Rng } from '../../core/random';
import type { PricePaths } from './pricePaths';

/** The calibrated bridge scale and what it was calibrated on. */
export interface BridgeCalibration {
  /** Bridge volatility over one-bar return volatility. */
  kappa: number;
  /** Context bars used. */
  bars: number;
  /** Mean observed excursion (up and down averaged), log units. */
  observedMeanExcursion: number;
}

/**
 * Calibrates the bridge scale on a context's closes, highs and lows (aligned; NaN = missing).
 * @example calibrateBridge(close, high, low).kappa // e.g. 0.8
 */
export function calibrateBridge(close: Float64Array, high: Float64Array, low: Float64Array, seed = 0): BridgeCalibration {
  const d: number[] = [];
  const obs: number[] = [];
  let sumSq = 0;
  let nRet = 0;
  for (let i = 1; i < close.length; i++) {
    const c0 = close[i - 1];
    const c1 = close[i];
    if (!(c0 > 0 && c1 > 0)) continue;
    const r = Math.log(c1 / c0);
    sumSq += r * r;
    nRet++;
    const h = high[i];
    const l = low[i];
    if (!(h > 0 && l > 0 && h >= l)) continue;
    const top = Math.max(Math.log(c0), Math.log(c1));
    const bottom = Math.min(Math.log(c0), Math.log(c1));
    d.push(Math.abs(r));
    obs.push((Math.max(0, Math.log(h) - top) + Math.max(0, bottom - Math.log(l))) / 2);
  }
  const rms = nRet > 0 ? Math.sqrt(sumSq / nRet) : 0;
  const n = d.length;
  const observed = n > 0 ? obs.reduce((a, b) => a + b, 0) / n : 0;
  if (n === 0 || !(rms > 0) || !(observed > 0)) return { kappa: 0, bars: n, observedMeanExcursion: observed };
  const rng = new Rng(seed);
  const logU = Float64Array.from({ length: 2 * n }, () => Math.log(rng.uniformOpen()));
  const simulated = (kappa: number) => {
    const s2 = (kappa * rms) ** 2;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const dd = d[i] * d[i];
      sum += (Math.sqrt(dd - 2 * s2 * logU[2 * i]) - d[i] + Math.sqrt(dd - 2 * s2 * logU[2 * i + 1]) - d[i]) / 4;
    }
    return sum / n;
  };
  let lo = 0;
  let hi = 1;
  while (simulated(hi) < observed && hi < 1e3) hi *= 2;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (simulated(mid) < observed) lo = mid;
    else hi = mid;
  }
  return { kappa: (lo + hi) / 2, bars: n, observedMeanExcursion: observed };
}

/**
 * Highs and lows of every path and step by the Brownian bridge (module doc), from the last
 * close `entry` and the calibrated `kappa`. low <= close <= high always holds.
 * @example bridgeExtremes(paths, 100, 0.8, new Rng(1)).high.length // paths.n * paths.horizon
 */
export function bridgeExtremes(paths: PricePaths, entry: number, kappa: number, rng: Rng): { high: Float64Array; low: Float64Array } {
  const { n, horizon: H, close } = paths;
  const high = new Float64Array(n * H);
  const low = new Float64Array(n * H);
  for (let h = 0; h < H; h++) {
    // forecast step volatility: std over paths of the step's log return
    let s = 0;
    let ss = 0;
    for (let j = 0; j < n; j++) {
      const r = Math.log(close[j * H + h] / (h === 0 ? entry : close[j * H + h - 1]));
      s += r;
      ss += r * r;
    }
    const mean = s / n;
    const sd = n > 1 ? Math.sqrt(Math.max(0, (ss - n * mean * mean) / (n - 1))) : 0;
    const s2 = (kappa * sd) ** 2;
    for (let j = 0; j < n; j++) {
      const a = Math.log(h === 0 ? entry : close[j * H + h - 1]);
      const b = Math.log(close[j * H + h]);
      const dd = (b - a) * (b - a);
      const up = (a + b + Math.sqrt(dd - 2 * s2 * Math.log(rng.uniformOpen()))) / 2;
      const dn = (a + b - Math.sqrt(dd - 2 * s2 * Math.log(rng.uniformOpen()))) / 2;
      const c = close[j * H + h];
      high[j * H + h] = Math.max(c, Math.exp(up));
      low[j * H + h] = Math.min(c, Math.exp(dn));
    }
  }
  return { high, low };
}
