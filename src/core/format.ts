/**
 * Rounding for tables and recorded numbers (notebooks, reports): one definition of each, so that
 * a notebook's table and its `record(...)` values round the same way everywhere.
 *
 * Rounding is JavaScript's `toFixed` / `toPrecision` (round half away from zero on the decimal
 * string of the double, so `roundTo(1.005, 2)` is 1 because 1.005 is stored as 1.00499...).
 */

/**
 * `x` rounded to `digits` decimals, as a number; null for NaN and infinities (a table cell or a
 * JSON value without a number).
 * @param digits - decimals, 0..100 (`toFixed`'s range).
 * @throws RangeError for digits outside 0..100 (from `toFixed`).
 * @example roundTo(3.14159, 2); // 3.14
 * @example roundTo(NaN, 2); // null
 */
export function roundTo(x: number, digits: number): number | null {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : null;
}

/**
 * `x` rounded to `digits` significant digits, as a number; null for NaN and infinities.
 * @param digits - significant digits, 1..100 (`toPrecision`'s range).
 * @throws RangeError for digits outside 1..100 (from `toPrecision`).
 * @example roundSignificant(0.000123456, 4); // 0.0001235
 */
export function roundSignificant(x: number, digits: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : null;
}

/**
 * A fraction in basis points (x 10,000), rounded to `digits` decimals (default 2). NaN stays NaN
 * (an undefined score shows as NaN, not as a number).
 * @example basisPoints(0.012345); // 123.45
 */
export function basisPoints(x: number, digits = 2): number {
  return Number((x * 1e4).toFixed(digits));
}

/**
 * A value that is already a percentage, as text with `digits` decimals (default 2) and a `%` sign.
 * @example percentText(12.3456); // '12.35%'
 */
export function percentText(x: number, digits = 2): string {
  return `${x.toFixed(digits)}%`;
}
