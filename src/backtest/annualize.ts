/**
 * Periods per year from the bar spacing and the trading calendar.
 *
 * - `usEquity`: 252 trading days of 390 regular-session minutes (98,280 one-minute bars);
 * - `24x7`: 365 days of 24 hours (525,600 one-minute bars, 8,760 hourly bars).
 *
 * Bars at least one session long and at most a day apart are one bar per trading day
 * (daily stock bars: 252, not 252 x 390 / 1440 = 68.25); bars more than a day apart
 * count calendar time (weekly bars: 365.25 / 7 = 52.18 a year).
 */
import { ConfigError } from '../core/errors';
import { DAY_MS, MINUTE_MS } from '../data/interval';

/** A trading calendar for annualisation. */
export type Calendar = 'usEquity' | '24x7' | { tradingDaysPerYear: number; sessionMinutes: number };

/**
 * Bars per year for bars `barMs` apart under a calendar.
 *
 * Formula, with `session = sessionMinutes * 60000`:
 * - intraday bars (`barMs < session`): `tradingDaysPerYear * session / barMs`;
 * - one bar per session (`session <= barMs <= 1 day`): `tradingDaysPerYear`;
 * - coarser bars (`barMs > 1 day`): `365.25 days / barMs`.
 * @throws ConfigError for a non-positive bar spacing or calendar field.
 * @example
 * periodsPerYear(60_000, 'usEquity');     // 98280
 * periodsPerYear(300_000, '24x7');        // 105120
 * periodsPerYear(86_400_000, 'usEquity'); // 252 (daily bars)
 * periodsPerYear(86_400_000, '24x7');     // 365
 */
export function periodsPerYear(barMs: number, calendar: Calendar): number {
  if (!(barMs > 0)) throw new ConfigError('bar spacing must be positive to annualise', { key: 'barMs', value: barMs });
  const c = calendar === 'usEquity' ? { tradingDaysPerYear: 252, sessionMinutes: 390 } : calendar === '24x7' ? { tradingDaysPerYear: 365, sessionMinutes: 1440 } : calendar;
  if (!(c.tradingDaysPerYear > 0) || !(c.sessionMinutes > 0)) throw new ConfigError('calendar needs positive tradingDaysPerYear and sessionMinutes', { key: 'calendar', value: c });
  const sessionMs = c.sessionMinutes * MINUTE_MS;
  if (barMs < sessionMs) return (c.tradingDaysPerYear * sessionMs) / barMs;
  if (barMs <= DAY_MS) return c.tradingDaysPerYear;
  return (365.25 * DAY_MS) / barMs;
}
