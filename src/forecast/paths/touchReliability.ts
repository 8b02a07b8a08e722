/**
 * Reliability of predicted VWAP-touch probabilities on recorded bars: at origins every `every`
 * bars, the outlook's P(touch the session VWAP within H bars) against whether the realised
 * highs and lows of the next H bars touched it (the same rule as the path statistics: a VWAP
 * above the current close is touched when a high reaches it, one below when a low does).
 */
import { reliabilityTable, type ReliabilityTable } from '../../calibration/reliability';
import type { BarArrays } from '../../data/bars';
import type { SessionLike } from '../../data/sessions';
import type { Forecaster } from '../types';
import { forecastOutlook } from './pathOutlook';
import { prepareOutlook } from './prepare';

/** Options of {@link vwapTouchReliability}. */
export interface TouchReliabilityOptions {
  barMs: number;
  session: SessionLike;
  horizon: number;
  every: number;
  samples: number;
  /** Context bars (default 240). */
  lookback?: number;
  seed?: number;
  /** Reliability bins (default 5, equal width). */
  bins?: number;
  /** Highs and lows of closes-only paths (default `bridge`). */
  intrabar?: 'bridge' | 'none';
}

/** Predictions, outcomes and their reliability table. */
export interface TouchReliability {
  predicted: Float64Array;
  observed: Float64Array;
  table: ReliabilityTable;
  /** Origins skipped: VWAP undefined, or a gap in the next H bars. */
  skipped: number;
}

/**
 * Walks the bars, forecasts the outlook at each origin from bars up to it only, and tabulates
 * predicted P(touch VWAP) against realised touches.
 * @throws ModelError / DataError from the outlook; ConfigError from the reliability table (no origins).
 * @example (await vwapTouchReliability(bars, createNamedForecaster('ewma'), { barMs: 60_000, session: '24x7', horizon: 30, every: 120, samples: 200
 * })).table.observed
 */
export async function vwapTouchReliability(bars: BarArrays, forecaster: Forecaster, opts: TouchReliabilityOptions): Promise<TouchReliability> {
  const L = opts.lookback ?? 240;
  const H = opts.horizon;
  const p: number[] = [];
  const y: number[] = [];
  let skipped = 0;
  const n = bars.ts.length;
  // enough history for the context and three sessions of features (VWAP, bands)
  const history = L + 3 * Math.ceil(86_400_000 / opts.barMs);
  for (let t = L; t + H < n; t += opts.every) {
    let contiguous = true;
    for (let k = 1; k <= H; k++) if (bars.ts[t + k] - bars.ts[t + k - 1] !== opts.barMs) contiguous = false;
    if (!contiguous) {
      skipped++;
      continue;
    }
    const from = Math.max(0, t + 1 - history);
    const cut = (x: Float64Array) => x.subarray(from, t + 1);
    const past: BarArrays = { ts: cut(bars.ts), open: cut(bars.open), high: cut(bars.high), low: cut(bars.low), close: cut(bars.close),
      volume: cut(bars.volume) };
    const prepared = prepareOutlook(past, { barMs: opts.barMs, session: opts.session, lookback: L, contextLength: forecaster.info.contextLength });
    const o = await forecastOutlook(forecaster, prepared, { horizon: H, samples: opts.samples, seed: (opts.seed ?? 0) + t, session: opts.session,
      intrabar: opts.intrabar });
    if (o.pHitVwap === null) {
      skipped++;
      continue;
    }
    const vwap = prepared.vwap;
    const c = prepared.current.close;
    let touched = vwap === c;
    for (let k = 1; k <= H && !touched; k++) touched = vwap > c ? bars.high[t + k] >= vwap : bars.low[t + k] <= vwap;
    p.push(o.pHitVwap);
    y.push(touched ? 1 : 0);
  }
  const predicted = Float64Array.from(p);
  const observed = Float64Array.from(y);
  return { predicted, observed, table: reliabilityTable(predicted, observed, { bins: opts.bins ?? 5 }), skipped };
}
