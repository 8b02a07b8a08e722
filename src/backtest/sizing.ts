/**
 * The decision at one bar: signals -> target fraction of equity per symbol ->
 * limits in order (per-symbol cap, gross cap, long-only, minimum trade, cash), each
 * counted per bar and symbol where it changed the target -> orders that fill now
 * or at the next open. Kernel code on typed arrays: one call per bar, no
 * allocation.
 */
import { REASON } from './ledger';
import { cashLimitedBuy, trueCash } from './orders';
import { type SizerSetup } from './sizerSetup';
import { badProbability, forecastError, targetError } from './sizingErrors';

// roundToLot moved to orders.ts with the other order helpers; exported here as before.
export { roundToLot } from './orders';

// Limit indices, in the order the limits apply (see LIMIT_NAMES), and sizing kinds,
// as const enums: the compiler writes the number at each use. (An exported const compiles to a
// property load of `exports`, and a module-level const to a context load and a small-integer check
// at every use in the loop: at every step for the minimum trade's bit and the sizing kind.)
const enum L {
  CAP = 0,
  GROSS = 1,
  GROSS_CLOSE = 2,
  LONG = 3,
  MIN = 4,
  CASH = 5,
}

const R_SIGNAL = REASON.signal;
const R_HORIZON = REASON.horizon;

const enum Kind {
  KELLY = 0,
  TARGET_WEIGHT = 1,
  VOL_TARGET = 2,
  PROBABILITY = 3,
}

/**
 * The kernel's code of a sizing kind.
 * @example sizingCode('kelly'); // 0
 */
export function sizingCode(kind: 'kelly' | 'targetWeight' | 'volTarget' | 'probability'): number {
  return kind === 'kelly' ? Kind.KELLY : kind === 'targetWeight' ? Kind.TARGET_WEIGHT : kind === 'probability' ? Kind.PROBABILITY : Kind.VOL_TARGET;
}

/** Makes the decision of each bar; holds the counters of limits and no-forecast bars. */
export class Sizer {
  /** Times limit L changed the target of symbol s: `binds[L * S + s]`. */
  readonly binds: Int32Array;
  /** Per bar, bit L set when limit L bound. */
  readonly bindingMask: Uint8Array;
  readonly noForecast: Float64Array;
  private readonly target: Float64Array;
  private readonly order: Float64Array;
  /**
   * Orders that fill at this close (symbols in order, and their quantities), sent after the
   * decision's loops: without the fill's call inside them, the loops run about 5 fewer
   * instructions per bar-symbol step (callgrind, bench market, both paths). The fills change
   * only the filled symbol's position and the cash, which no later symbol's decision reads.
   */
  private readonly nowIdx: Int32Array;
  private readonly nowQty: Float64Array;
  private readonly reason: Uint8Array;
  /**
   * 1 where this bar's target is the current position, kept unless a limit changes it. Only the
   * symbols held are marked (`nHeld` of them), and the marks are cleared at the next bar that had
   * any: most bars hold nothing, and then `decide` reads no mark at all.
   */
  private readonly hold: Uint8Array;
  private nHeld = 0;
  private readonly grossSum: Float64Array;
  private readonly scale: Float64Array;
  /** The minimum trade's row of `binds` (it binds at most steps: one index, no offset). */
  private readonly minTradeBinds: Int32Array;
  /**
   * Per symbol: the last target given (NaN before any), and the target a bracket (stop / take-profit) exited, NaN when none.
   * Kept only when the run has brackets: without them no exit is reported, and `bracketGoal` stays NaN.
   */
  private readonly lastGoal: Float64Array;
  private readonly bracketGoal: Float64Array;
  private readonly brackets: boolean;
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

  constructor(private readonly p: SizerSetup) {
    const S = p.symbols.length;
    this.binds = new Int32Array(6 * S);
    this.minTradeBinds = this.binds.subarray(L.MIN * S, (L.MIN + 1) * S);
    this.bindingMask = new Uint8Array(p.T);
    this.noForecast = new Float64Array(S);
    this.target = new Float64Array(S);
    this.order = new Float64Array(S);
    this.nowIdx = new Int32Array(S);
    this.nowQty = new Float64Array(S);
    this.reason = new Uint8Array(S);
    this.hold = new Uint8Array(S);
    this.grossSum = new Float64Array(p.grossIntraday.length);
    this.scale = new Float64Array(p.grossIntraday.length);
    this.lastGoal = new Float64Array(S).fill(NaN);
    this.bracketGoal = new Float64Array(S).fill(NaN);
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
    this.brackets = p.brackets === true;
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
   * Pass 1 where the target never depends on the position (rule rebalance, no validity mask):
   * targets from the signals, the per-symbol cap, gross sums per class. Returns the bind mask
   * so far. The usual case gets this loop of its own: without the rules that hold a position
   * it has fewer values to keep live, and runs about 20% fewer instructions per symbol than
   * `ruleTargets` does for the same targets (callgrind, bench market: 91 against 114).
   */
  private signalTargets(t: number, allQuoted: boolean): number {
    const p = this.p;
    const { close, mu, sigma, regime, cls, lev, kellyFraction, weight, regimeMult, sigmaFloor, capPerSymbol } = p;
    const sizingKind = p.sizingKind | 0;
    const followSign = p.followSign === true;
    const oneClass = p.oneClass === true;
    const lev0 = lev[0];
    const { target, grossSum, binds } = this;
    const S = target.length;
    const base = t * S;
    let mask = 0;
    let gross0 = 0;
    // A one-class book writes its one sum below; the other classes' sums stay 0.
    if (!oneClass) for (let c = 0; c < grossSum.length; c++) grossSum[c] = 0;
    for (let s = 0; s < S; s++) {
      const idx = base + s;
      // A symbol without a bar at t gets no decision (looked for only when the mark pass saw one).
      if (allQuoted === false && close[idx] !== close[idx]) {
        target[s] = NaN;
        continue;
      }
      const m = mu[idx];
      let sg = sigma[idx];
      if (!usableForecast(m, sg)) throw forecastError(p.symbols[s], t, m, sg);
      if (sg < sigmaFloor) sg = sigmaFloor;
      let f = signalFraction(sizingKind, kellyFraction, weight, followSign, m, sg);
      if (regimeMult !== null) f *= regimeMult[regime[idx]];
      f *= oneClass ? lev0 : lev[s];
      if (f > capPerSymbol || f < -capPerSymbol) {
        f = f > 0 ? capPerSymbol : -capPerSymbol;
        binds[L.CAP * S + s]++;
        mask |= 1 << L.CAP;
      }
      target[s] = f;
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    return mask;
  }

  /**
   * Pass 1 for targets (`signals.target`): `ruleTargets`' target branch in a loop of its own. A
   * target run has no entry rule, validity mask or probability sizing (the target decides before
   * them), so the loop tests none of them at every symbol: about a quarter fewer instructions per
   * symbol than `ruleTargets` for the same targets.
   */
  private goalTargets(t: number, equity: number, allQuoted: boolean): number {
    const p = this.p;
    const { close, cls, ledger, capPerSymbol } = p;
    const goal = p.goal as Float64Array;
    const goalUnits = p.goalUnits === true;
    const { lastGoal, bracketGoal } = this;
    const brackets = this.brackets === true;
    const oneClass = p.oneClass === true;
    const { target, hold, grossSum, binds } = this;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    let mask = 0;
    let gross0 = 0;
    let nHeld = 0;
    // A one-class book writes its one sum below; the other classes' sums stay 0.
    if (!oneClass) for (let c = 0; c < grossSum.length; c++) grossSum[c] = 0;
    if (this.nHeld > 0) hold.fill(0);
    for (let s = 0; s < S; s++) {
      const idx = base + s;
      // A symbol without a bar at t gets no decision (looked for only when the mark pass saw one);
      // its close is read again only where the target needs it (a hold, units).
      if (allQuoted === false && close[idx] !== close[idx]) {
        target[s] = NaN;
        continue;
      }
      let f: number;
      // NaN holds; after a bracket exit, the same target holds the flat position. `v - v` is 0 for
      // a finite v (one compare in the usual case), NaN for NaN and the infinities (which throw).
      const v = goal[idx];
      let holds: boolean;
      if (v - v !== 0) {
        if (v === v) throw targetError(p.symbols[s], t, v);
        holds = true;
      } else holds = brackets && v === bracketGoal[s];
      if (holds) {
        if (q[s] === 0) {
          target[s] = NaN;
          continue;
        }
        f = (q[s] * close[idx]) / equity;
        hold[s] = 1;
        nHeld++;
      } else {
        if (brackets) {
          lastGoal[s] = v;
          bracketGoal[s] = NaN;
        }
        f = goalUnits ? (v * close[idx]) / equity : v;
      }
      if (f > capPerSymbol || f < -capPerSymbol) {
        f = f > 0 ? capPerSymbol : -capPerSymbol;
        binds[L.CAP * S + s]++;
        mask |= 1 << L.CAP;
      }
      target[s] = f;
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    this.nHeld = nHeld;
    return mask;
  }

  /**
   * Pass 1 under rules that can hold a position (entryExit, a validity mask, targets) and for
   * the probability sizing: as `signalTargets`, with the rule deciding first whether the
   * position is held, left at the horizon, entered or not decided at all.
   */
  private ruleTargets(t: number, equity: number): number {
    const p = this.p;
    const { close, mu, sigma, regime, entry, valid, cls, lev, ledger, goal, pWin, payoff } = p;
    const goalUnits = p.goalUnits === true;
    const { lastGoal, bracketGoal } = this;
    const brackets = this.brackets === true;
    const { sizingKind, kellyFraction, weight, regimeMult, sigmaFloor, capPerSymbol, horizon } = p;
    // `=== true` gives TurboFan a known boolean: a bare field in `if (x)` compiles to a full
    // truthiness test (false, '', heap number, bigint) at every symbol.
    const entryExit = p.entryExit === true;
    const followSign = p.followSign === true;
    const oneClass = p.oneClass === true;
    // Per-class values of a one-class book are read once per bar, not once per symbol.
    const lev0 = lev[0];
    const { target, reason, hold, grossSum, binds } = this;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    let mask = 0;
    let gross0 = 0;
    let nHeld = 0;
    for (let c = 0; c < grossSum.length; c++) grossSum[c] = 0;
    if (this.nHeld > 0) hold.fill(0);

    // Targets, the per-symbol cap, and the gross sums per class.
    for (let s = 0; s < S; s++) {
      const idx = base + s;
      if (entryExit) reason[s] = R_SIGNAL;
      const c = close[idx];
      if (c !== c) {
        target[s] = NaN;
        continue;
      }
      let f: number;
      if (goal !== null) {
        // Targets: NaN holds; after a bracket exit, the same target holds the flat position.
        // `v - v` is 0 for a finite v (one compare in the usual case), NaN for NaN and the infinities.
        const v = goal[idx];
        if (v - v !== 0 && v === v) throw targetError(p.symbols[s], t, v);
        if (v !== v || (brackets && v === bracketGoal[s])) {
          if (q[s] === 0) {
            target[s] = NaN;
            continue;
          }
          f = (q[s] * c) / equity;
          hold[s] = 1;
          nHeld++;
        } else {
          if (brackets) {
            lastGoal[s] = v;
            bracketGoal[s] = NaN;
          }
          f = goalUnits ? (v * c) / equity : v;
        }
      } else if (entryExit && q[s] !== 0) {
        if (t - ledger.openDecisionBar(s) >= horizon) {
          f = 0;
          reason[s] = R_HORIZON;
        } else {
          f = (q[s] * c) / equity;
          hold[s] = 1;
          nHeld++;
        }
      } else if (entryExit && entry[idx] === 0) {
        f = 0;
      } else if (valid !== null && valid[idx] === 0) {
        // No forecast here: the position is held (counted), but still counts toward the
        // gross cap and is cut if a limit requires it.
        this.noForecast[s]++;
        if (q[s] === 0) {
          target[s] = NaN;
          continue;
        }
        f = (q[s] * c) / equity;
        hold[s] = 1;
        nHeld++;
      } else {
        if (pWin !== null) {
          // Binary Kelly: f = fraction * (p - (1 - p) / b).
          const pw = pWin[idx];
          const b = payoff !== null ? payoff[idx] : p.payoffRatio;
          if (!(pw >= 0 && pw <= 1) || !(b > 0 && b < Infinity)) badProbability(p.symbols[s], t, pw, b);
          f = kellyFraction * (pw - (1 - pw) / b);
        } else {
          const m = mu[idx];
          let sg = sigma[idx];
          if (!usableForecast(m, sg)) throw forecastError(p.symbols[s], t, m, sg);
          if (sg < sigmaFloor) sg = sigmaFloor;
          f = signalFraction(sizingKind, kellyFraction, weight, followSign, m, sg);
        }
        if (regimeMult !== null) f *= regimeMult[regime[idx]];
        f *= oneClass ? lev0 : lev[s];
        // An entry flag says the direction; a sizing that disagrees means no entry.
        if (entryExit && f * entry[idx] <= 0) f = 0;
      }
      if (f > capPerSymbol || f < -capPerSymbol) {
        f = f > 0 ? capPerSymbol : -capPerSymbol;
        binds[L.CAP * S + s]++;
        mask |= 1 << L.CAP;
      }
      target[s] = f;
      // One accumulator in a register when all symbols share a class (the usual case): a
      // typed-array slot updated every symbol would chain each add through memory.
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    this.nHeld = nHeld;
    return mask;
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
    // `| 0`: the mask stays an untagged integer in a register (a call's result is any value).
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
      mask = (mayHold ? (goalRun ? this.goalTargets(t, equity, allQuoted) : this.ruleTargets(t, equity)) : this.signalTargets(t, allQuoted)) | 0;
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

/** The sizing's fraction of equity from one forecast, before the regime multiplier, leverage and limits (see `runBacktest`). */
function signalFraction(kind: number, kellyFraction: number, weight: number, followSign: boolean, mu: number, sigma: number): number {
  if (kind === Kind.KELLY) return (kellyFraction * mu) / (sigma * sigma);
  if (kind === Kind.TARGET_WEIGHT) return followSign ? weight * Math.sign(mu) : weight;
  return (followSign ? Math.sign(mu) : 1) * (weight / sigma);
}

/**
 * A forecast the sizing can use: mu finite, sigma finite and not negative. One compare for both
 * finiteness tests (`x * 0` and `x - x` are 0 for a finite x, NaN for NaN or an infinity), where
 * `m > -Infinity && m < Infinity && sg < Infinity` made three constants and three branches per symbol.
 */
function usableForecast(m: number, sg: number): boolean {
  return m * 0 + (sg - sg) === 0 && sg >= 0;
}
