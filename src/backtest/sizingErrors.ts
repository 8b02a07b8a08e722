/**
 * The errors of the sizing's inputs at a bar (an infinite target, a bad probability or payoff, an
 * unusable forecast), each a DataError naming symbol, bar, column and value. Made only on the
 * path that throws: the decision's loops (sizing.ts) test the inputs inline.
 */
import { DataError } from '../core/errors';

/**
 * The error of an infinite target (`signals.target`) of `symbol` at bar t, for a `throw` in the
 * decision's loops (a throw ends its path; a call that throws would join the loop again). NaN is
 * no error (it holds the position).
 * @returns a DataError naming the symbol, the bar (row), the column `target` and the value.
 * @example
 * if (v - v !== 0 && v === v) throw targetError(symbols[s], t, v);
 */
export function targetError(symbol: string, t: number, v: number): DataError {
  return new DataError('target is infinite (NaN holds the position; give a finite weight or quantity)', { symbol, row: t, column: 'target', value: v });
}

/**
 * Throws the error of the probability sizing's inputs at bar t: a probability of a win `p` outside
 * [0, 1] (column `pWin`), else a payoff ratio `b` that is not positive and finite (column `payoff`).
 * @throws DataError naming the symbol, the bar (row), the column and the value.
 * @example
 * if (!(pw >= 0 && pw <= 1) || !(b > 0 && b < Infinity)) badProbability(symbols[s], t, pw, b);
 */
export function badProbability(symbol: string, t: number, p: number, b: number): never {
  const bad = !(p >= 0 && p <= 1);
  throw new DataError(bad ? 'probability of a win must be in [0, 1]' : 'payoff ratio must be positive and finite', { symbol, row: t, column: bad ? 'pWin' : 'payoff', value: bad ? p : b });
}

/**
 * The error of an unusable forecast, for a `throw` in the loop (a throw ends its path; a call that throws would join the loop again):
 * a forecast whose mu is NaN or infinite (column `mu`), else whose sigma is NaN, infinite or negative (column `sigma`).
 * @returns a DataError naming the symbol, the bar (row), the column and the value.
 * @example
 * if (!usableForecast(m0, sg0)) throw forecastError(symbols[s0], t, m0, sg0);
 */
export function forecastError(symbol: string, t: number, mu: number, sigma: number): DataError {
  return new DataError('forecast is NaN, infinite or has negative sigma', { symbol, row: t, column: mu === mu ? 'sigma' : 'mu', value: mu === mu ? sigma : mu });
}
