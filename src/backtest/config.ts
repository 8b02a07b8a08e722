/**
 * The backtest configuration: one zod schema gives the types, the defaults and
 * the error messages. Every mode is a tagged union (`{ kind: 'kelly', fraction }`),
 * never a number whose meaning depends on its size.
 *
 * Units: every fraction is a plain fraction (0.6 = 60% of equity); rates are per
 * year (0.065 = 6.5% a year); costs are in basis points of traded notional plus a
 * fixed fee per order in account currency.
 */
import { z } from 'zod';
import { ownValue } from '../core/dict';
import { ConfigError } from '../core/errors';

/** What a kill switch does when it fires. Positions are flattened in every case. */
export const killActionSchema = z.discriminatedUnion('kind', [
  /** Flatten and never trade again in this run. */
  z.object({ kind: z.literal('stop') }),
  /** Flatten and stay flat for this many minutes of bar time. */
  z.object({ kind: z.literal('pause'), minutes: z.number().positive() }),
  /** Flatten and stay flat until the next session (UTC day for 24x7 markets) starts. */
  z.object({ kind: z.literal('pauseRestOfDay') }),
]);
export type KillAction = z.infer<typeof killActionSchema>;

const kellySizing = z.object({
  kind: z.literal('kelly'),
  /** Share of the full Kelly fraction: 0.5 is half-Kelly. */
  fraction: z.number().positive().default(0.5),
});
const targetWeightSizing = z.object({
  kind: z.literal('targetWeight'),
  /** Fraction of equity per symbol, before the leverage multiplier and limits. */
  weight: z.number(),
  /** `long`: always hold `weight`; `signal`: `weight * sign(mu)`. */
  direction: z.enum(['long', 'signal']).default('long'),
});
const volTargetSizing = z.object({
  kind: z.literal('volTarget'),
  /** Annualised volatility aimed at per symbol (0.15 = 15% a year). */
  annualVol: z.number().positive().default(0.15),
  /** `long`: always long; `signal`: sign of mu. */
  direction: z.enum(['long', 'signal']).default('signal'),
});
const probabilitySizing = z.object({
  kind: z.literal('probability'),
  /**
   * Binary Kelly from a probability of a win `p` (signals `pWin`) and a payoff ratio `b`
   * (win / loss size; signals `payoff` per bar, else this): `f = fraction * (p - (1 - p) / b)`;
   * a negative `f` is a short (cut to flat in a long-only class).
   */
  fraction: z.number().positive().default(0.5),
  payoff: z.number().positive().default(1),
});
const baseSizingSchema = z.discriminatedUnion('kind', [kellySizing, targetWeightSizing, volTargetSizing, probabilitySizing]);

/** Position multipliers per regime label (see `classifyRegimes`). */
export const regimeMultipliersSchema = z.object({
  trend: z.number().min(0).default(1),
  chop: z.number().min(0).default(0.3),
  highVol: z.number().min(0).default(0.5),
  shock: z.number().min(0).default(0),
});
export type RegimeMultipliers = z.infer<typeof regimeMultipliersSchema>;

const regimeSizing = z.object({
  kind: z.literal('regime'),
  /** The sizing whose target is scaled by the regime multiplier. */
  base: baseSizingSchema,
  multipliers: regimeMultipliersSchema.prefault({}),
});

/** How a target fraction of equity is chosen per bar and symbol. */
export const sizingSchema = z.discriminatedUnion('kind', [kellySizing, targetWeightSizing, volTargetSizing, probabilitySizing, regimeSizing]);
export type Sizing = z.infer<typeof sizingSchema>;
export type BaseSizing = z.infer<typeof baseSizingSchema>;

/** Rules and costs of one instrument class. */
export const instrumentClassSchema = z.object({
  /** Multiplies the sizing target before any limit (4 for stocks, 1 for crypto). */
  leverageMultiplier: z.number().positive(),
  /** Cap on the class's gross exposure / equity during the session. */
  grossIntraday: z.number().positive(),
  /** Cap at the session's last bar; positions are reduced at that bar's close to meet it. */
  grossAtClose: z.number().positive(),
  /** Short targets are cut to zero. */
  longOnly: z.boolean(),
  /** Quantities are rounded toward zero to a multiple of this. */
  lot: z.number().positive(),
  /** May buy with borrowed cash (interest accrues); if false, buys are limited by cash. */
  margin: z.boolean(),
  feeBps: z.number().min(0),
  /** Fixed fee per filled order, account currency. */
  fixedFee: z.number().min(0),
  slippageBps: z.number().min(0),
});
export type InstrumentClass = z.infer<typeof instrumentClassSchema>;

/** The instrument classes the engine knows. */
export const INSTRUMENT_CLASSES = ['stock', 'crypto', 'perp'] as const;
export type InstrumentClassName = (typeof INSTRUMENT_CLASSES)[number];

/** Default rules per class: US margin account, spot crypto, USDT-margined perpetual. */
export const DEFAULT_CLASSES: Record<InstrumentClassName, InstrumentClass> = {
  stock: { leverageMultiplier: 4, grossIntraday: 4, grossAtClose: 2, longOnly: false, lot: 1, margin: true, feeBps: 0.5, fixedFee: 0, slippageBps: 1 },
  crypto: { leverageMultiplier: 1, grossIntraday: 1, grossAtClose: 1, longOnly: true, lot: 0.001, margin: false, feeBps: 10, fixedFee: 0, slippageBps: 2 },
  perp: { leverageMultiplier: 1, grossIntraday: 1, grossAtClose: 1, longOnly: false, lot: 0.001, margin: true, feeBps: 5, fixedFee: 0, slippageBps: 2 },
};

const classOverride = instrumentClassSchema.partial().optional();
const classOverrides = z.object({ stock: classOverride, crypto: classOverride, perp: classOverride }).strict();

const killSwitchesSchema = z.object({
  /**
   * Fires at the first bar whose closing equity is `threshold` or more below the running peak
   * of closing equity since the start of the run. Another switch's pause never resets the peak.
   * `peakReset` says when it does: `afterOwnPause` (default) resets it to the equity at which
   * trading resumes after a pause this switch itself caused (otherwise a `pause` action would
   * fire again at once); `afterAnyPause` also after the other switches' pauses, which lets a run
   * fall past the threshold step by step (the engine's behaviour before this option existed).
   * With the default `stop` action the peak is never reset.
   */
  maxDrawdown: z
    .object({
      threshold: z.number().positive().max(1).default(0.15),
      action: killActionSchema.default({ kind: 'stop' }),
      peakReset: z.enum(['afterOwnPause', 'afterAnyPause']).default('afterOwnPause'),
    })
    .nullable()
    .prefault({}),
  /** Fires when equity is this fraction below the previous session's closing equity. */
  dailyLoss: z
    .object({ threshold: z.number().positive().max(1).default(0.03), action: killActionSchema.default({ kind: 'pauseRestOfDay' }) })
    .nullable()
    .prefault({}),
  /** Fires after this many losing round-trip trades in a row. */
  consecutiveLosses: z
    .object({ count: z.number().int().positive().default(5), action: killActionSchema.default({ kind: 'pauseRestOfDay' }) })
    .nullable()
    .prefault({}),
  /** Fires when a funding rate of a traded perpetual has |rate| above this (0.01 = 1% per funding period). */
  fundingSpike: z
    .object({ absRate: z.number().positive().default(0.01), action: killActionSchema.default({ kind: 'pause', minutes: 480 }) })
    .nullable()
    .prefault({}),
}).strict();

/** When positions are decided and left. */
export const ruleSchema = z.discriminatedUnion('kind', [
  /** Re-size every symbol at every bar to the sizing target (subject to the minimum trade). */
  z.object({ kind: z.literal('rebalance') }),
  /**
   * Enter when the signal's `entry` flag is set and the symbol is flat; hold without
   * re-sizing; leave after `horizonBars` bars or when the stop is touched.
   */
  z.object({
    kind: z.literal('entryExit'),
    horizonBars: z.number().int().positive(),
    /** Stop distance from the entry fill price as a fraction (0.01 = 1%); null for none. */
    stopLoss: z.number().positive().lt(1).nullable().default(null),
  }),
]);
export type Rule = z.infer<typeof ruleSchema>;

/**
 * Largest starting capital accepted (1e12 in the account currency, a trillion): far above any
 * account, and far enough below the float limit that notional x price x fees cannot overflow
 * to Infinity (capital 1e308 made every equity value NaN).
 */
export const MAX_CAPITAL = 1e12;

/** The whole backtest configuration, as users write it (YAML / JSON / object). */
export const backtestConfigSchema = z.object({
  /** Starting cash, account currency; finite, > 0 and at most {@link MAX_CAPITAL}. */
  capital: z.number().positive().max(MAX_CAPITAL, `capital must be at most ${MAX_CAPITAL} (account currency)`).default(100_000),
  /** `nextOpen`: orders decided at bar t fill at bar t+1's open; `close`: at bar t's close. */
  fill: z.enum(['nextOpen', 'close']).default('nextOpen'),
  sizing: sizingSchema.prefault({ kind: 'kelly' }),
  rule: ruleSchema.default({ kind: 'rebalance' }),
  limits: z
    .object({
      /** |position notional| / equity per symbol. */
      perSymbolCap: z.number().positive().default(0.6),
      /** Orders below this notional (account currency) are skipped, except those closing a position. */
      minTradeNotional: z.number().min(0).default(0),
      /** Orders below this fraction of equity are skipped, except those closing a position. */
      minTradeFraction: z.number().min(0).default(0.005),
    })
    .strict()
    .prefault({}),
  /** Per-class overrides of `DEFAULT_CLASSES`. */
  classes: classOverrides.prefault({}),
  /** Symbol -> class name. */
  instruments: z.record(z.string(), z.string()).default({}),
  /** Class of symbols not listed in `instruments`; null makes an unlisted symbol an error. */
  defaultClass: z.string().nullable().default(null),
  interest: z
    .object({
      /** Charged on borrowed cash by elapsed calendar time (0.065 = 6.5% a year). */
      borrowRateAnnual: z.number().min(0).default(0.065),
      /** Earned on positive cash. */
      cashRateAnnual: z.number().min(0).default(0),
    })
    .strict()
    .prefault({}),
  killSwitches: killSwitchesSchema.prefault({}),
  /** Below this sigma a forecast's volatility is floored (per forecast horizon, fraction of price). */
  sigmaFloor: z.number().positive().default(0.005),
  /**
   * `default`: this engine's conventions; `backtesting.py`: kernc/backtesting.py's (targets only:
   * a target change is an all-in order sized at the next open from the cash after closing the
   * previous position, in whole lots; open trades closed at the last close; statistics from
   * geometric mean daily returns). See `runBacktest` and the README's conventions table.
   */
  conventions: z.enum(['default', 'backtesting.py']).default('default'),
  /** Periods per year for annualisation; null derives it from bar spacing and calendar. */
  periodsPerYear: z.number().positive().nullable().default(null),
}).strict();

/** The configuration as written (every field optional). */
export type BacktestConfigInput = z.input<typeof backtestConfigSchema>;
/** The configuration with every default filled in. */
export type BacktestConfig = z.output<typeof backtestConfigSchema>;

/**
 * Parses and checks a backtest configuration; fills defaults.
 *
 * Beyond the schema it rejects contradictory limits: `grossAtClose > grossIntraday`,
 * a cash-only class (`margin: false`) with gross caps above 1, a minimum trade at
 * or above the per-symbol cap, a negative target weight for a long-only class,
 * and unknown class names.
 *
 * @param input - a config object (from YAML, JSON or code); `undefined` gives all defaults.
 * @param source - file name for error messages.
 * @returns the resolved config.
 * @throws ConfigError naming the key (`limits.perSymbolCap`, `classes.stock.grossAtClose`, ...).
 * @example
 * resolveConfig({ sizing: { kind: 'kelly', fraction: 0.25 } }).limits.perSymbolCap; // 0.6
 */
export function resolveConfig(input: unknown = {}, source?: string): BacktestConfig {
  const parsed = backtestConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.map(String).join('.');
    throw new ConfigError(`invalid backtest config: ${issue.message}`, { file: source, key: key || undefined });
  }
  const cfg = parsed.data;
  for (const name of INSTRUMENT_CLASSES) {
    const c = classRules(cfg, name);
    if (c.grossAtClose > c.grossIntraday) {
      throw new ConfigError(`grossAtClose (${c.grossAtClose}) above grossIntraday (${c.grossIntraday}): contradictory limits`, {
        file: source,
        key: `classes.${name}.grossAtClose`,
      });
    }
    if (!c.margin && c.grossIntraday > 1) {
      throw new ConfigError(`class without margin cannot hold gross exposure above 1x (grossIntraday ${c.grossIntraday})`, {
        file: source,
        key: `classes.${name}.grossIntraday`,
      });
    }
  }
  if (cfg.limits.minTradeFraction >= cfg.limits.perSymbolCap) {
    throw new ConfigError('minTradeFraction at or above perSymbolCap: no order could ever be placed', {
      file: source,
      key: 'limits.minTradeFraction',
      value: cfg.limits.minTradeFraction,
    });
  }
  for (const [symbol, cls] of Object.entries(cfg.instruments)) checkClassName(cls, `instruments.${symbol}`, source);
  if (cfg.defaultClass !== null) checkClassName(cfg.defaultClass, 'defaultClass', source);
  const base = cfg.sizing.kind === 'regime' ? cfg.sizing.base : cfg.sizing;
  if (base.kind === 'targetWeight' && base.weight < 0) {
    const longOnly = usedClasses(cfg).filter((n) => classRules(cfg, n).longOnly);
    if (longOnly.length > 0) {
      throw new ConfigError(`negative target weight with long-only class ${longOnly[0]}`, { file: source, key: 'sizing.weight', value: base.weight });
    }
  }
  return cfg;
}

function checkClassName(name: string, key: string, source?: string): void {
  if (!(INSTRUMENT_CLASSES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown instrument class "${name}" (known: ${INSTRUMENT_CLASSES.join(', ')})`, { file: source, key, value: name });
  }
}

function usedClasses(cfg: BacktestConfig): InstrumentClassName[] {
  const names = new Set<string>(Object.values(cfg.instruments));
  if (cfg.defaultClass !== null) names.add(cfg.defaultClass);
  return [...names] as InstrumentClassName[];
}

/**
 * The rules of one class: the defaults with the config's overrides applied.
 * @example
 * classRules(resolveConfig({}), 'stock').grossAtClose; // 2
 */
export function classRules(cfg: BacktestConfig, name: InstrumentClassName): InstrumentClass {
  return { ...DEFAULT_CLASSES[name], ...stripUndefined(cfg.classes[name] ?? {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The class of a symbol: `instruments[symbol]`, else `defaultClass`.
 * @throws ConfigError when the symbol has no class.
 * @example
 * symbolClass(resolveConfig({ defaultClass: 'crypto' }), 'ETH_BTC'); // 'crypto'
 */
export function symbolClass(cfg: BacktestConfig, symbol: string): InstrumentClassName {
  // An own key only: a symbol named `constructor` or `toString` must not find Object's.
  const cls = ownValue(cfg.instruments, symbol) ?? cfg.defaultClass;
  if (cls === null || cls === undefined) {
    throw new ConfigError(`symbol ${symbol} has no instrument class: list it under instruments or set defaultClass (--class on the command line)`, {
      key: `instruments.${symbol}`,
      symbol,
    });
  }
  return cls as InstrumentClassName;
}
