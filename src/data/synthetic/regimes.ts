/**
 * Market regimes of the synthetic generator: a Markov chain over named states,
 * each with its own drift, volatility level, jump rate and volume level.
 */
import type { Rng } from '../../core/random';

/** One regime. Rates are per year / per day of trading time so they do not depend on the bar size. */
export interface RegimeSpec {
  name: string;
  /** Annualized log drift, e.g. 0.3 = +30 %/year while in this regime. */
  driftAnnual: number;
  /** Multiplies the symbol's base volatility. */
  volMultiplier: number;
  /** Expected jumps per trading day (per symbol). */
  jumpsPerDay: number;
  /** Multiplies traded volume. */
  volumeMultiplier: number;
  /** Mean time spent in the regime, in trading days (geometric durations). */
  meanDurationDays: number;
}

/**
 * Defaults: calm (label 0), trending up (1), trending down (2), turbulent (3). Turbulent spells are
 * short, volatile and jumpy; the trend regimes carry drift of either sign so a forecaster cannot
 * learn a free upward bias.
 */
export const DEFAULT_REGIMES: readonly RegimeSpec[] = [
  { name: 'calm', driftAnnual: 0.05, volMultiplier: 0.7, jumpsPerDay: 0.05, volumeMultiplier: 0.8, meanDurationDays: 4 },
  { name: 'trend-up', driftAnnual: 1.5, volMultiplier: 1.0, jumpsPerDay: 0.1, volumeMultiplier: 1.0, meanDurationDays: 2 },
  { name: 'trend-down', driftAnnual: -1.5, volMultiplier: 1.2, jumpsPerDay: 0.15, volumeMultiplier: 1.2, meanDurationDays: 2 },
  { name: 'turbulent', driftAnnual: 0, volMultiplier: 2.2, jumpsPerDay: 1.0, volumeMultiplier: 1.8, meanDurationDays: 1 },
];

/**
 * Simulates a regime path of `n` steps: leave the current regime with probability
 * `1 / (meanDurationDays * stepsPerDay)` per step, to one of the others chosen uniformly.
 * @returns regime index per step (Int8Array), starting from regime 0.
 * @example simulateRegimes(new Rng(1), DEFAULT_REGIMES, 1000, 390)[0] // 0
 */
export function simulateRegimes(rng: Rng, regimes: readonly RegimeSpec[], n: number, stepsPerDay: number): Int8Array {
  const out = new Int8Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && regimes.length > 1 && rng.uniform() < 1 / (regimes[k].meanDurationDays * stepsPerDay)) {
      const next = rng.int(regimes.length - 1);
      k = next >= k ? next + 1 : next;
    }
    out[i] = k;
  }
  return out;
}
