/**
 * When the forecast steps happen: the open times of the next H bars on the
 * session's bar grid, skipping lunch breaks, nights, weekends and holidays.
 */
import { ConfigError, ModelError } from '../../core/errors';
import { DAY_MS } from '../../data/interval';
import { asCompiled, sessionIndex, sessionTimestamps, type CompiledSession, type SessionLike } from '../../data/sessions';

/**
 * Open times (ms UTC) of the H bars after the bar that opened at `lastOpenMs`, on the session's
 * grid (`windowStart + k * barMs`; continuous markets: multiples of `barMs`).
 * @throws ConfigError for a bad horizon or bar length; ModelError when the calendar has fewer
 *   than H bars in the next year (a session spec without trading days).
 * @example forecastStepTimes(Date.parse('2024-08-29T03:25:00Z'), 2, 300_000, 'cn-a') // 05:00 and 05:05 UTC (13:00, 13:05 Shanghai, after lunch)
 */
export function forecastStepTimes(lastOpenMs: number, horizon: number, barMs: number, session: SessionLike | CompiledSession): Float64Array {
  if (!Number.isInteger(horizon) || horizon < 1) throw new ConfigError('horizon must be a positive integer', { key: 'horizon', value: horizon });
  if (!(barMs > 0)) throw new ConfigError('bar length must be positive', { key: 'barMs', value: barMs });
  const s = asCompiled(session);
  const start = lastOpenMs + barMs;
  // Enough calendar time for H bars plus a long weekend; doubled until the grid has H bars.
  for (let span = horizon * barMs + 5 * DAY_MS; span <= 400 * DAY_MS + horizon * barMs; span *= 2) {
    const ts = sessionTimestamps(s, start, start + span, barMs);
    if (ts.length >= horizon) return ts.slice(0, horizon);
  }
  throw new ModelError(`session ${s.spec.name} has fewer than ${horizon} bars in the year after the last bar`, { key: 'session' });
}

/**
 * Checks forecast step times: H of them, strictly increasing, all after the last bar's open.
 * @throws ModelError naming the first bad step.
 * @example validateStepTimes(Float64Array.of(2, 1), 0, 2) // throws: step 2 is not after step 1
 */
export function validateStepTimes(stepTimes: Float64Array, lastOpenMs: number, horizon: number): void {
  if (stepTimes.length !== horizon) throw new ModelError(`${stepTimes.length} step times for a horizon of ${horizon}`, { key: 'stepTimes', value: stepTimes.length });
  let prev = lastOpenMs;
  for (let h = 0; h < horizon; h++) {
    const t = stepTimes[h];
    if (!Number.isFinite(t) || !(t > prev)) {
      throw new ModelError(`forecast step ${h + 1} at ${Number.isFinite(t) ? new Date(t).toISOString() : t} is not after ${h === 0 ? 'the last bar' : `step ${h}`}`, { key: 'stepTimes', row: h, value: t });
    }
    prev = t;
  }
}

/**
 * Session breaks between consecutive bar open times (lunch, night, weekend, holiday): [end of the
 * earlier bar, open of the later) wherever the two bars sit in different trading windows. Gaps
 * inside one window (missing bars) and continuous markets give none. For hiding empty time on charts.
 * @example sessionBreaks(Float64Array.of(Date.parse('2024-08-29T03:25:00Z'), Date.parse('2024-08-29T05:00:00Z')), 300_000, 'cn-a') // [[03:30, 05:00]] (the
 * lunch break)
 */
export function sessionBreaks(ts: Float64Array, barMs: number, session: SessionLike | CompiledSession): [number, number][] {
  const s = asCompiled(session);
  if (s.continuous) return [];
  const { windowStart } = sessionIndex(ts, s);
  const out: [number, number][] = [];
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > barMs && windowStart[i] !== windowStart[i - 1]) out.push([ts[i - 1] + barMs, ts[i]]);
  }
  return out;
}
