/**
 * The setup of a backtest run: the inputs checked against the config, and the config turned into
 * what the bar loop (`runBars` in engine.ts) reads: per-symbol rules as typed arrays, the switches
 * of the optional steps as plain numbers and flags, the account's state objects and the sizer.
 * Runs once per backtest, outside the bar loop.
 */
import { ConfigError, DataError } from '../core/errors';
import { medianBarMs, type MarketArrays } from './market';
import { periodsPerYear as periodsPerYearOf } from './annualize';
import { INSTRUMENT_CLASSES, classRules, symbolClass, type BacktestConfig, type InstrumentClassName } from './config';
import { prepareFunding, type FundingCursor } from './funding';
import { KillState } from './kill';
import { Ledger, type FillCosts } from './ledger';
import { type BacktestOptions } from './result';
import { checkSignals, type Signals } from './signals';
import { PendingOrders } from './orders';
import { sizingCode } from './firstPasses';
import { Sizer } from './sizing';

/**
 * Everything the bar loop reads, prepared once per run: the market, per-symbol rules as typed
 * arrays indexed by symbol, the switches of the optional steps (stops, brackets, the preset,
 * funding, interest) as plain numbers and flags, and the account's state objects.
 */
export interface RunSetup {
  cfg: BacktestConfig;
  symbols: readonly string[];
  classes: InstrumentClassName[];
  S: number;
  T: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  sessionEnd: Uint8Array;
  /** Per symbol: 1 where buys are limited by cash; lot size; costs. */
  cashOnly: Uint8Array;
  lot: Float64Array;
  costs: FillCosts;
  perps: number[];
  funding: FundingCursor[];
  ppy: number;
  firstBar: number;
  borrowRate: number;
  cashRate: number;
  fillAtClose: boolean;
  /** Stop distance of the entryExit rule (0: none). */
  stopLoss: number;
  /** backtesting.py conventions: the targets, and per symbol the order waiting for the next open and the last target seen. */
  preset: boolean;
  goal: Float64Array;
  presetWeight: Float64Array;
  presetLast: Float64Array;
  /** Bracket levels given per bar (or null), and those in force per symbol (NaN: none). */
  brackets: boolean;
  slIn: Float64Array | null;
  tpIn: Float64Array | null;
  slLevel: Float64Array;
  tpLevel: Float64Array;
  recordPositions: boolean;
  decisions: Float64Array | null;
  lastPx: Float64Array;
  ledger: Ledger;
  pend: PendingOrders;
  sizer: Sizer;
  kill: KillState;
}

/**
 * The setup step: checks the inputs against the config (in the order the errors are documented
 * on `runBacktest`) and turns the config into per-symbol arrays and constants for the bar loop.
 * Money is in the account's currency, rates are annual, `ppy` is bars per year (from
 * `cfg.periodsPerYear`, else from the median bar spacing: `usEquity` calendar for an all-stock
 * book, `24x7` otherwise).
 * @param cfg - a resolved config (see `resolveConfig`).
 * @throws ConfigError for a symbol without a known class (`symbolClass`), funding of an unknown or
 *   non-perpetual symbol (`prepareFunding`), regime sizing without regime labels, probability sizing
 *   without `pWin`, `targetUnit` without targets, the backtesting.py conventions without targets, the
 *   entryExit rule without entry flags or with targets.
 * @throws DataError for signals that do not line up with the bars (`checkSignals`), market arrays that
 *   do not match bars x symbols, bad funding series, no mu / sigma where the sizing needs them.
 * @example
 * const run = prepareRun(market, { mu, sigma, horizonBars: 30 }, resolveConfig({ defaultClass: 'crypto' }), {});
 * run.S * run.T; // bar-symbol steps the loop will run
 */
export function prepareRun(market: MarketArrays, signals: Signals, cfg: BacktestConfig, options: BacktestOptions): RunSetup {
  checkSignals(market, signals);
  const { symbols, ts, open, high, low, close, sessionEnd } = market;
  const S = symbols.length;
  const T = ts.length;
  if (open.length !== T * S || high.length !== T * S || low.length !== T * S || close.length !== T * S || sessionEnd.length !== T) {
    throw new DataError(`market arrays do not match ${T} bars x ${S} symbols`, { value: { open: open.length, close: close.length, sessionEnd: sessionEnd.length } });
  }
  const classes = symbols.map((sym) => symbolClass(cfg, sym));
  const rules = INSTRUMENT_CLASSES.map((c) => classRules(cfg, c));
  const cls = Uint8Array.from(classes, (c) => INSTRUMENT_CLASSES.indexOf(c));
  const lev = Float64Array.from(cls, (c) => rules[c].leverageMultiplier);
  const lot = Float64Array.from(cls, (c) => rules[c].lot);
  const longOnly = Uint8Array.from(cls, (c) => (rules[c].longOnly ? 1 : 0));
  const cashOnly = Uint8Array.from(cls, (c) => (rules[c].margin ? 0 : 1));
  const costs = {
    fee: Float64Array.from(cls, (c) => rules[c].feeBps / 1e4),
    fixedFee: Float64Array.from(cls, (c) => rules[c].fixedFee),
    slippage: Float64Array.from(cls, (c) => rules[c].slippageBps / 1e4),
  };
  const perps = [...cls.keys()].filter((s) => classes[s] === 'perp');
  const isPerp = Uint8Array.from(classes, (c) => (c === 'perp' ? 1 : 0));
  const funding = prepareFunding(options.funding ?? {}, symbols, classes);

  const ppy = cfg.periodsPerYear ?? periodsPerYearOf(medianBarMs(ts), classes.every((c) => c === 'stock') ? 'usEquity' : '24x7');
  const sizing = cfg.sizing.kind === 'regime' ? cfg.sizing.base : cfg.sizing;
  const regimeMult =
    cfg.sizing.kind === 'regime' ? Float64Array.of(cfg.sizing.multipliers.trend, cfg.sizing.multipliers.chop, cfg.sizing.multipliers.highVol, cfg.sizing.multipliers.shock) : null;
  if (regimeMult && !signals.regime) throw new ConfigError('regime sizing needs signals.regime labels (see classifyMarketRegimes)', { key: 'sizing.kind', value: 'regime' });
  const goalMode = signals.target !== undefined;
  const probability = sizing.kind === 'probability';
  if (probability && !goalMode && !signals.pWin) throw new ConfigError('probability sizing needs signals.pWin (the probability of a win per bar and symbol)', { key: 'sizing.kind', value: 'probability' });
  if (!goalMode && !probability && (signals.mu.length === 0 || signals.sigma.length === 0)) {
    throw new DataError('signals have no mu / sigma: give them, or targets (signals.target), or pWin with the probability sizing', { column: 'mu', value: signals.mu.length });
  }
  if (!goalMode && signals.targetUnit !== undefined) throw new ConfigError('targetUnit without signals.target', { key: 'targetUnit', value: signals.targetUnit });
  // backtesting.py conventions: orders on a change of target, sized at the fill (see the TSDoc).
  const preset = cfg.conventions === 'backtesting.py';
  if (preset && !goalMode) throw new ConfigError('the backtesting.py conventions take targets (targetSignals / ruleSignals): orders are fractions of equity sized at the fill', { key: 'conventions', value: cfg.conventions });
  const rule = cfg.rule;
  const entryExit = rule.kind === 'entryExit';
  if (entryExit && !signals.entry) throw new ConfigError('rule entryExit needs signals.entry flags', { key: 'rule.kind', value: 'entryExit' });
  if (entryExit && goalMode) throw new ConfigError('rule entryExit does not apply to targets: the targets say when to enter and leave', { key: 'rule.kind', value: 'entryExit' });
  const horizon = rule.kind === 'entryExit' ? rule.horizonBars : 0;
  const fillAtClose = cfg.fill === 'close';

  const ledger = new Ledger(cfg.capital, symbols, costs, ts, signals.score ?? null);
  const lastPx = new Float64Array(S).fill(NaN);
  const pend = new PendingOrders(S);
  const decisions = options.recordDecisions ? new Float64Array(T * S).fill(NaN) : null;
  const slIn = signals.stopLoss ?? null;
  const tpIn = signals.takeProfit ?? null;
  const brackets = slIn !== null || tpIn !== null;
  const sizer = new Sizer({
    symbols, T, close, mu: signals.mu, sigma: signals.sigma,
    regime: signals.regime ?? new Uint8Array(0),
    entry: signals.entry ?? new Int8Array(0),
    valid: signals.valid ?? null,
    sizingKind: sizingCode(sizing.kind),
    kellyFraction: sizing.kind === 'kelly' || sizing.kind === 'probability' ? sizing.fraction : 0,
    goal: signals.target ?? null,
    brackets,
    goalUnits: signals.targetUnit === 'units',
    pWin: goalMode ? null : probability ? signals.pWin! : null,
    payoff: signals.payoff ?? null,
    payoffRatio: sizing.kind === 'probability' ? sizing.payoff : 1,
    weight: sizing.kind === 'targetWeight' ? sizing.weight : sizing.kind === 'volTarget' ? sizing.annualVol / Math.sqrt(ppy / signals.horizonBars) : 0,
    followSign: (sizing.kind === 'targetWeight' || sizing.kind === 'volTarget') && sizing.direction === 'signal',
    regimeMult,
    sigmaFloor: cfg.sigmaFloor,
    capPerSymbol: cfg.limits.perSymbolCap,
    minTradeNotional: cfg.limits.minTradeNotional,
    minTradeFraction: cfg.limits.minTradeFraction,
    entryExit, horizon, fillAtClose,
    cls, oneClass: new Set(classes).size === 1, lev, lot, longOnly, cashOnly, isPerp, perps, costs,
    grossIntraday: Float64Array.from(rules, (r) => r.grossIntraday),
    grossAtClose: Float64Array.from(rules, (r) => r.grossAtClose),
    closeCap: Uint8Array.from(rules, (r) => (r.grossAtClose < r.grossIntraday ? 1 : 0)),
    lastPx, ledger, pending: pend, decisions,
  });
  return {
    cfg, symbols, classes, S, T, ts, open, high, low, close, sessionEnd,
    cashOnly, lot, costs, perps, funding, ppy,
    firstBar: signals.firstBar ?? 0,
    borrowRate: cfg.interest.borrowRateAnnual,
    cashRate: cfg.interest.cashRateAnnual,
    fillAtClose,
    stopLoss: rule.kind === 'entryExit' && rule.stopLoss !== null ? rule.stopLoss : 0,
    preset,
    goal: signals.target ?? new Float64Array(0),
    presetWeight: new Float64Array(preset ? S : 0).fill(NaN),
    presetLast: new Float64Array(preset ? S : 0).fill(NaN),
    brackets,
    slIn, tpIn,
    slLevel: new Float64Array(S).fill(NaN),
    tpLevel: new Float64Array(S).fill(NaN),
    recordPositions: options.recordPositions !== false,
    decisions, lastPx, ledger, pend, sizer,
    kill: new KillState(cfg.capital, ts, cfg.killSwitches),
  };
}
