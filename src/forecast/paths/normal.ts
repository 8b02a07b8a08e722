/**
 * The standard normal distribution function, for the copula and the quantile
 * curves' tails (the inverse, `normalQuantile`, lives with the baselines).
 */

/**
 * Standard normal CDF Φ(x) = P(Z <= x), by Hart's rational approximation as given in
 * G. West, "Better approximations to cumulative normal functions" (2005): relative error
 * below 1e-8 over [-37, 37] (checked against `0.5 * erfc(-x / sqrt(2))`), 0 / 1 beyond.
 * Computed from the tail side, so `normalCdf(-x)` keeps its precision where `1 - normalCdf(x)`
 * would round to 0.
 * @example normalCdf(1.959963984540054) // 0.975
 */
export function normalCdf(x: number): number {
  const a = Math.abs(x);
  let tail: number;
  if (a > 37) tail = 0;
  else {
    const e = Math.exp(-0.5 * a * a);
    if (a < 7.07106781186547) {
      let num = 3.52624965998911e-2 * a + 0.700383064443688;
      num = num * a + 6.37396220353165;
      num = num * a + 33.912866078383;
      num = num * a + 112.079291497871;
      num = num * a + 221.213596169931;
      num = num * a + 220.206867912376;
      let den = 8.83883476483184e-2 * a + 1.75566716318264;
      den = den * a + 16.064177579207;
      den = den * a + 86.7807322029461;
      den = den * a + 296.564248779674;
      den = den * a + 637.333633378831;
      den = den * a + 793.826512519948;
      den = den * a + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/**
 * Standard normal density φ(x) = exp(-x^2 / 2) / sqrt(2 pi).
 * @example normalPdf(0) // 0.3989422804014327
 */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}
