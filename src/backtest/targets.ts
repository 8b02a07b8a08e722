/**
 * Strategies beyond forecasts: per-bar target positions (weights of equity or units,
 * NaN = hold), and rules (`(view, t) => targets`) that see the market only up to bar t,
 * including coarser timeframes that become visible only once their bar has closed.
 * Both become the engine's `Signals` (field `target`), so that they run through the same
 * accounting, limits, costs, kill switches, statistics, Monte Carlo and walk-forward as
 * the forecast path.
 */
import { ConfigError, DataError } from '../core/errors';
import type { BacktestConfigInput } from './config';
import { runBacktest } from './engine';
import type { MarketArrays } from './market';
import type { BacktestOptions, BacktestResult } from './result';
import type { Signals } from './signals';
import { BoundedView, type MarketView } from './strategy';

/** Target positions per bar and symbol, bar-major (index `t * S + s`). */
export interface Targets {
  /** The position wanted after bar t's decision; NaN holds what is there. */
  target: Float64Array;
  /** `weight` (default): signed fraction of equity; `units`: signed quantity. */
  unit?: 'weight' | 'units';
  /** Stop-loss / take-profit price levels for the position after bar t's decision; NaN keeps the level in force. */
  stopLoss?: Float64Array;
  takeProfit?: Float64Array;
  /** Decisions start at this bar (default 0). */
  firstBar?: number;
  /** Reported with each trade opened at that bar (e.g. a classifier's probability). */
  score?: Float64Array;
}

/**
 * Targets as the engine's signals (mu and sigma empty; horizon 1 bar).
 *
 * The engine then skips the sizing: a weight `w` is the target notional `w * equity`, a unit
 * target `u` the quantity `u` (no leverage multiplier); the limits apply in their usual order
 * (per-symbol cap, gross caps, long-only, minimum trade, cash), each counted when it binds.
 * NaN holds the position (no order, nothing counted). After a stop-loss or take-profit exit
 * the symbol stays flat while the target stays what it was, and follows it again once it changes.
 *
 * @throws DataError when an array's length is not T * S.
 * @example
 * const sig = targetSignals(market, { target: weights });
 * runBacktest(market, sig, { defaultClass: 'crypto' });
 */
export function targetSignals(market: MarketArrays, targets: Targets): Signals {
  const n = market.ts.length * market.symbols.length;
  for (const [name, a] of [['target', targets.target], ['stopLoss', targets.stopLoss], ['takeProfit', targets.takeProfit], ['score', targets.score]] as const) {
    if (a !== undefined && a.length !== n) {
      throw new DataError(`targets array ${name} has ${a.length} values but the bars need ${n} (${market.ts.length} bars x ${market.symbols.length} symbols)`, { column: name, value: a.length });
    }
  }
  return {
    mu: new Float64Array(0),
    sigma: new Float64Array(0),
    horizonBars: 1,
    firstBar: targets.firstBar ?? 0,
    target: targets.target,
    targetUnit: targets.unit ?? 'weight',
    ...(targets.stopLoss ? { stopLoss: targets.stopLoss } : {}),
    ...(targets.takeProfit ? { takeProfit: targets.takeProfit } : {}),
    ...(targets.score ? { score: targets.score } : {}),
  };
}

/**
 * Runs a backtest from target positions: `runBacktest(market, targetSignals(market, targets), config, options)`.
 * @throws as `targetSignals` and `runBacktest`.
 * @example
 * const r = runTargets(market, { target: Float64Array.from({ length: T * S }, () => 1 / S) }, { defaultClass: 'crypto' });
 */
export function runTargets(market: MarketArrays, targets: Targets, config: BacktestConfigInput = {}, options: BacktestOptions = {}): BacktestResult {
  return runBacktest(market, targetSignals(market, targets), config, options);
}

/** What a rule returns for one bar: targets per symbol, or targets with bracket levels. */
export type RuleOutput =
  | ArrayLike<number>
  | { target: ArrayLike<number>; stopLoss?: ArrayLike<number>; takeProfit?: ArrayLike<number>; score?: ArrayLike<number> };

/** A rule: the targets for bar t from the market up to t (see `ruleSignals`). */
export type RuleFn = (view: MarketView, t: number) => RuleOutput;

/** Options of `ruleSignals`. */
export interface RuleOptions {
  /** `weight` (default) or `units`. */
  unit?: 'weight' | 'units';
  /** Bars before which the rule is not called (its targets are NaN: hold, i.e. flat). Default 0. */
  warmupBars?: number;
}

/**
 * Calls a rule at every bar from `warmupBars` on with a view that ends at bar t (a coarser
 * `view.timeframe('4h')` shows only the 4-hour bars closed by bar t's close) and collects
 * its targets, stop-loss and take-profit levels. The rule may keep state in its closure
 * (entries, exits, trailing stops, time exits); it is called once per bar in time order.
 * Its output is copied, so it may reuse one array.
 *
 * @returns Signals with `target` (and `stopLoss` / `takeProfit` / `score` when the rule gave any).
 * @throws ConfigError when the rule returns a row of the wrong length (naming the bar); whatever the rule throws.
 * @example
 * // SMA(10) over SMA(40) long, else flat; stop 2% under the close at each bar.
 * const sig = ruleSignals(market, (view) => {
 *   const out = { target: new Float64Array(view.symbols.length), stopLoss: new Float64Array(view.symbols.length) };
 *   // ... fill out.target[s] = 0.5 or 0, out.stopLoss[s] = 0.98 * view.at('close', s)
 *   return out;
 * }, { warmupBars: 40 });
 * runBacktest(market, sig, { defaultClass: 'crypto' });
 */
export function ruleSignals(market: MarketArrays, rule: RuleFn, opts: RuleOptions = {}): Signals {
  const S = market.symbols.length;
  const T = market.ts.length;
  const first = Math.min(opts.warmupBars ?? 0, T);
  if (!Number.isInteger(first) || first < 0) throw new ConfigError('warmupBars must be a non-negative integer', { key: 'warmupBars', value: opts.warmupBars });
  const target = new Float64Array(T * S).fill(NaN);
  let stopLoss: Float64Array | null = null;
  let takeProfit: Float64Array | null = null;
  let score: Float64Array | null = null;
  const view = new BoundedView(market);
  const copy = (into: Float64Array, row: ArrayLike<number>, t: number, name: string): void => {
    if (row.length !== S) throw new ConfigError(`rule returned ${row.length} ${name} values at bar ${t}; the market has ${S} symbols`, { key: name, value: row.length });
    for (let s = 0; s < S; s++) into[t * S + s] = row[s];
  };
  for (let t = first; t < T; t++) {
    view.t = t;
    const out = rule(view, t);
    if (isArrayLike(out)) {
      copy(target, out, t, 'target');
      continue;
    }
    copy(target, out.target, t, 'target');
    if (out.stopLoss) copy((stopLoss ??= new Float64Array(T * S).fill(NaN)), out.stopLoss, t, 'stopLoss');
    if (out.takeProfit) copy((takeProfit ??= new Float64Array(T * S).fill(NaN)), out.takeProfit, t, 'takeProfit');
    if (out.score) copy((score ??= new Float64Array(T * S).fill(NaN)), out.score, t, 'score');
  }
  return targetSignals(market, {
    target,
    unit: opts.unit ?? 'weight',
    firstBar: first,
    ...(stopLoss ? { stopLoss } : {}),
    ...(takeProfit ? { takeProfit } : {}),
    ...(score ? { score } : {}),
  });
}

function isArrayLike(x: RuleOutput): x is ArrayLike<number> {
  return typeof (x as ArrayLike<number>).length === 'number';
}

/**
 * Signals for the `probability` sizing: a probability of a win per bar and symbol (e.g. a
 * calibrated classifier's output), and optionally a payoff ratio per bar (else the config's
 * `sizing.payoff`). The engine sizes `f = fraction * (p - (1 - p) / b)` (binary Kelly).
 * @param horizonBars - the bets' horizon (informational; default 1).
 * @throws DataError when an array's length is not T * S (values are checked at the bar that uses them).
 * @example
 * runBacktest(market, probabilitySignals(market, pUp), { defaultClass: 'crypto', sizing: { kind: 'probability', fraction: 0.5, payoff: 1 } });
 */
export function probabilitySignals(market: MarketArrays, pWin: Float64Array,
  opts: { payoff?: Float64Array; firstBar?: number; horizonBars?: number; score?: Float64Array } = {}): Signals {
  const n = market.ts.length * market.symbols.length;
  for (const [name, a] of [['pWin', pWin], ['payoff', opts.payoff]] as const) {
    if (a !== undefined && a.length !== n) throw new DataError(`${name} has ${a.length} values but the bars need ${n}`, { column: name, value: a.length });
  }
  return {
    mu: new Float64Array(0),
    sigma: new Float64Array(0),
    horizonBars: opts.horizonBars ?? 1,
    firstBar: opts.firstBar ?? 0,
    pWin,
    ...(opts.payoff ? { payoff: opts.payoff } : {}),
    score: opts.score ?? pWin,
  };
}
