/**
 * What the sizer (`Sizer` in sizing.ts) reads, prepared once per run by `prepareRun`: the
 * market's closes, the signals, the sizing's constants, per-symbol and per-class rules as typed
 * arrays, and the account's state objects it shares with the bar loop.
 */
import { type FillCosts, type Ledger } from './ledger';
import { type PendingOrders } from './orders';

/** Everything the decision reads, prepared once per run (per-symbol values are per index s). */
export interface SizerSetup {
  symbols: readonly string[];
  T: number;
  close: Float64Array;
  mu: Float64Array;
  sigma: Float64Array;
  /** Empty when unused. */
  regime: Uint8Array;
  entry: Int8Array;
  valid: Uint8Array | null;
  sizingKind: number;
  /** Share of full Kelly (kelly and probability sizings). */
  kellyFraction: number;
  /** Target positions (bar-major, NaN = hold) replacing the sizing, or null. */
  goal: Float64Array | null;
  /** True when the run has bracket levels (stop-loss / take-profit), whose exits `bracketExited` reports. */
  brackets: boolean;
  /** True when `goal` holds units, false for weights of equity. */
  goalUnits: boolean;
  /** Probability of a win and payoff ratio per bar (probability sizing), or null; `payoffRatio` when `payoff` is null. */
  pWin: Float64Array | null;
  payoff: Float64Array | null;
  payoffRatio: number;
  /** Target weight, or for volTarget the annual volatility over sqrt(periods per horizon). */
  weight: number;
  followSign: boolean;
  regimeMult: Float64Array | null;
  sigmaFloor: number;
  capPerSymbol: number;
  minTradeNotional: number;
  minTradeFraction: number;
  entryExit: boolean;
  horizon: number;
  fillAtClose: boolean;
  /** Per symbol. */
  cls: Uint8Array;
  /** True when every symbol has the same class. */
  oneClass: boolean;
  lev: Float64Array;
  lot: Float64Array;
  longOnly: Uint8Array;
  cashOnly: Uint8Array;
  isPerp: Uint8Array;
  perps: readonly number[];
  costs: FillCosts;
  /** Per class. */
  grossIntraday: Float64Array;
  grossAtClose: Float64Array;
  closeCap: Uint8Array;
  /** Shared with the engine: last valid close per symbol. */
  lastPx: Float64Array;
  ledger: Ledger;
  pending: PendingOrders;
  decisions: Float64Array | null;
}
