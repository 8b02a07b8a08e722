/**
 * Log loss (negative mean log-likelihood) of binary forecasts.
 */
import { ConfigError } from '../core/errors';
import { checkBinaryForecasts, type InputNames, type Numbers } from './validate';

/**
 * Default clip of {@link logLoss}: forecasts are moved into [1e-15, 1 - 1e-15],
 * scikit-learn's long-standing default. A forecast of exactly 0 for an event
 * that happens then costs `-ln(1e-15) = 34.5` nats instead of infinity.
 */
export const LOG_LOSS_CLIP = 1e-15;

/** Options of {@link logLoss}. */
export interface LogLossOptions {
  /** Forecasts are clipped to [clip, 1 - clip] before the log; default {@link LOG_LOSS_CLIP}. */
  clip?: number;
  /** Names for error messages. */
  names?: InputNames;
}

/**
 * Log loss in nats: `LL = -(1/N) sum_i [y_i ln q_i + (1 - y_i) ln(1 - q_i)]`
 * with `q_i = min(max(p_i, clip), 1 - clip)`.
 *
 * The clip exists because a confident miss (p = 0, y = 1) has infinite loss;
 * {@link logLossClippedCount} says how many forecasts it touched.
 *
 * @param p - forecast probabilities in [0, 1].
 * @param y - outcomes, 0 or 1.
 * @param options - `clip` (default 1e-15, must be in [0, 0.5)).
 * @throws DataError for bad probabilities or outcomes, different lengths or no points.
 * @throws ConfigError for a clip outside [0, 0.5).
 * @example
 * logLoss([0.8, 0.4], [1, 0]); // 0.3669845 = -(ln 0.8 + ln 0.6) / 2
 */
export function logLoss(p: Numbers, y: Numbers, options: LogLossOptions = {}): number {
  const clip = checkClip(options.clip);
  checkBinaryForecasts(p, y, options.names);
  const lo = clip;
  const hi = 1 - clip;
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    let q = p[i];
    if (q < lo) q = lo;
    else if (q > hi) q = hi;
    s += y[i] === 1 ? Math.log(q) : Math.log1p(-q);
  }
  return -s / p.length;
}

/**
 * Number of forecasts that the log-loss clip changes (`p < clip` or `p > 1 - clip`).
 * @example
 * logLossClippedCount([0, 0.5, 1]); // 2
 */
export function logLossClippedCount(p: Numbers, clip: number = LOG_LOSS_CLIP): number {
  checkClip(clip);
  let k = 0;
  for (let i = 0; i < p.length; i++) if (p[i] < clip || p[i] > 1 - clip) k++;
  return k;
}

function checkClip(clip: number | undefined): number {
  const c = clip ?? LOG_LOSS_CLIP;
  if (!(c >= 0 && c < 0.5)) throw new ConfigError('log-loss clip must be in [0, 0.5)', { key: 'clip', value: c });
  return c;
}
