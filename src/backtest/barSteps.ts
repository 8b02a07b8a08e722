/**
 * The optional steps of a bar (see the timeline at the top of engine.ts), each called by the bar
 * loop only when the run has it: funding of perpetuals (step 1), the entryExit rule's stops and
 * the bracket exits (step 3), the bracket levels given at a bar, and the backtesting.py
 * conventions' orders and fills (steps 5 and 2). Kernel code on the run's typed arrays.
 */
import { DataError } from '../core/errors';
import { REASON } from './ledger';
import { type RunSetup } from './runSetup';

/**
 * Funding of perpetuals whose funding time falls in (ts[t-1], ts[t]], priced at open[t] (the last
 * close without one): a position of q units pays `q * price * rate` (a negative amount is received).
 * @example
 * if (t > 0 && run.funding.length > 0) payFunding(run, t);
 */
export function payFunding(run: RunSetup, t: number): void {
  const { ts, open, S, ledger, lastPx, kill, symbols } = run;
  const q = ledger.qty;
  const time = ts[t];
  const base = t * S;
  for (const f of run.funding) {
    while (f.next < f.ts.length && f.ts[f.next] <= time) {
      const k = f.next++;
      if (f.ts[k] <= ts[t - 1]) continue;
      const s = f.symbol;
      if (q[s] !== 0) {
        const o = open[base + s];
        ledger.payFunding(s, q[s] * (o > 0 ? o : lastPx[s]) * f.rate[k]);
      }
      kill.onFunding(t, f.rate[k], symbols[s]);
    }
  }
}

/**
 * The entryExit rule's stop: a position whose bar range reaches the stop distance from its entry price closes at the stop, or at a worse open.
 * The stop distance `run.stopLoss` is a fraction of the entry price (a long's stop is `entry * (1 - stopLoss)`).
 * @example
 * if (run.stopLoss > 0) stopExits(run, t);
 */
export function stopExits(run: RunSetup, t: number): void {
  const { S, open, high, low, ledger, fillAtClose, stopLoss } = run;
  const q = ledger.qty;
  const base = t * S;
  for (let s = 0; s < S; s++) {
    const qs = q[s];
    if (qs === 0) continue;
    const entryBar = ledger.openEntryBar(s);
    if (entryBar > t || (entryBar === t && fillAtClose)) continue;
    const entryPx = ledger.openEntryPrice(s);
    const o = open[base + s];
    if (qs > 0) {
      const stop = entryPx * (1 - stopLoss);
      if (low[base + s] <= stop) ledger.fill(s, -qs, o <= stop ? o : stop, t, REASON.stop, t);
    } else {
      const stop = entryPx * (1 + stopLoss);
      if (high[base + s] >= stop) ledger.fill(s, -qs, o >= stop ? o : stop, t, REASON.stop, t);
    }
  }
}

/**
 * Brackets: stop-loss first, take-profit second, each at its level or at a worse (stop) /
 * better (take-profit) open when the bar gaps through it; a level touched by the open wins.
 * Levels are prices; a closed position tells the sizer (`Sizer.bracketExited`) and drops its levels.
 * @example
 * if (run.brackets) bracketExits(run, t);
 */
export function bracketExits(run: RunSetup, t: number): void {
  const { S, open, high, low, ledger, fillAtClose, sizer, slLevel, tpLevel } = run;
  const q = ledger.qty;
  const base = t * S;
  for (let s = 0; s < S; s++) {
    const qs = q[s];
    if (qs === 0) {
      slLevel[s] = NaN;
      tpLevel[s] = NaN;
      continue;
    }
    const sl = slLevel[s];
    const tp = tpLevel[s];
    if (sl !== sl && tp !== tp) continue;
    const entryBar = ledger.openEntryBar(s);
    if (entryBar > t || (entryBar === t && fillAtClose)) continue;
    const i = base + s;
    const o = open[i];
    if (!(o > 0)) continue;
    const px = bracketFill(qs > 0, o, high[i], low[i], sl, tp);
    if (px !== px) continue;
    const hitStop = sl === sl && (qs > 0 ? px <= sl : px >= sl);
    ledger.fill(s, -qs, px, t, hitStop ? REASON.stop : REASON.takeProfit, t);
    sizer.bracketExited(s);
    slLevel[s] = NaN;
    tpLevel[s] = NaN;
  }
}

/**
 * The bracket levels given at bar t (NaN keeps the level in force).
 * @example
 * if (run.brackets && t >= run.firstBar) bracketLevels(run, t);
 */
export function bracketLevels(run: RunSetup, t: number): void {
  const { S, slIn, tpIn, slLevel, tpLevel } = run;
  const base = t * S;
  for (let s = 0; s < S; s++) {
    const i = base + s;
    if (slIn !== null && slIn[i] === slIn[i]) slLevel[s] = slIn[i];
    if (tpIn !== null && tpIn[i] === tpIn[i]) tpLevel[s] = tpIn[i];
  }
}

// The backtesting.py conventions' two steps: `presetOrders` turns a changed target at bar t into
// an order for the next open (an unchanged target holds); `presetFills` fills them at bar t's open,
// first closing every position whose target changed, then opening each new one with
// floor(available * |w| / (open * (1 + slippage) * (1 + fee))) lots, where available is the equity
// at the open less the notional of the positions still held (backtesting.py's margin_available at margin 1).

/**
 * The preset's orders decided at bar t: a changed target (a weight of equity) becomes the order
 * for the next open; an unchanged or NaN target, or a symbol without a bar, gives none.
 * @throws DataError for an infinite target.
 * @example
 * if (t >= run.firstBar && t + 1 < run.T) presetOrders(run, t);
 */
export function presetOrders(run: RunSetup, t: number): void {
  const { S, goal, close, symbols, presetLast, presetWeight } = run;
  const base = t * S;
  for (let s = 0; s < S; s++) {
    const v = goal[base + s];
    if (v !== v || v === presetLast[s] || !(close[base + s] > 0)) continue;
    if (!(v > -Infinity && v < Infinity)) throw new DataError('target is infinite', { symbol: symbols[s], row: t, column: 'target', value: v });
    presetLast[s] = v;
    presetWeight[s] = v;
  }
}

/**
 * Fills the preset's orders at bar t's open; returns the number cancelled (no bar at t).
 * @example
 * cancelledOrders += presetFills(run, t);
 */
export function presetFills(run: RunSetup, t: number): number {
  const { S, open, ledger, presetWeight, lastPx, costs, lot } = run;
  const q = ledger.qty;
  const base = t * S;
  let cancelled = 0;
  for (let s = 0; s < S; s++) {
    if (presetWeight[s] !== presetWeight[s] || q[s] === 0) continue;
    const o = open[base + s];
    if (o > 0) ledger.fill(s, -q[s], o, t, REASON.signal, t - 1);
  }
  for (let s = 0; s < S; s++) {
    const w = presetWeight[s];
    if (w !== w) continue;
    presetWeight[s] = NaN;
    const o = open[base + s];
    if (!(o > 0)) {
      cancelled++;
      continue;
    }
    if (w === 0 || q[s] !== 0) continue;
    let eq = ledger.cash;
    let used = 0;
    for (let k = 0; k < S; k++) {
      if (q[k] === 0) continue;
      const px = open[base + k] > 0 ? open[base + k] : lastPx[k];
      eq += q[k] * px;
      used += Math.abs(q[k] * px);
    }
    const available = Math.max(0, eq - used);
    const units = Math.floor((available * Math.abs(w) - costs.fixedFee[s]) / (o * (1 + costs.slippage[s]) * (1 + costs.fee[s])) / lot[s]);
    if (units > 0) ledger.fill(s, Math.sign(w) * units * lot[s], o, t, REASON.signal, t - 1);
  }
  return cancelled;
}

/**
 * The fill price of a bracket on one bar, or NaN when neither level is touched. A long's stop
 * `sl` fills at `sl`, or at the open when it opens at or below it; its take-profit `tp` at `tp`,
 * or at the open when it opens at or above it (a short mirrors both). When the bar's range
 * touches both and the open neither, the stop is taken (the path inside the bar is unknown:
 * the conservative choice).
 */
function bracketFill(long: boolean, o: number, h: number, l: number, sl: number, tp: number): number {
  if (long) {
    if (o <= sl || o >= tp) return o;
    if (l <= sl) return sl;
    if (h >= tp) return tp;
  } else {
    if (o >= sl || o <= tp) return o;
    if (h >= sl) return sl;
    if (l <= tp) return tp;
  }
  return NaN;
}
