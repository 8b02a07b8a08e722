/**
 * A synthetic funding-rate series for a simulated perpetual.
 */
import { Rng } from '../../core/random';
import { ConfigError } from '../../core/errors';
import type { FundingArrays } from '../load/funding';
import { HOUR_MS } from '../interval';
import type { SyntheticSeries } from './market';

/** Options of {@link simulateFunding}. */
export interface SyntheticFundingOptions {
  seed: number;
  /** Funding period; default 8 h (funding at 00:00, 08:00, 16:00 UTC). */
  periodMs?: number;
  /** Base rate per period; default 0.0001 (1 bp, the usual exchange default). */
  baseRate?: number;
  /** Rate added per unit of the perpetual's log return over the period (premium chasing the trend); default 0.01. */
  trendSensitivity?: number;
  /** Standard deviation of rate noise; default 0.00005. */
  noise?: number;
  /** Exchange cap on the absolute rate; default 0.0075. */
  cap?: number;
}

/**
 * Funding times within the perpetual's span, each rate built from the log return of the perp's
 * close over the preceding period:
 *   rate = clamp(base + k * ln(C_t / C_{t-period}) + N(0, noise^2), -cap, cap), rounded to 1e-6.
 * Positive: longs pay shorts.
 * @throws ConfigError for a non-positive period or an empty perp series.
 * @example simulateFunding(perp, { seed: 3 }).rate.length // 3 per day of perp bars
 */
export function simulateFunding(perp: SyntheticSeries, opts: SyntheticFundingOptions): FundingArrays {
  const period = opts.periodMs ?? 8 * HOUR_MS;
  if (!(period > 0)) throw new ConfigError('periodMs must be positive', { key: 'periodMs', value: period });
  if (perp.ts.length === 0) throw new ConfigError('perpetual series is empty', { symbol: perp.symbol });
  const base = opts.baseRate ?? 0.0001;
  const k = opts.trendSensitivity ?? 0.01;
  const noise = opts.noise ?? 0.00005;
  const cap = opts.cap ?? 0.0075;
  const rng = new Rng(opts.seed);
  const first = Math.ceil((perp.ts[0] + period) / period) * period;
  const last = perp.ts[perp.ts.length - 1];
  const ts: number[] = [];
  const rate: number[] = [];
  let j = 0; // last bar with ts < funding time
  let prevClose = Number.NaN;
  // Close just before a time t: the bar that opened before t.
  const closeBefore = (t: number): number => {
    while (j + 1 < perp.ts.length && perp.ts[j + 1] < t) j++;
    return perp.close[j];
  };
  prevClose = closeBefore(first - period);
  for (let t = first; t <= last; t += period) {
    const c = closeBefore(t);
    const raw = base + k * Math.log(c / prevClose) + noise * rng.normal();
    ts.push(t);
    rate.push(Math.round(Math.max(-cap, Math.min(cap, raw)) * 1e6) / 1e6);
    prevClose = c;
  }
  return { ts: Float64Array.from(ts), rate: Float64Array.from(rate) };
}
