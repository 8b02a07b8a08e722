/**
 * Orders between the decision and the fill: the orders that wait for the next bar's open, and
 * the cash a buy may spend (perpetuals' margin added back, whole lots).
 */

/**
 * Orders decided at one bar that fill at the next bar's open (so every one was decided at
 * the bar before its fill). Sells and buys are kept apart, each in the order added: the fill
 * takes sells first, and a list per side spares it a test of each order's sign per pass.
 */
export class PendingOrders {
  readonly qty: Float64Array;
  readonly reason: Uint8Array;
  readonly sells: Int32Array;
  readonly buys: Int32Array;
  nSells = 0;
  nBuys = 0;

  constructor(S: number) {
    this.qty = new Float64Array(S);
    this.reason = new Uint8Array(S);
    this.sells = new Int32Array(S);
    this.buys = new Int32Array(S);
  }

  add(s: number, qty: number, reason: number): void {
    this.qty[s] = qty;
    this.reason[s] = reason;
    if (qty < 0) this.sells[this.nSells++] = s;
    else this.buys[this.nBuys++] = s;
  }

  clear(): void {
    this.nSells = 0;
    this.nBuys = 0;
  }
}

/**
 * Cash that is really there: perpetual positions are margin, not cash spent, so their notional is added back.
 * @example trueCash(-1000, [0], Float64Array.of(10), Float64Array.of(100)); // 0
 */
export function trueCash(cash: number, perps: readonly number[], q: Float64Array, lastPx: Float64Array): number {
  let c = cash;
  for (const s of perps) if (q[s] !== 0) c += q[s] * lastPx[s];
  return c;
}

/**
 * The largest buy, up to `d` units, that `available` cash pays for at `px` with slippage and fees, in whole lots.
 * @example cashLimitedBuy(10, 100, 0, 0, 0, 1, 550); // 5
 */
export function cashLimitedBuy(d: number, px: number, slippage: number, fee: number, fixedFee: number, lot: number, available: number): number {
  const unit = px * (1 + slippage) * (1 + fee);
  if (d * unit + fixedFee <= available) return d;
  return Math.max(0, roundToLot((available - fixedFee) / unit, lot));
}

/**
 * Rounds a quantity toward zero to a multiple of `lot`.
 * The tiny nudge keeps 0.3 / 0.1 (2.9999999999999996 in binary) from losing a whole lot.
 * @example roundToLot(1.2349, 0.001); // 1.234
 */
export function roundToLot(quantity: number, lot: number): number {
  const units = quantity / lot;
  const whole = units > 0 ? Math.floor(units + 1e-9) : -Math.floor(-units + 1e-9);
  return whole === 0 ? 0 : whole * lot;
}
