/**
 * Wilson score interval for a binomial proportion.
 */

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of `successes` out of `n` trials.
 *
 * With `p = successes / n`: centre `(p + z^2 / 2n) / (1 + z^2 / n)`, half-width
 * `z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)` (Wilson 1927). Unlike the
 * normal (Wald) interval it stays inside [0, 1] and has a non-zero width at
 * p = 0 or 1. An empty sample (n = 0) has no interval: `[NaN, NaN]`.
 *
 * @param successes - number of outcomes equal to 1 (0..n).
 * @param n - number of trials.
 * @param z - normal quantile; default {@link Z95} (95%).
 * @returns `[low, high]`.
 * @example
 * wilsonInterval(8, 10); // [0.4901624, 0.9433178] (approximately)
 */
export function wilsonInterval(successes: number, n: number, z: number = Z95): [number, number] {
  if (n <= 0) return [NaN, NaN];
  const p = successes / n;
  const z2n = (z * z) / n;
  const denom = 1 + z2n;
  const centre = (p + z2n / 2) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / denom;
  // Rounding can push the ends a hair past 0 or 1 at p = 0 or 1.
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
