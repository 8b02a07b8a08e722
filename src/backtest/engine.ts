/**
 * The backtest engine: forecasts (mu, sigma per bar and symbol) -> target
 * fractions of equity -> limits -> orders -> fills -> cash, positions, costs,
 * trades, equity; with kill switches. One loop over typed arrays, no allocation
 * per step (trades and kill events are the only objects made, when they happen).
 *
 * Timeline of bar t (ts[t] is the bar's open time):
 * 1. time passes from ts[t-1] to ts[t]: interest on borrowed cash, funding of
 *    perpetuals whose funding time falls in (ts[t-1], ts[t]] (priced at open[t]);
 * 2. orders decided at t-1 fill at open[t] (sells before buys; `fill: 'nextOpen'`);
 * 3. stops (rule `entryExit`) trigger on high/low of bar t, filling at the stop or a worse open;
 *    then the brackets (`signals.stopLoss` / `takeProfit` price levels), see `runBacktest`;
 * 4. positions are marked at close[t]; kill switches are checked on that equity;
 * 5. the decision: targets from signals at t and equity at close[t]; limits in order
 *    (per-symbol cap, gross cap, long-only, minimum trade, cash); orders fill at open[t+1],
 *    or at close[t] with `fill: 'close'` and, for classes with a lower at-close cap, at
 *    the session's last bar (market-on-close), so that the position held overnight meets it.
 *
 * The run's setup (inputs checked, config turned into typed arrays) is in runSetup.ts, the
 * decision of step 5 in sizing.ts (its first passes for the books off the plain paths in firstPasses.ts).
 */
import { DataError } from '../core/errors';
import { type MarketArrays } from './market';
import { resolveConfig, type BacktestConfigInput } from './config';
import { REASON } from './ledger';
import { LIMIT_NAMES, type BacktestOptions, type BacktestResult, type LimitName } from './result';
import { type Signals } from './signals';
import { cashLimitedBuy, trueCash } from './orders';
import { type Sizer } from './sizing';
import { prepareRun, type RunSetup } from './runSetup';

const YEAR_MS = 365 * 86_400_000;

/**
 * Runs a backtest of precomputed signals on market arrays.
 *
 * Sizing (`f` = target position notional / equity, per symbol):
 * - kelly: `f = fraction * mu / sigma^2` (Thorp 2006, excess over a zero rate), sigma floored at `sigmaFloor`;
 * - targetWeight: `f = weight` (or `weight * sign(mu)`);
 * - volTarget: `f = annualVol / (sigma * sqrt(periodsPerYear / horizonBars))` (times sign(mu) by default);
 * - probability: `f = fraction * (p - (1 - p) / b)` (binary Kelly) from `signals.pWin` and the payoff ratio
 *   `b` (`signals.payoff`, else `sizing.payoff`); a negative f is a short;
 * - regime: the base sizing times the multiplier of the bar's regime label;
 * - targets (`signals.target`, see `targetSignals`) replace the sizing: a weight is f itself, a unit
 *   target `u` is `f = u * close / equity`; no leverage multiplier; NaN holds the position;
 * then `f *= leverageMultiplier` of the symbol's class, and the limits, in order, each counted
 * when it changes the target: per-symbol cap `|f| <= perSymbolCap`; gross cap per class
 * `sum |f| <= grossIntraday` (`grossAtClose` at a session's last bar), scaling the class's
 * targets pro rata; long-only; minimum trade (orders closing a position are exempt);
 * cash (cash-only classes buy with cash on hand, after the bar's sells).
 * Quantities are rounded toward zero to the class's lot.
 *
 * Brackets: `signals.stopLoss[t*S+s]` / `takeProfit[t*S+s]` are price levels for the position held
 * after bar t's decision (NaN keeps the level in force; levels are dropped once the position is flat).
 * From the bar after, the first bar whose range touches a level closes the position (exit reason
 * `stop` / `takeProfit`): a long's stop fills at the level, or at the open when the bar opens at
 * or below it; its take-profit at the level, or at the open when it opens at or above it; a short
 * mirrors both; a bar whose range touches both (and whose open neither) takes the stop. Slippage
 * and fees apply as to any fill. With targets, the symbol then stays flat until its target changes.
 *
 * @param market - bars of every symbol on one grid (see `alignSeries`).
 * @param signals - mu, sigma (and regime / entry / score) per bar and symbol.
 * @param config - a config (resolved or as written; defaults fill the rest).
 * @throws ConfigError for contradictory limits, a symbol without a known class, funding for a non-perpetual,
 *   probability sizing without `pWin`, the entryExit rule with targets.
 * @throws DataError for forecast arrays that do not line up with the bars, NaN or negative
 *   forecasts at a bar where they are used, an infinite target, a probability outside [0, 1], non-positive prices.
 * @example
 * const r = runBacktest(market, { mu, sigma, horizonBars: 30 }, { defaultClass: 'crypto' });
 * r.equity[r.equity.length - 1]; // final equity
 */
export function runBacktest(market: MarketArrays, signals: Signals, config: BacktestConfigInput = {}, options: BacktestOptions = {}): BacktestResult {
  const run = prepareRun(market, signals, resolveConfig(config), options);
  const bars = runBars(run);
  if (run.preset) closeAtEnd(run, bars);
  run.ledger.markOpenTrades(run.T - 1, run.lastPx);
  const { cfg, ledger, sizer, kill, perps, funding } = run;
  return {
    config: cfg,
    symbols: run.symbols,
    classes: run.classes,
    ts: run.ts,
    equity: bars.equity,
    cash: bars.cash,
    grossExposure: bars.gross,
    positions: bars.positions,
    decisions: run.decisions,
    trades: ledger.trades,
    limits: limitCounts(sizer, run.S),
    costs: { fees: ledger.feesPaid, slippage: ledger.slippagePaid, interest: ledger.interestPaid, funding: ledger.fundingPaid,
      tradedNotional: ledger.tradedNotional },
    fills: ledger.fills,
    killEvents: kill.events,
    stoppedAt: kill.stoppedAt,
    fallbacks: {
      missingQuotes: Array.from(bars.missingQuotes),
      noForecast: Array.from(sizer.noForecast),
      cancelledOrders: bars.cancelledOrders,
      cashCutAtFill: bars.cashCutAtFill,
      perpsWithoutFunding: perpsWithoutFunding(perps, ledger.filled, funding, run.symbols),
    },
    periodsPerYear: run.ppy,
    lookAhead: signals.lookAhead === true,
  };
}


/** What the bar loop writes: per bar equity, cash and gross exposure, positions (or null), and the fallbacks it counted. */
interface BarOutputs {
  equity: Float64Array;
  cash: Float64Array;
  gross: Float64Array;
  positions: Float64Array | null;
  missingQuotes: Float64Array;
  cancelledOrders: number;
  cashCutAtFill: number;
}

/**
 * The bar loop: steps 1-5 of the timeline (see the top of this file) for every bar. The steps
 * most runs skip (funding, stops, brackets, the backtesting.py preset) are functions of their own,
 * called only when the run has them, so the loop that every bar runs stays small.
 */
function runBars(run: RunSetup): BarOutputs {
  const { S, T, symbols, ts, open, close, sessionEnd, cashOnly, lot, costs, perps, ledger, pend, sizer, kill, lastPx } = run;
  const { borrowRate, cashRate, firstBar } = run;
  // `=== true`: the flags stay known booleans (a bare field in `if (x)` compiles to a full
  // truthiness test, false / '' / heap number / bigint, at every bar).
  const preset = run.preset === true;
  const brackets = run.brackets === true;
  const hasFunding = run.funding.length > 0;
  const hasInterest = borrowRate > 0 || cashRate > 0;
  const hasPerps = perps.length > 0;
  const hasStops = run.stopLoss > 0;
  // Last prices kept lazily where only the marks read them (no perpetuals, whose margin and funding
  // read them at every bar; not the preset): the usual bar has every quote, and its mark then
  // writes nothing; lastPx holds the last valid close as of bar `pxBar`, and every bar after it so
  // far had all its quotes, so the last valid close as of bar t - 1 is close[t - 1] when
  // pxBar < t - 1. A bar with a missing quote, a re-mark and the end of the run bring it up to date.
  const lazyPx = !hasPerps && !preset;
  const eagerPx = !lazyPx;
  let pxBar = -1;
  const q = ledger.qty;
  const missingQuotes = new Float64Array(S);
  const equityOut = new Float64Array(T);
  const cashOut = new Float64Array(T);
  const grossOut = new Float64Array(T);
  const positions = run.recordPositions ? new Float64Array(T * S) : null;
  let cancelledOrders = 0;
  let cashCutAtFill = 0;
  // The previous bar's session end, carried from bar to bar. (Not its time: a double carried
  // round the loop is kept boxed, a heap number allocated at every bar; ts[t - 1] is read instead.)
  let prevCloseBar = false;
  // Target weights of a one-class book: the mark pass also sums the bar's capped target sizes for
  // the decision (its pass 1; see `Sizer.markGoal`), reading each target once with its bar's close.
  const goal = preset ? null : sizer.markGoal;
  const cap = sizer.markCap;
  const markedGoalSum = sizer.markedGoalSum;

  for (let t = 0; t < T; t++) {
    const base = t * S;
    const time = ts[t];
    // 1. Time passes: interest and funding on what was held over (ts[t-1], ts[t]].
    if (t > 0) {
      if (hasInterest) {
        const dt = time - ts[t - 1];
        const c = hasPerps ? trueCash(ledger.cash, perps, q, lastPx) : ledger.cash;
        const interest = c < 0 ? (-c * borrowRate * dt) / YEAR_MS : (-c * cashRate * dt) / YEAR_MS;
        if (interest !== 0) ledger.payInterest(interest);
      }
      if (hasFunding) payFunding(run, t);
    }
    // 2. Orders decided at t-1 fill at this bar's open, sells first (their cash pays the buys).
    for (let k = 0; k < pend.nSells; k++) {
      const s = pend.sells[k];
      const o = open[base + s];
      if (o > 0) ledger.fill(s, pend.qty[s], o, t, pend.reason[s], t - 1);
      else cancelledOrders += noOpen(o, symbols[s], t);
    }
    for (let k = 0; k < pend.nBuys; k++) {
      const s = pend.buys[k];
      const o = open[base + s];
      if (!(o > 0)) {
        cancelledOrders += noOpen(o, symbols[s], t);
        continue;
      }
      let d = pend.qty[s];
      if (cashOnly[s]) {
        const capped = cashLimitedBuy(d, o, costs.slippage[s], costs.fee[s], costs.fixedFee[s], lot[s], trueCash(ledger.cash, perps, q, lastPx));
        if (capped !== d) cashCutAtFill++;
        if (capped === 0) continue;
        d = capped;
      }
      ledger.fill(s, d, o, t, pend.reason[s], t - 1);
    }
    pend.clear();
    if (preset) cancelledOrders += presetFills(run, t);
    // 3. Stops of the entryExit rule, then the brackets, on this bar's range.
    if (hasStops) stopExits(run, t);
    if (brackets) bracketExits(run, t);
    // 4. Mark at the close; kill switches.
    let value = 0;
    let gross = 0;
    let unquoted = 0;
    // The sum of the capped targets' sizes, in symbol order; `finite` stays 0 while every target is finite.
    let goalSum = 0;
    let finite = 0;
    let s0 = 0;
    // Four symbols at a time while all have a positive close (the usual case), then two: optimized
    // code checks an array (map, length, data pointer) once per loop iteration, so the later reads
    // of close and q reuse the first's checks. Anything else goes to the loop after them.
    for (; s0 + 3 < S; s0 += 4) {
      const i = base + s0;
      const c0 = close[i];
      const c1 = close[i + 1];
      const c2 = close[i + 2];
      const c3 = close[i + 3];
      if (!(c0 > 0 && c1 > 0 && c2 > 0 && c3 > 0)) break;
      if (eagerPx) {
        lastPx[s0] = c0;
        lastPx[s0 + 1] = c1;
        lastPx[s0 + 2] = c2;
        lastPx[s0 + 3] = c3;
      }
      if (goal !== null) {
        const g0 = goal[i];
        const g1 = goal[i + 1];
        const g2 = goal[i + 2];
        const g3 = goal[i + 3];
        finite += g0 - g0 + (g1 - g1) + (g2 - g2) + (g3 - g3);
        goalSum += Math.min(Math.abs(g0), cap);
        goalSum += Math.min(Math.abs(g1), cap);
        goalSum += Math.min(Math.abs(g2), cap);
        goalSum += Math.min(Math.abs(g3), cap);
      }
      const q0 = q[s0];
      const q1 = q[s0 + 1];
      const q2 = q[s0 + 2];
      const q3 = q[s0 + 3];
      if (q0 !== 0) {
        value += q0 * c0;
        gross += Math.abs(q0 * c0);
      }
      if (q1 !== 0) {
        value += q1 * c1;
        gross += Math.abs(q1 * c1);
      }
      if (q2 !== 0) {
        value += q2 * c2;
        gross += Math.abs(q2 * c2);
      }
      if (q3 !== 0) {
        value += q3 * c3;
        gross += Math.abs(q3 * c3);
      }
    }
    if (s0 + 1 < S) {
      const c0 = close[base + s0];
      const c1 = close[base + s0 + 1];
      if (c0 > 0 && c1 > 0) {
        if (eagerPx) {
          lastPx[s0] = c0;
          lastPx[s0 + 1] = c1;
        }
        if (goal !== null) {
          const g0 = goal[base + s0];
          const g1 = goal[base + s0 + 1];
          finite += g0 - g0 + (g1 - g1);
          goalSum += Math.min(Math.abs(g0), cap);
          goalSum += Math.min(Math.abs(g1), cap);
        }
        const q0 = q[s0];
        const q1 = q[s0 + 1];
        if (q0 !== 0) {
          value += q0 * c0;
          gross += Math.abs(q0 * c0);
        }
        if (q1 !== 0) {
          value += q1 * c1;
          gross += Math.abs(q1 * c1);
        }
        s0 += 2;
      }
    }
    for (let s = s0; s < S; s++) {
      // One test for the usual case (a positive close); NaN (no bar) and bad prices take the other arm.
      const c = close[base + s];
      let px = c;
      if (c > 0) {
        if (eagerPx) lastPx[s] = c;
      } else {
        if (c === c) throw new DataError('price must be positive', { symbol: symbols[s], row: t, column: 'close', value: c });
        missingQuotes[s]++;
        unquoted++;
        px = lazyPx && pxBar < t - 1 ? close[base - S + s] : lastPx[s];
      }
      if (goal !== null) {
        const g = goal[base + s];
        finite += g - g;
        goalSum += Math.min(Math.abs(g), cap);
      }
      const qs = q[s];
      if (qs !== 0) {
        const v = qs * px;
        value += v;
        gross += Math.abs(v);
      }
    }
    if (lazyPx && unquoted > 0) {
      catchUpLastPx(close, lastPx, S, pxBar, t);
      pxBar = t;
    }
    // `+ finite` adds 0, or makes the sum NaN (a `? :` with a NaN arm made a heap number at every bar).
    if (goal !== null) markedGoalSum[0] = goalSum + finite;
    // Equity reaches the kill switches and the sizer through ledger.equity: a double passed to a
    // call that is not inlined is boxed, an allocation per bar.
    ledger.equity = ledger.cash + value;
    kill.atClose(t, ledger, prevCloseBar);
    // 5. Decide; orders fill at this close or at the next open.
    const closeBar = sessionEnd[t] === 1;
    let filledNow = false;
    if (kill.flatten === true || !kill.isTrading(time)) {
      filledNow = sizer.flatten(t, closeBar);
      kill.flatten = false;
      if (preset) run.presetWeight.fill(NaN);
    } else if (preset) {
      if (t >= firstBar && t + 1 < T) presetOrders(run, t);
    } else if (t >= firstBar) {
      filledNow = sizer.decide(t, closeBar, unquoted === 0);
    }
    if (brackets && t >= firstBar) bracketLevels(run, t);
    if (filledNow === true) {
      if (lazyPx && pxBar < t) {
        catchUpLastPx(close, lastPx, S, pxBar, t);
        pxBar = t;
      }
      value = 0;
      gross = 0;
      for (let s = 0; s < S; s++) {
        if (q[s] === 0) continue;
        const v = q[s] * lastPx[s];
        value += v;
        gross += Math.abs(v);
      }
      ledger.equity = ledger.cash + value;
    }
    if (positions !== null) for (let s = 0; s < S; s++) positions[base + s] = q[s];
    const equity = ledger.equity;
    equityOut[t] = equity;
    cashOut[t] = ledger.cash;
    grossOut[t] = gross;
    if (closeBar) kill.sessionEnded(equity);
    prevCloseBar = closeBar;
  }
  if (lazyPx && pxBar < T - 1) catchUpLastPx(close, lastPx, S, pxBar, T - 1);
  return { equity: equityOut, cash: cashOut, gross: grossOut, positions, missingQuotes, cancelledOrders, cashCutAtFill };
}

/**
 * Brings the lazily kept last prices (see `runBars`) from bar `from` to bar `to`, where every bar
 * in (from, to) had all its quotes: a symbol quoted at `to` takes that close; one without takes
 * the close of bar to - 1 when that bar is after `from`, else keeps its last price.
 */
function catchUpLastPx(close: Float64Array, lastPx: Float64Array, S: number, from: number, to: number): void {
  const base = to * S;
  for (let s = 0; s < S; s++) {
    const c = close[base + s];
    if (c > 0) lastPx[s] = c;
    else if (from < to - 1) lastPx[s] = close[base - S + s];
  }
}

/** Funding of perpetuals whose funding time falls in (ts[t-1], ts[t]], priced at open[t] (the last close without one). */
function payFunding(run: RunSetup, t: number): void {
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

/** The entryExit rule's stop: a position whose bar range reaches the stop distance from its entry price closes at the stop, or at a worse open. */
function stopExits(run: RunSetup, t: number): void {
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
 */
function bracketExits(run: RunSetup, t: number): void {
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

/** The bracket levels given at bar t (NaN keeps the level in force). */
function bracketLevels(run: RunSetup, t: number): void {
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
function presetOrders(run: RunSetup, t: number): void {
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

/** Fills the preset's orders at bar t's open; returns the number cancelled (no bar at t). */
function presetFills(run: RunSetup, t: number): number {
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

/** The preset closes open trades at the last close (backtesting.py's finalize_trades), with their costs. */
function closeAtEnd(run: RunSetup, out: BarOutputs): void {
  const { S, T, ledger, lastPx } = run;
  const q = ledger.qty;
  if (T === 0) return;
  let value = 0;
  let filled = false;
  for (let s = 0; s < S; s++) {
    if (q[s] === 0) continue;
    ledger.fill(s, -q[s], lastPx[s], T - 1, REASON.finalClose, T - 1);
    filled = true;
  }
  if (filled) {
    for (let s = 0; s < S; s++) if (q[s] !== 0) value += q[s] * lastPx[s];
    out.equity[T - 1] = ledger.cash + value;
    out.cash[T - 1] = ledger.cash;
    out.gross[T - 1] = 0;
    if (out.positions !== null) for (let s = 0; s < S; s++) out.positions[(T - 1) * S + s] = q[s];
  }
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

/** An order meets a bar without a positive open: cancelled (counted) when the symbol has no bar, an error for a bad price. */
function noOpen(open: number, symbol: string, t: number): number {
  if (open <= 0) throw new DataError('price must be positive', { symbol, row: t, column: 'open', value: open });
  return 1;
}

function limitCounts(sizer: Sizer, S: number): BacktestResult['limits'] {
  const bySymbol = Object.fromEntries(LIMIT_NAMES.map((n, i) => [n, Array.from(sizer.binds.subarray(i * S, (i + 1) * S))])) as Record<LimitName, number[]>;
  const counts = Object.fromEntries(LIMIT_NAMES.map((n) => [n, bySymbol[n].reduce((a, b) => a + b, 0)])) as Record<LimitName, number>;
  return { counts, bySymbol, bindingMask: sizer.bindingMask };
}

function perpsWithoutFunding(perps: readonly number[], filled: Uint8Array, funding: ReadonlyArray<{ symbol: number }>, symbols: readonly string[]): string[] {
  return perps.filter((s) => filled[s] === 1 && !funding.some((f) => f.symbol === s)).map((s) => symbols[s]);
}
