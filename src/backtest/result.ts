/**
 * What a backtest run returns, and the bits of it other modules read: the funding
 * series a run takes, kill-switch events, limit names.
 */
import type { FundingArrays } from '../data/load/funding';
import type { BacktestConfig, InstrumentClassName, KillAction } from './config';
import type { Trade } from './ledger';

/** The limits applied to a target, in the order they are applied. */
export const LIMIT_NAMES = ['perSymbolCap', 'grossIntraday', 'grossAtClose', 'longOnly', 'minTrade', 'cash'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Funding payments of one perpetual: times (ms UTC) and rates per period, longs paying positive rates (the data layer's `fundingToArrays`). */
export type FundingSeries = FundingArrays;

/** The kill switches, plus `ruin` (equity at or below zero, always a stop). */
export type KillSwitchName = 'maxDrawdown' | 'dailyLoss' | 'consecutiveLosses' | 'fundingSpike' | 'ruin';

/** When and why a kill switch fired. */
export interface KillEvent {
  switch: KillSwitchName;
  bar: number;
  time: number;
  /** The measured value (drawdown fraction, day loss fraction, streak length, funding rate, equity). */
  value: number;
  threshold: number;
  action: KillAction;
  /** When trading resumed (ms), or null when it never did. */
  resumeTime: number | null;
  /** The perpetual whose funding spiked. */
  symbol?: string;
}

/** Options of a run that are not strategy configuration. */
export interface BacktestOptions {
  /** Funding series by perpetual symbol. */
  funding?: Readonly<Record<string, FundingSeries>>;
  /** Keep the position of every bar and symbol (default true). */
  recordPositions?: boolean;
  /** Keep every target quantity decided (NaN where none was), bar-major (default false). */
  recordDecisions?: boolean;
}

/** Everything a run produced. Arrays are per bar (length T) unless said otherwise. */
export interface BacktestResult {
  config: BacktestConfig;
  symbols: readonly string[];
  classes: InstrumentClassName[];
  ts: Float64Array;
  /** Equity after all fills of the bar, marked at close (account currency). */
  equity: Float64Array;
  cash: Float64Array;
  /** Sum of |position notional| at close. */
  grossExposure: Float64Array;
  /** Quantity held at each bar's end, bar-major (T * S), or null. */
  positions: Float64Array | null;
  /** Target quantity decided at each bar, bar-major, NaN where no decision; or null. */
  decisions: Float64Array | null;
  trades: Trade[];
  limits: {
    /** Times each limit changed a target (one count per bar and symbol it changed). */
    counts: Record<LimitName, number>;
    bySymbol: Record<LimitName, number[]>;
    /** Per bar: bit i set when LIMIT_NAMES[i] bound at that bar. */
    bindingMask: Uint8Array;
  };
  costs: { fees: number; slippage: number; interest: number; funding: number; tradedNotional: number };
  /** Orders filled. */
  fills: number;
  killEvents: KillEvent[];
  /** Time trading stopped for good (stop action or ruin), or null. */
  stoppedAt: number | null;
  /** Everything that did not go as asked, counted. */
  fallbacks: {
    /** Bars where a symbol had no quote (no decision, marked at its last close). */
    missingQuotes: number[];
    /** Bars where a symbol's signal was marked invalid (no forecast): no decision, position held. */
    noForecast: number[];
    /** Orders cancelled because the symbol had no bar to fill at. */
    cancelledOrders: number;
    /** Buys cut at the fill because cash was short at the fill price. */
    cashCutAtFill: number;
    /** Perpetuals traded without a funding series (no funding charged). */
    perpsWithoutFunding: string[];
  };
  periodsPerYear: number;
  lookAhead: boolean;
}
