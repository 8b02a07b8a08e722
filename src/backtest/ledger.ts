/**
 * The account's books: cash, positions, costs paid, and round-trip trades.
 *
 * A trade is one episode of a symbol's position: it opens when the position leaves
 * zero and closes when it returns to zero or changes sign (a sign change closes one
 * trade and opens the next at the same fill). Partial increases and reductions in
 * between belong to the same trade. A trade's P&L is every cash flow it caused:
 * fills (at their slipped prices), fees and funding; interest on borrowed cash is an
 * account cost and is not attributed to trades.
 */

/**
 * Why a position was changed (`stop`: a stop-loss, `takeProfit`: a take-profit level, `end`: still
 * open at the end, marked and not closed; `finalClose`: closed at the last bar's close, as the
 * backtesting.py conventions do).
 */
export type ExitReason = 'signal' | 'horizon' | 'stop' | 'killSwitch' | 'end' | 'takeProfit' | 'finalClose';

/** Reason codes used inside the engine (index into `EXIT_REASONS`). */
export const REASON = { signal: 0, horizon: 1, stop: 2, killSwitch: 3, end: 4, takeProfit: 5, finalClose: 6 } as const;
export const EXIT_REASONS: readonly ExitReason[] = ['signal', 'horizon', 'stop', 'killSwitch', 'end', 'takeProfit', 'finalClose'];

/** One closed (or, with `exitReason: 'end'`, still open) round trip. */
export interface Trade {
  symbol: string;
  side: 'long' | 'short';
  /** Bar at which the entry was decided (the forecast's bar). */
  decisionBar: number;
  /** Bar of the entry fill and of the exit fill (or the last bar for open trades). */
  entryBar: number;
  exitBar: number;
  entryTime: number;
  exitTime: number;
  /** Volume-weighted fill prices of the opening side and of the closing side (after slippage). */
  entryPrice: number;
  exitPrice: number;
  /** Largest absolute quantity held during the trade. */
  maxQuantity: number;
  /** Net P&L, account currency: fills, fees and funding. */
  pnl: number;
  fees: number;
  slippage: number;
  /** Funding paid (negative: received). */
  funding: number;
  /** pnl / largest notional held at cost (a fraction). */
  returnOnNotional: number;
  /** pnl / account equity when the trade opened (a fraction); what the trade bootstrap resamples. */
  returnOnEquity: number;
  exitReason: ExitReason;
  /** The signal's `score` at the entry decision (e.g. pUp); NaN when the signal has none. */
  score: number;
}

/** Per-fill costs of a class, as fractions. */
export interface FillCosts {
  fee: Float64Array;
  fixedFee: Float64Array;
  slippage: Float64Array;
}

/** Cash, positions, costs and trades of one backtest. */
export class Ledger {
  // Number fields get a number where they are declared: a field declared without a value is
  // first defined as undefined (ES2022 class fields), and V8 then keeps every later number in
  // it as a new heap object, an allocation and a write barrier per store (cash changes every bar).
  cash = 0;
  readonly qty: Float64Array;
  /** 1 for symbols that ever had a fill. */
  readonly filled: Uint8Array;
  feesPaid = 0;
  slippagePaid = 0;
  interestPaid = 0;
  fundingPaid = 0;
  tradedNotional = 0;
  /** Orders filled. */
  fills = 0;
  readonly trades: Trade[] = [];
  /** Account equity at the last mark (the engine keeps it current); trades record it at entry. */
  equity = 0;
  /** Losing trades in a row, for the kill switch. */
  losingStreak = 0;
  /** The quantity and reference price of the fill being made (see `fill`). */
  private fillDelta = 0;
  private fillRef = 0;
  private readonly side: Int8Array;
  private readonly decisionBar: Int32Array;
  private readonly entryBar: Int32Array;
  private readonly flow: Float64Array;
  private readonly fees: Float64Array;
  private readonly slip: Float64Array;
  private readonly funding: Float64Array;
  private readonly openQty: Float64Array;
  private readonly openValue: Float64Array;
  private readonly closeQty: Float64Array;
  private readonly closeValue: Float64Array;
  private readonly maxQty: Float64Array;
  private readonly maxNotional: Float64Array;
  private readonly entryEquity: Float64Array;
  private readonly score: Float64Array;

  constructor(
    capital: number,
    private readonly symbols: readonly string[],
    private readonly costs: FillCosts,
    private readonly ts: Float64Array,
    /** The signals' per-bar scores (bar-major), reported with the trades they open; or null. */
    private readonly scores: Float64Array | null = null,
  ) {
    const S = symbols.length;
    this.cash = capital;
    this.equity = capital;
    this.qty = new Float64Array(S);
    this.filled = new Uint8Array(S);
    this.side = new Int8Array(S);
    this.decisionBar = new Int32Array(S);
    this.entryBar = new Int32Array(S);
    this.flow = new Float64Array(S);
    this.fees = new Float64Array(S);
    this.slip = new Float64Array(S);
    this.funding = new Float64Array(S);
    this.openQty = new Float64Array(S);
    this.openValue = new Float64Array(S);
    this.closeQty = new Float64Array(S);
    this.closeValue = new Float64Array(S);
    this.maxQty = new Float64Array(S);
    this.maxNotional = new Float64Array(S);
    this.entryEquity = new Float64Array(S);
    this.score = new Float64Array(S);
  }

  /**
   * Fills `delta` units of symbol `s` at reference price `ref` (slippage moves the
   * price against the order). A trade it opens records the account's `equity` and the
   * signal's score at `decisionBar`. (No return value, and the two doubles travel in fields: this
   * small wrapper is inlined where it is called, and each double passed to a call that is not
   * inlined would cost an allocation, two per fill.)
   */
  fill(s: number, delta: number, ref: number, t: number, reason: number, decisionBar: number): void {
    this.fillDelta = delta;
    this.fillRef = ref;
    this.applyFill(s, t, reason, decisionBar);
  }

  private applyFill(s: number, t: number, reason: number, decisionBar: number): void {
    const delta = this.fillDelta;
    const ref = this.fillRef;
    const slipFrac = this.costs.slippage[s];
    const dir = delta > 0 ? 1 : -1;
    const price = ref * (1 + dir * slipFrac);
    const absDelta = Math.abs(delta);
    const fee = absDelta * price * this.costs.fee[s] + this.costs.fixedFee[s];
    const slippage = absDelta * ref * slipFrac;
    this.cash -= delta * price + fee;
    this.feesPaid += fee;
    this.slippagePaid += slippage;
    this.tradedNotional += absDelta * price;
    this.fills++;
    this.filled[s] = 1;

    const q0 = this.qty[s];
    const closing = q0 !== 0 && dir !== Math.sign(q0) ? Math.min(absDelta, Math.abs(q0)) : 0;
    const opening = absDelta - closing;
    this.qty[s] = closing === Math.abs(q0) && opening === 0 ? 0 : q0 + delta;
    if (closing > 0) {
      const share = closing / absDelta;
      this.flow[s] += -dir * closing * price - fee * share;
      this.fees[s] += fee * share;
      this.slip[s] += slippage * share;
      this.closeQty[s] += closing;
      this.closeValue[s] += closing * price;
      if (closing === Math.abs(q0)) this.closeTrade(s, t, reason);
    }
    if (opening > 0) {
      const share = opening / absDelta;
      if (closing > 0 || q0 === 0) this.startTrade(s, dir, t, decisionBar);
      this.flow[s] += -dir * opening * price - fee * share;
      this.fees[s] += fee * share;
      this.slip[s] += slippage * share;
      this.openQty[s] += opening;
      this.openValue[s] += opening * price;
      const held = Math.abs(this.qty[s]);
      if (held > this.maxQty[s]) this.maxQty[s] = held;
      const notional = (held * this.openValue[s]) / this.openQty[s];
      if (notional > this.maxNotional[s]) this.maxNotional[s] = notional;
    }
  }

  private startTrade(s: number, dir: number, t: number, decisionBar: number): void {
    this.side[s] = dir;
    this.flow[s] = 0;
    this.fees[s] = 0;
    this.slip[s] = 0;
    this.funding[s] = 0;
    this.openQty[s] = 0;
    this.openValue[s] = 0;
    this.closeQty[s] = 0;
    this.closeValue[s] = 0;
    this.maxQty[s] = 0;
    this.maxNotional[s] = 0;
    this.decisionBar[s] = decisionBar;
    this.entryBar[s] = t;
    this.entryEquity[s] = this.equity;
    this.score[s] = this.scores === null ? NaN : this.scores[decisionBar * this.qty.length + s];
  }

  /** Pays funding on symbol s (negative amount: received); counted in the open trade. */
  payFunding(s: number, amount: number): void {
    this.cash -= amount;
    this.fundingPaid += amount;
    this.funding[s] += amount;
    this.flow[s] -= amount;
  }

  /** Charges (or, negative, credits) interest to cash. */
  payInterest(amount: number): void {
    this.cash -= amount;
    this.interestPaid += amount;
  }

  /** Entry decision bar of the open trade of s (valid only while qty[s] != 0). */
  openDecisionBar(s: number): number {
    return this.decisionBar[s];
  }

  /** Entry fill price (volume-weighted) of the open trade of s. */
  openEntryPrice(s: number): number {
    return this.openValue[s] / this.openQty[s];
  }

  /** Bar of the open trade's first fill. */
  openEntryBar(s: number): number {
    return this.entryBar[s];
  }

  private closeTrade(s: number, t: number, reason: number, markPrice = NaN): void {
    const open = reason === REASON.end;
    const pnl = open ? this.flow[s] + this.qty[s] * markPrice : this.flow[s];
    this.trades.push({
      symbol: this.symbols[s],
      side: this.side[s] > 0 ? 'long' : 'short',
      decisionBar: this.decisionBar[s],
      entryBar: this.entryBar[s],
      exitBar: t,
      entryTime: this.ts[this.entryBar[s]],
      exitTime: this.ts[t],
      entryPrice: this.openValue[s] / this.openQty[s],
      exitPrice: open ? markPrice : this.closeValue[s] / this.closeQty[s],
      maxQuantity: this.maxQty[s],
      pnl,
      fees: this.fees[s],
      slippage: this.slip[s],
      funding: this.funding[s],
      returnOnNotional: pnl / this.maxNotional[s],
      returnOnEquity: pnl / this.entryEquity[s],
      exitReason: EXIT_REASONS[reason],
      score: this.score[s],
    });
    if (!open) this.losingStreak = pnl < 0 ? this.losingStreak + 1 : 0;
  }

  /** Records every still-open position as a trade marked at `lastPrice` (no exit costs). */
  markOpenTrades(t: number, lastPrice: Float64Array): void {
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) this.closeTrade(s, t, REASON.end, lastPrice[s]);
  }
}
