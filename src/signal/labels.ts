/**
 * Labels of the signal model, each with the bars it spans so that training rows whose label
 * reaches into a test block can be purged (López de Prado 2018, "Advances in Financial Machine
 * Learning", ch. 3 and 7).
 */
import { ConfigError } from '../core/errors';

/** Binary labels (1, 0, NaN where the future is not known) and where each one ends. */
export interface Labels {
  /** 1: the trade paid; 0: it did not; NaN: not enough future bars. */
  y: Float64Array;
  /** Index of the last bar the label at t looks at (t itself when there is no label). */
  end: Int32Array;
  /** Return realised by the label's trade (log, net of `cost` for the sign label; at the barrier or time limit for triple barrier). */
  ret: Float64Array;
}

/**
 * Sign of the forward log return net of costs: y_t = 1 when log(close_{t+h} / close_t) > cost,
 * 0 otherwise (a long entered at t's close and left h bars later would not have paid); the last
 * h bars get NaN.
 * @param cost - round-trip cost as a log return (e.g. 0.001 for 10 bp), default 0.
 * @throws ConfigError for a horizon below 1 or a negative cost.
 * @example forwardReturnLabels(new Float64Array([100, 101, 99]), 1).y // Float64Array [1, 0, NaN]
 */
export function forwardReturnLabels(close: Float64Array, horizon: number, cost = 0): Labels {
  if (!Number.isInteger(horizon) || horizon < 1) throw new ConfigError('horizon must be a positive integer', { key: 'horizon', value: horizon });
  if (!(cost >= 0)) throw new ConfigError('cost must be >= 0', { key: 'cost', value: cost });
  const n = close.length;
  const y = new Float64Array(n).fill(NaN);
  const ret = new Float64Array(n).fill(NaN);
  const end = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    end[t] = t;
    if (t + horizon >= n) continue;
    const r = Math.log(close[t + horizon]! / close[t]!) - cost;
    ret[t] = r;
    y[t] = r > 0 ? 1 : 0;
    end[t] = t + horizon;
  }
  return { y, end, ret };
}

/** Options of {@link tripleBarrierLabels}. */
export interface TripleBarrierOptions {
  /** Time limit in bars (the vertical barrier). */
  horizon: number;
  /** Take-profit distance as a multiple of `scale` (default 1). */
  takeProfit?: number;
  /** Stop distance as a multiple of `scale` (default 1). */
  stopLoss?: number;
  /** Barrier unit per bar, as a log return (e.g. realised volatility times sqrt(horizon)); NaN gives no label. */
  scale: Float64Array;
}

/** Triple-barrier labels plus which barrier each one touched. */
export interface TripleBarrierLabels extends Labels {
  /** +1 take-profit, -1 stop, 0 time limit, NaN no label. */
  barrier: Float64Array;
  /** Bars where high and low crossed both barriers (counted as the stop: the bar's path is unknown). */
  ambiguous: number;
}

/**
 * Triple-barrier labels of a long entered at close_t: take-profit at close_t * exp(tp * scale_t),
 * stop at close_t * exp(-sl * scale_t), time limit t + horizon. The first barrier that bar
 * t+1..t+h's high or low touches decides: take-profit y = 1, stop y = 0; at the time limit
 * y = 1 when the return is positive. A bar touching both counts as the stop (conservative),
 * and their number is reported. `end` is the bar where the label resolved: purge with it.
 * @throws ConfigError for a bad horizon or barrier multiple; lengths must match.
 * @example tripleBarrierLabels(high, low, close, { horizon: 24, scale: rvol.map((v) => v * Math.sqrt(24)) }).y
 */
export function tripleBarrierLabels(high: Float64Array, low: Float64Array, close: Float64Array, opts: TripleBarrierOptions): TripleBarrierLabels {
  const h = opts.horizon;
  const tp = opts.takeProfit ?? 1;
  const sl = opts.stopLoss ?? 1;
  if (!Number.isInteger(h) || h < 1) throw new ConfigError('horizon must be a positive integer', { key: 'horizon', value: h });
  if (!(tp > 0) || !(sl > 0)) throw new ConfigError('takeProfit and stopLoss must be positive', { key: 'takeProfit', value: { tp, sl } });
  const n = close.length;
  if (high.length !== n || low.length !== n || opts.scale.length !== n) throw new ConfigError('high, low, close and scale must have the same length', { key: 'scale', value: opts.scale.length });
  const y = new Float64Array(n).fill(NaN);
  const ret = new Float64Array(n).fill(NaN);
  const barrier = new Float64Array(n).fill(NaN);
  const end = new Int32Array(n);
  let ambiguous = 0;
  for (let t = 0; t < n; t++) {
    end[t] = t;
    const s = opts.scale[t]!;
    if (t + h >= n || !(s > 0)) continue;
    const c = close[t]!;
    const up = c * Math.exp(tp * s);
    const down = c * Math.exp(-sl * s);
    let done = false;
    for (let u = t + 1; u <= t + h; u++) {
      const hitUp = high[u]! >= up;
      const hitDown = low[u]! <= down;
      if (hitDown) {
        if (hitUp) ambiguous++;
        y[t] = 0;
        barrier[t] = -1;
        ret[t] = -sl * s;
      } else if (hitUp) {
        y[t] = 1;
        barrier[t] = 1;
        ret[t] = tp * s;
      } else {
        continue;
      }
      end[t] = u;
      done = true;
      break;
    }
    if (!done) {
      const r = Math.log(close[t + h]! / c);
      y[t] = r > 0 ? 1 : 0;
      barrier[t] = 0;
      ret[t] = r;
      end[t] = t + h;
    }
  }
  return { y, end, ret, barrier, ambiguous };
}
