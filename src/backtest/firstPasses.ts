/**
 * The decision's first pass for the books that do not get the plain paths of `Sizer.decide`
 * (several classes, regimes, rules that hold a position, a validity mask, probability sizing,
 * targets with brackets or in units, and bars with a missing quote or a NaN target): targets as
 * fractions of equity per symbol, the per-symbol cap (counted), the gross sums per class. Also the
 * sizing's formula (`signalFraction`), which the plain paths use too.
 *
 * `FirstPasses` holds the per-symbol state these passes and the decision share; `Sizer` extends it.
 */
import { REASON } from './ledger';
import { type SizerSetup } from './sizerSetup';
import { badProbability, forecastError, targetError } from './sizingErrors';

const R_SIGNAL = REASON.signal;
const R_HORIZON = REASON.horizon;

// Sizing kinds as a const enum: the compiler writes the number at each use (see sizing.ts's limit indices).
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

/** The per-symbol state of the decision's first pass, and the passes that fill it. */
export class FirstPasses {
  /** Times limit L changed the target of symbol s: `binds[L * S + s]` (L in the order of LIMIT_NAMES). */
  readonly binds: Int32Array;
  readonly noForecast: Float64Array;
  /** This bar's target fraction per symbol, NaN where the symbol gets no decision. */
  protected readonly target: Float64Array;
  /** The reason code of each symbol's order (signal, or the horizon of an entryExit rule). */
  protected readonly reason: Uint8Array;
  /**
   * 1 where this bar's target is the current position, kept unless a limit changes it. Only the
   * symbols held are marked (`nHeld` of them), and the marks are cleared at the next bar that had
   * any: most bars hold nothing, and then `decide` reads no mark at all.
   */
  protected readonly hold: Uint8Array;
  protected nHeld = 0;
  protected readonly grossSum: Float64Array;
  /** The per-symbol cap's row of `binds` (limit 0). */
  protected readonly capBinds: Int32Array;
  /**
   * Per symbol: the last target given (NaN before any), and the target a bracket (stop / take-profit) exited, NaN when none.
   * Kept only when the run has brackets: without them no exit is reported, and `bracketGoal` stays NaN.
   */
  protected readonly lastGoal: Float64Array;
  protected readonly bracketGoal: Float64Array;
  protected readonly brackets: boolean;

  constructor(protected readonly p: SizerSetup) {
    const S = p.symbols.length;
    this.binds = new Int32Array(6 * S);
    this.capBinds = this.binds.subarray(0, S);
    this.noForecast = new Float64Array(S);
    this.target = new Float64Array(S);
    this.reason = new Uint8Array(S);
    this.hold = new Uint8Array(S);
    this.grossSum = new Float64Array(p.grossIntraday.length);
    this.lastGoal = new Float64Array(S).fill(NaN);
    this.bracketGoal = new Float64Array(S).fill(NaN);
    this.brackets = p.brackets === true;
  }

  /**
   * Pass 1 where the target never depends on the position (rule rebalance, no validity mask):
   * targets from the signals, the per-symbol cap, gross sums per class. Returns whether the cap
   * bound. The usual case gets this loop of its own: without the rules that hold a position
   * it has fewer values to keep live, and runs about 20% fewer instructions per symbol than
   * `ruleTargets` does for the same targets (callgrind, bench market: 91 against 114).
   */
  protected signalTargets(t: number, allQuoted: boolean): boolean {
    const p = this.p;
    const { close, mu, sigma, regime, cls, lev, kellyFraction, weight, regimeMult, sigmaFloor, capPerSymbol } = p;
    const sizingKind = p.sizingKind | 0;
    const followSign = p.followSign === true;
    const oneClass = p.oneClass === true;
    const lev0 = lev[0];
    const { target, grossSum, capBinds } = this;
    const S = target.length;
    const base = t * S;
    let capBound = false;
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
        capBinds[s]++;
        capBound = true;
      }
      target[s] = f;
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    return capBound;
  }

  /**
   * Pass 1 for targets (`signals.target`): `ruleTargets`' target branch in a loop of its own. A
   * target run has no entry rule, validity mask or probability sizing (the target decides before
   * them), so the loop tests none of them at every symbol: about a quarter fewer instructions per
   * symbol than `ruleTargets` for the same targets.
   */
  protected goalTargets(t: number, equity: number, allQuoted: boolean): boolean {
    const p = this.p;
    const { close, cls, ledger, capPerSymbol } = p;
    const goal = p.goal as Float64Array;
    const goalUnits = p.goalUnits === true;
    const { lastGoal, bracketGoal } = this;
    const brackets = this.brackets === true;
    const oneClass = p.oneClass === true;
    const { target, hold, grossSum, capBinds } = this;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    let capBound = false;
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
        capBinds[s]++;
        capBound = true;
      }
      target[s] = f;
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    this.nHeld = nHeld;
    return capBound;
  }

  /**
   * Pass 1 under rules that can hold a position (entryExit, a validity mask, targets) and for
   * the probability sizing: as `signalTargets`, with the rule deciding first whether the
   * position is held, left at the horizon, entered or not decided at all.
   */
  protected ruleTargets(t: number, equity: number): boolean {
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
    const { target, reason, hold, grossSum, capBinds } = this;
    const q = ledger.qty;
    const S = q.length;
    const base = t * S;
    let capBound = false;
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
        capBinds[s]++;
        capBound = true;
      }
      target[s] = f;
      // One accumulator in a register when all symbols share a class (the usual case): a
      // typed-array slot updated every symbol would chain each add through memory.
      if (oneClass) gross0 += Math.abs(f);
      else grossSum[cls[s]] += Math.abs(f);
    }
    if (oneClass) grossSum[cls[0]] = gross0;
    this.nHeld = nHeld;
    return capBound;
  }
}

/** The sizing's fraction of equity from one forecast, before the regime multiplier, leverage and limits (see `runBacktest`). */
export function signalFraction(kind: number, kellyFraction: number, weight: number, followSign: boolean, mu: number, sigma: number): number {
  if (kind === Kind.KELLY) return (kellyFraction * mu) / (sigma * sigma);
  if (kind === Kind.TARGET_WEIGHT) return followSign ? weight * Math.sign(mu) : weight;
  return (followSign ? Math.sign(mu) : 1) * (weight / sigma);
}

/**
 * A forecast the sizing can use: mu finite, sigma finite and not negative. One compare for both
 * finiteness tests (`x * 0` and `x - x` are 0 for a finite x, NaN for NaN or an infinity), where
 * `m > -Infinity && m < Infinity && sg < Infinity` made three constants and three branches per symbol.
 */
export function usableForecast(m: number, sg: number): boolean {
  return m * 0 + (sg - sg) === 0 && sg >= 0;
}
