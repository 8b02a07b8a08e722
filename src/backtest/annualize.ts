/**
 * Periods per year from the bar spacing and the trading calendar.
 *
 * - `usEquity`: 252 trading days of 390 regular-session minutes (98,280 one-minute bars);
 * - `24x7`: 365 days of 24 hours (525,600 one-minute bars, 8,760 hourly bars).
 */
import { ConfigError } from '../core/errors';
import { MINUTE_MS } from '../data/interval';

/** A trading calendar for annualisation. */
export type Calendar = 'usEquity' | '24x7' | { tradingDaysPerYear: number; sessionMinutes: number };

/**
 * Bars per year for bars `barMs` apart under a calendar.
 *
 * Formula: `tradingDaysPerYear * sessionMinutes * 60000 / barMs`.
 * @throws ConfigError for a non-positive bar spacing or calendar field.
 * @example
 * periodsPerYear(60_000, 'usEquity'); // 98280
 * periodsPerYear(300_000, '24x7');    // 105120
 */
export function periodsPerYear(barMs: number, calendar: Calendar): number {
  if (!(barMs > 0)) throw new ConfigError('bar spacing must be positive to annualise', { key: 'barMs', value: barMs });
  const c = calendar === 'usEquity' ? { tradingDaysPerYear: 252, sessionMinutes: 390 } : calendar === '24x7' ? { tradingDaysPerYear: 365, sessionMinutes: 1440 } : calendar;
  if (!(c.tradingDaysPerYear > 0) || !(c.sessionMinutes > 0)) throw new ConfigError('calendar needs positive tradingDaysPerYear and sessionMinutes', { key: 'calendar', value: c });
  return (c.tradingDaysPerYear * c.sessionMinutes * MINUTE_MS) / barMs;
}
