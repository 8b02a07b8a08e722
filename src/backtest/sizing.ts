/**
 * The decision at one bar: signals -> target fraction of equity per symbol ->
 * limits in order (per-symbol cap, gross cap, long-only, minimum trade, cash), each
 * counted per bar and symbol where it changed the target -> orders that fill now
 * or at the next open. Kernel code on typed arrays: one call per bar, no
 * allocation.
 */
import * as firstPasses from './firstPasses';
import { REASON } from './ledger';
import { cashLimitedBuy, trueCash } from './orders';
import { type SizerSetup } from './sizerSetup';
import { forecastError } from './sizingErrors';

// The sizing's formula and the forecast check, shared with the first passes, copied once here:
// a named import compiles (tsx, esbuild's CommonJS) to a getter call at each use in the loops.
const { signalFraction, usableForecast } = firstPasses;

// roundToLot moved to orders.ts with the other order helpers; exported here as before.
export { roundToLot } from './orders';

// Limit indices, in the order the limits apply (see LIMIT_NAMES), as a const enum: the compiler
// writes the number at each use. (An exported const compiles to a property load of `exports`, and a
// module-level const to a context load and a small-integer check at every use in the loop: at every
// step for the minimum trade's bit.)
const enum L {
  /** `FirstPasses.capBinds` is this row. */
  CAP = 0,
  GROSS = 1,
  GROSS_CLOSE = 2,
  LONG = 3,
  MIN = 4,
  CASH = 5,
}

/** Makes the decision of each bar; holds the counters of limits and no-forecast bars. */
export class Sizer extends firstPasses.FirstPasses {
  /** Per bar, bit L set when limit L bound. */
  readonly bindingMask: Uint8Array;
  private readonly order: Float64Array;
  /**
   * Orders that fill at this close (symbols in order, and their quantities), sent after the
   * decision's loops: without the fill's call inside them, the loops run about 5 fewer
   * instructions per bar-symbol step (callgrind, bench market, both paths). The fills change
   * only the filled symbol's position and the cash, which no later symbol's decision reads.
   */
  private readonly nowIdx: Int32Array;
  private readonly nowQty: Float64Array;
  private readonly scale: Float64Array;
  /** The minimum trade's row of `binds` (it binds at most steps: one index, no offset). */
  private readonly minTradeBinds: Int32Array;
  /**
   * Whether the run's rule can hold a position at its current weight (entryExit, a validity mask,
   * targets, the probability sizing): fixed for the run, so decided once here rather than from four
   * fields of the setup at every bar.
   */
  private readonly mayHold: boolean;
  /** Targets (`signals.target`) replace the sizing: `goalTargets` makes pass 1. */
  private readonly goalRun: boolean;
  /** Signals sized for a one-class book without regimes: `decide` makes pass 1 itself. */
  private readonly plainSignals: boolean;
  /**
   * Target weights of a one-class book without brackets: pass 1 is the engine's mark pass (see
   * `markGoal`); a bar with a missing quote or a NaN or infinite target goes to `goalTargets`.
   */
  private readonly plainGoals: boolean;
  /**
   * For target weights of a one-class book without brackets (`plainGoals`): the targets, for the
   * engine's mark pass, which sums their capped sizes as it marks each bar (the sum that pass 1
   * would make, in the same order) and leaves the sum in `markedGoalSum`; null otherwise.
   */
  readonly markGoal: Float64Array | null = null;
  /** The per-symbol cap the mark pass clamps the targets to. */
  readonly markCap: number = Infinity;
  /**
   * Set by the mark pass at each bar when `markGoal` is set (in slot 0): the sum of the capped
   * targets' sizes, NaN when one is NaN or infinite. A typed-array slot: the sum stays an unboxed
   * double from the mark pass to the decision.
   */
  readonly markedGoalSum = new Float64Array(1);
  private readonly lev0: number = 1;
  /** Orders of every symbol fill at the close they were decided at (`fill: 'close'`). */
  private readonly fillAtClose: boolean;
  // Number fields get a number where they are declared (see Ledger.cash): a field first defined as
  // undefined is loaded as a tagged value and unboxed again at each use in the loop.
  /** A one-class book: its class's lot, long-only flag, gross caps and at-close flag, read once per run. */
  private readonly lot0: number = 1;
  private readonly longOnly0: boolean;
  private readonly capIntraday0: number = Infinity;
  private readonly capAtClose0: number = Infinity;
  private readonly closeCap0: boolean;
  /** The minimum trade: `max(minTradeNotional, minTradeFraction * equity)`. */
  private readonly minTradeNotional: number = 0;
  private readonly minTradeFraction: number = 0;

  constructor(p: SizerSetup) {
    super(p);
    const S = p.symbols.length;
    this.minTradeBinds = this.binds.subarray(L.MIN * S, (L.MIN + 1) * S);
    this.bindingMask = new Uint8Array(p.T);
    this.order = new Float64Array(S);
    this.nowIdx = new Int32Array(S);
    this.nowQty = new Float64Array(S);
    this.scale = new Float64Array(p.grossIntraday.length);
    this.mayHold = p.entryExit === true || p.valid !== null || p.goal !== null || p.pWin !== null;
    this.goalRun = p.goal !== null;
    this.plainSignals = !this.mayHold && p.oneClass === true && p.regimeMult === null;
    this.lev0 = S > 0 ? p.lev[0] : 1;
    this.plainGoals = this.goalRun && p.oneClass === true && p.brackets !== true && p.goalUnits !== true;
    if (this.plainGoals) {
      this.markGoal = p.goal;
      this.markCap = p.capPerSymbol;
    }
    this.fillAtClose = p.fillAtClose === true;
    const c0 = S > 0 ? p.cls[0] : 0;
    this.lot0 = S > 0 ? p.lot[0] : 1;
    this.longOnly0 = S > 0 && p.longOnly[0] === 1;
    this.capIntraday0 = p.grossIntraday.length > 0 ? p.grossIntraday[c0] : Infinity;
    this.capAtClose0 = p.grossAtClose.length > 0 ? p.grossAtClose[c0] : Infinity;
    this.closeCap0 = p.closeCap.length > 0 && p.closeCap[c0] === 1;
    this.minTradeNotional = p.minTradeNotional;
    this.minTradeFraction = p.minTradeFraction;
  }

  /**
   * A stop-loss or take-profit closed symbol s: it stays flat while the target stays the one in
   * force when it closed, and follows the target again once that changes.
   */
  bracketExited(s: number): void {
    this.bracketGoal[s] = this.lastGoal[s];
  }

  /**
   * Decides bar t at the equity marked at its close (`ledger.equity`: a double argument to a call
   * that is not inlined would be boxed at every bar); `allQuoted` says every symbol has a bar
   * at t. Returns true when an order filled at this bar's close (equity must then be re-marked).
   * Target weights of a one-class book take pass 1's sum from the mark pass (`markedGoalSum[0]`,
   * set for this bar before the call) when every symbol has a bar and a finite target.
   * @throws DataError for a NaN, infinite or negative-sigma forecast at a bar it uses.
   */
  decide(t: number, closeBarArg: boolean, allQuoted: boolean): boolean {
    // A known boolean: `closeBar && x` of an argument would be any value, tested for truthiness in full.
    const closeBar = closeBarArg === true;
    const p = this.p;
    const { close, cls, lot, longOnly, cashOnly, ledger, pending, decisions } = p;
    const equity = ledger.equity;
    const { target, reason, hold, grossSum, scale, binds, order } = this;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    // Only these rules can hold a position at its current weight, and only at the bars where they marked one.
    const mayHold = this.mayHold === true;
    const goalRun = this.goalRun === true;
    let mask = 0;
    let sum = 0;
    const capPerSymbol = p.capPerSymbol;
    // What the second pass reads (and caps, counting the binds): pass 1's targets, or the signals' own.
    let src = target;
    let srcBase = 0;
    const goalSum = this.markedGoalSum[0];
    if (this.plainSignals === true) {
      // Pass 1 of `signalTargets` for a one-class book without regimes, here: its call and its
      // reads of the setup cost more per bar than its loop per symbol. The targets are left uncapped
      // (the second pass caps them and counts the binds); their sum is of the capped sizes.
      const { mu, sigma, kellyFraction, weight, sigmaFloor } = p;
      const sizingKind = p.sizingKind | 0;
      const followSign = p.followSign === true;
      const lev0 = this.lev0;
      let s0 = 0;
      // Two symbols at a time when every symbol has a bar (the usual case): the second symbol's
      // reads and writes reuse the first's checks of the arrays. Each symbol as in the loop below.
      if (allQuoted === true) {
        for (; s0 + 1 < S; s0 += 2) {
          const idx = base + s0;
          const m0 = mu[idx];
          let sg0 = sigma[idx];
          if (!usableForecast(m0, sg0)) throw forecastError(p.symbols[s0], t, m0, sg0);
          if (sg0 < sigmaFloor) sg0 = sigmaFloor;
          let f0 = signalFraction(sizingKind, kellyFraction, weight, followSign, m0, sg0);
          f0 *= lev0;
          target[s0] = f0;
          sum += Math.min(Math.abs(f0), capPerSymbol);
          const m1 = mu[idx + 1];
          let sg1 = sigma[idx + 1];
          if (!usableForecast(m1, sg1)) throw forecastError(p.symbols[s0 + 1], t, m1, sg1);
          if (sg1 < sigmaFloor) sg1 = sigmaFloor;
          let f1 = signalFraction(sizingKind, kellyFraction, weight, followSign, m1, sg1);
          f1 *= lev0;
          target[s0 + 1] = f1;
          sum += Math.min(Math.abs(f1), capPerSymbol);
        }
      }
      for (let s = s0; s < S; s++) {
        const idx = base + s;
        if (allQuoted === false && close[idx] !== close[idx]) {
          target[s] = NaN;
          continue;
        }
        const m = mu[idx];
        let sg = sigma[idx];
        if (!usableForecast(m, sg)) throw forecastError(p.symbols[s], t, m, sg);
        if (sg < sigmaFloor) sg = sigmaFloor;
        let f = signalFraction(sizingKind, kellyFraction, weight, followSign, m, sg);
        f *= lev0;
        target[s] = f;
        sum += Math.min(Math.abs(f), capPerSymbol);
      }
    } else if (this.plainGoals === true && allQuoted === true && goalSum === goalSum) {
      // Every symbol has a bar and a finite target: pass 1 is the mark pass's sum (`markedGoalSum`);
      // the second pass reads the targets and caps them.
      sum = goalSum;
      src = p.goal as Float64Array;
      srcBase = base;
      if (this.nHeld > 0) {
        hold.fill(0);
        this.nHeld = 0;
      }
    } else {
      if (mayHold ? (goalRun ? this.goalTargets(t, equity, allQuoted) : this.ruleTargets(t, equity)) : this.signalTargets(t, allQuoted)) mask = 1 << L.CAP;
      if (p.oneClass === true) sum = grossSum[cls[0]];
    }
    const anyHeld = mayHold && this.nHeld > 0;
    let filledNow = false;
    const oneClass = p.oneClass === true;
    const fillAtClose = this.fillAtClose === true;
    // A one-class book scales by its one class's factor from the caps read once per run (the other
    // classes are never read); a mixed book by each class's.
    let scale0 = 1;
    if (oneClass) {
      const cap = closeBar ? this.capAtClose0 : this.capIntraday0;
      scale0 = sum > cap * (1 + 1e-12) ? cap / sum : 1;
    } else {
      for (let c = 0; c < scale.length; c++) {
        const cap = closeBar ? p.grossAtClose[c] : p.grossIntraday[c];
        scale[c] = grossSum[c] > cap * (1 + 1e-12) ? cap / grossSum[c] : 1;
      }
    }

    // The per-symbol cap (for the plain paths, whose first pass leaves it here; the other first
    // passes capped already, so it binds nothing again), gross scaling, long-only, lots, the
    // minimum trade; orders out (cash-only buys wait).
    const minTrade = Math.max(this.minTradeNotional, this.minTradeFraction * equity);
    const lot0 = this.lot0;
    const longOnly0 = this.longOnly0 === true;
    // A one-class book's order fills at this close when its class caps gross at the close (market-on-close).
    const closeNow0 = fillAtClose || (closeBar && this.closeCap0 === true);
    const minTradeBinds = this.minTradeBinds;
    let cashOnlyBuys = 0;
    const { nowIdx, nowQty } = this;
    let nNow = 0;
    let s0 = 0;
    if (oneClass && !anyHeld) {
      // A one-class book holding nothing at its weight (the usual bar) decides two symbols at a
      // time while both have a target (as in pass 1: the second access of each array reuses the
      // first's checks), each exactly as in the loop below, and then sends their orders in symbol
      // order: an order of the first changes nothing the second's decision reads.
      const grossLimit = closeBar && this.closeCap0 === true ? L.GROSS_CLOSE : L.GROSS;
      const cashOnly0 = S > 0 && cashOnly[0] === 1;
      const lastBar = t + 1 >= p.T;
      for (; s0 + 1 < S; s0 += 2) {
        let f0 = src[srcBase + s0];
        let f1 = src[srcBase + s0 + 1];
        if (f0 !== f0 || f1 !== f1) break;
        const c0 = close[base + s0];
        const c1 = close[base + s0 + 1];
        if (f0 > capPerSymbol || f0 < -capPerSymbol) {
          f0 = f0 > 0 ? capPerSymbol : -capPerSymbol;
          binds[L.CAP * S + s0]++;
          mask |= 1 << L.CAP;
        }
        if (f1 > capPerSymbol || f1 < -capPerSymbol) {
          f1 = f1 > 0 ? capPerSymbol : -capPerSymbol;
          binds[L.CAP * S + s0 + 1]++;
          mask |= 1 << L.CAP;
        }
        if (scale0 !== 1 && f0 !== 0) {
          f0 *= scale0;
          binds[grossLimit * S + s0]++;
          mask |= 1 << grossLimit;
        }
        if (longOnly0 && f0 < 0) {
          f0 = 0;
          binds[L.LONG * S + s0]++;
          mask |= 1 << L.LONG;
        }
        const q0 = q[s0];
        const units0 = (f0 * equity) / (c0 * lot0);
        const whole0 = units0 > 0 ? Math.floor(units0 + 1e-9) : -Math.floor(-units0 + 1e-9);
        const tq0 = whole0 === 0 ? 0 : whole0 * lot0;
        if (decisions !== null) decisions[base + s0] = tq0;
        const d0 = tq0 - q0;
        const changes0 = +(d0 !== 0);
        const under0 = changes0 & +(tq0 !== 0) & +(Math.abs(d0) * c0 < minTrade);
        minTradeBinds[s0] += under0;
        mask |= under0 << L.MIN;
        if (scale0 !== 1 && f1 !== 0) {
          f1 *= scale0;
          binds[grossLimit * S + s0 + 1]++;
          mask |= 1 << grossLimit;
        }
        if (longOnly0 && f1 < 0) {
          f1 = 0;
          binds[L.LONG * S + s0 + 1]++;
          mask |= 1 << L.LONG;
        }
        const q1 = q[s0 + 1];
        const units1 = (f1 * equity) / (c1 * lot0);
        const whole1 = units1 > 0 ? Math.floor(units1 + 1e-9) : -Math.floor(-units1 + 1e-9);
        const tq1 = whole1 === 0 ? 0 : whole1 * lot0;
        if (decisions !== null) decisions[base + s0 + 1] = tq1;
        const d1 = tq1 - q1;
        const changes1 = +(d1 !== 0);
        const under1 = changes1 & +(tq1 !== 0) & +(Math.abs(d1) * c1 < minTrade);
        minTradeBinds[s0 + 1] += under1;
        mask |= under1 << L.MIN;
        if ((changes0 & (under0 ^ 1)) !== 0) {
          if (cashOnly0 && d0 > 0) {
            order[s0] = d0;
            cashOnlyBuys++;
          } else if (closeNow0) {
            nowIdx[nNow++] = s0;
            nowQty[s0] = d0;
          } else if (!lastBar) pending.add(s0, d0, reason[s0]);
        }
        if ((changes1 & (under1 ^ 1)) !== 0) {
          if (cashOnly0 && d1 > 0) {
            order[s0 + 1] = d1;
            cashOnlyBuys++;
          } else if (closeNow0) {
            nowIdx[nNow++] = s0 + 1;
            nowQty[s0 + 1] = d1;
          } else if (!lastBar) pending.add(s0 + 1, d1, reason[s0 + 1]);
        }
      }
    }
    for (let s = s0; s < S; s++) {
      let f = src[srcBase + s];
      if (f !== f) continue;
      if (f > capPerSymbol || f < -capPerSymbol) {
        f = f > 0 ? capPerSymbol : -capPerSymbol;
        binds[L.CAP * S + s]++;
        mask |= 1 << L.CAP;
      }
      const c = close[base + s];
      const k = oneClass ? scale0 : scale[cls[s]];
      if (k !== 1 && f !== 0) {
        f *= k;
        const limit = closeBar && p.closeCap[cls[s]] === 1 ? L.GROSS_CLOSE : L.GROSS;
        binds[limit * S + s]++;
        mask |= 1 << limit;
      }
      if ((oneClass ? longOnly0 : longOnly[s] === 1) && f < 0) {
        f = 0;
        binds[L.LONG * S + s]++;
        mask |= 1 << L.LONG;
      }
      const qs = q[s];
      const lotS = oneClass ? lot0 : lot[s];
      // A held position stays as it is unless a limit changed its weight.
      const held = anyHeld && hold[s] === 1 && f === (qs * c) / equity;
      // The target quantity: the wanted notional in whole lots, rounded toward zero.
      let tq = qs;
      if (!held) {
        const units = (f * equity) / (c * lotS);
        const whole = units > 0 ? Math.floor(units + 1e-9) : -Math.floor(-units + 1e-9);
        tq = whole === 0 ? 0 : whole * lotS;
      }
      if (decisions !== null) decisions[base + s] = tq;
      const d = tq - qs;
      // Most symbols end here: no change, or a change under the minimum trade (orders that close
      // a position are exempt). Which of the three a symbol gets is a coin flip from bar to bar,
      // so it is computed as 0/1 flags and counted without branching; the one branch left is to
      // the order (about one symbol in nine). A mispredicted branch costs more than the
      // division that an earlier shortcut for clear cases saved (measured: 10% of the run).
      const changes = +(d !== 0);
      const underMinimum = changes & +(tq !== 0) & +(Math.abs(d) * c < minTrade);
      minTradeBinds[s] += underMinimum;
      mask |= underMinimum << L.MIN;
      if ((changes & (underMinimum ^ 1)) === 0) continue;
      if (cashOnly[s] === 1 && d > 0) {
        order[s] = d;
        cashOnlyBuys++;
      } else if (oneClass ? closeNow0 : fillAtClose || (closeBar && p.closeCap[cls[s]] === 1)) {
        nowIdx[nNow++] = s;
        nowQty[s] = d;
      } else if (t + 1 < p.T) pending.add(s, d, reason[s]);
    }
    for (let k = 0; k < nNow; k++) {
      const s = nowIdx[k];
      ledger.fill(s, nowQty[s], close[base + s], t, reason[s], t);
      filledNow = true;
    }
    if (cashOnlyBuys > 0) filledNow = this.cashOnlyBuys(t, closeBar, minTrade) || filledNow;
    if (mask !== 0) this.bindingMask[t] |= mask;
    return filledNow;
  }

  /**
   * Cash-only classes buy with cash on hand, after the bar's sells (the last limit): the cash
   * now, plus what this bar's sells that fill at the next open will bring (at this close, after
   * costs; a perpetual's sell frees margin, not cash).
   */
  private cashOnlyBuys(t: number, closeBar: boolean, minTrade: number): boolean {
    const p = this.p;
    const { close, ledger, decisions, costs, lot, isPerp, pending } = p;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    let filledNow = false;
    let deferredSellCash = 0;
    for (let k = 0; k < pending.nSells; k++) {
      const s = pending.sells[k];
      if (isPerp[s] === 0) deferredSellCash -= pending.qty[s] * close[base + s] * (1 - costs.slippage[s]) * (1 - costs.fee[s]);
    }
    let available = trueCash(ledger.cash, p.perps, q, p.lastPx) + deferredSellCash;
    for (let s = 0; s < S; s++) {
      let d = this.order[s];
      if (d === 0) continue;
      this.order[s] = 0;
      const c = close[base + s];
      const capped = cashLimitedBuy(d, c, costs.slippage[s], costs.fee[s], costs.fixedFee[s], lot[s], available);
      if (capped !== d) {
        this.binds[L.CASH * S + s]++;
        this.bindingMask[t] |= 1 << L.CASH;
        if (capped === 0 || capped * c < minTrade) {
          if (decisions !== null) decisions[base + s] = q[s];
          continue;
        }
        d = capped;
        if (decisions !== null) decisions[base + s] = q[s] + d;
      }
      available -= d * c * (1 + costs.slippage[s]) * (1 + costs.fee[s]) + costs.fixedFee[s];
      if (this.send(s, d, c, t, this.reason[s], closeBar)) filledNow = true;
    }
    return filledNow;
  }

  /** Kill switch or pause: close every position with a quote. Returns true when something filled now. */
  flatten(t: number, closeBar: boolean): boolean {
    const p = this.p;
    const q = p.ledger.qty;
    const S = q.length;
    let filledNow = false;
    for (let s = 0; s < S; s++) {
      const c = p.close[t * S + s];
      if (p.decisions !== null) p.decisions[t * S + s] = c === c ? 0 : NaN;
      if (q[s] === 0 || c !== c) continue;
      if (this.send(s, -q[s], c, t, REASON.killSwitch, closeBar)) filledNow = true;
    }
    return filledNow;
  }

  /**
   * Sends an order of `d` units of symbol s decided at bar t (close `c`): filled at this close when
   * the bar fills at its close (fillAtClose, or the last bar of a session under a close cap), else
   * queued for the next open (dropped after the last bar). Returns true when it filled now.
   * `decide` writes the same test inline: it runs in the per-symbol loop of every bar.
   */
  private send(s: number, d: number, c: number, t: number, reason: number, closeBar: boolean): boolean {
    const p = this.p;
    if (p.fillAtClose || (closeBar && p.closeCap[p.cls[s]] === 1)) {
      p.ledger.fill(s, d, c, t, reason, t);
      return true;
    }
    if (t + 1 < p.T) p.pending.add(s, d, reason);
    return false;
  }
}
