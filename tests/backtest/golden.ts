/**
 * A seeded synthetic market and a set of engine runs that between them reach every part of the
 * bar loop (fees, fixed fees, slippage, lots, interest, funding, every kill switch and action,
 * the entryExit rule's stops, brackets, targets as weights and units, the backtesting.py preset,
 * every sizing, mixed and single classes, missing bars, fills at the close), and a fingerprint of
 * each run's result that changes when any bit of it does. `engineGolden.test.ts` compares them
 * with `fixtures/engine-golden.json`, recorded from the engine before its speed work.
 */
import { createHash } from 'node:crypto';
import type { MarketArrays } from '../../src/backtest/market';
import type { BacktestOptions, BacktestResult } from '../../src/backtest/result';
import type { Signals } from '../../src/backtest/signals';
import { targetSignals } from '../../src/backtest/targets';
import { Rng } from '../../src/core/random';

const T = 2400;
const SYMBOLS = ['A', 'B', 'C', 'D', 'E'];
const S = SYMBOLS.length;
const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

/**
 * Hourly bars of five symbols (random walks with 1% moves, daily sessions of 24 bars, a few
 * bars missing), forecasts that persist for a while, and the other per-bar inputs (valid mask,
 * regimes, entry flags, scores, probabilities, payoffs, targets, bracket levels), all from one seed.
 */
export function goldenMarket(seed = 20261202): {
  market: MarketArrays;
  mu: Float64Array;
  sigma: Float64Array;
  valid: Uint8Array;
  regime: Uint8Array;
  entry: Int8Array;
  score: Float64Array;
  pWin: Float64Array;
  payoff: Float64Array;
  weights: Float64Array;
  units: Float64Array;
  stopLoss: Float64Array;
  takeProfit: Float64Array;
} {
  const rng = new Rng(seed);
  const n = T * S;
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const mu = new Float64Array(n);
  const sigma = new Float64Array(n);
  const valid = new Uint8Array(n);
  const regime = new Uint8Array(n);
  const entry = new Int8Array(n);
  const score = new Float64Array(n);
  const pWin = new Float64Array(n);
  const payoff = new Float64Array(n);
  const weights = new Float64Array(n).fill(NaN);
  const units = new Float64Array(n).fill(NaN);
  const stopLoss = new Float64Array(n).fill(NaN);
  const takeProfit = new Float64Array(n).fill(NaN);
  const price = Float64Array.from([100, 40, 20_000, 1_500, 0.6]);
  const view = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < S; s++) {
      const i = t * S + s;
      view[s] = 0.97 * view[s] + 0.004 * rng.normal();
      const o = price[s] * Math.exp(0.002 * rng.normal());
      const c = o * Math.exp(0.01 * rng.normal());
      const missing = t > 10 && rng.uniform() < 0.01;
      open[i] = missing ? NaN : o;
      close[i] = missing ? NaN : c;
      high[i] = missing ? NaN : Math.max(o, c) * (1 + 0.004 * rng.uniform());
      low[i] = missing ? NaN : Math.min(o, c) * (1 - 0.004 * rng.uniform());
      if (!missing) price[s] = c;
      mu[i] = view[s];
      sigma[i] = 0.003 + 0.03 * rng.uniform();
      valid[i] = rng.uniform() < 0.9 ? 1 : 0;
      regime[i] = rng.int(4);
      const u = rng.uniform();
      entry[i] = u < 0.05 ? 1 : u < 0.1 ? -1 : 0;
      score[i] = rng.uniform();
      pWin[i] = Math.min(1, Math.max(0, 0.5 + 10 * view[s]));
      payoff[i] = 0.5 + rng.uniform();
      if (t % 7 === s) {
        weights[i] = Math.round(100 * view[s]) / 10;
        units[i] = Math.round((weights[i] * 20_000) / price[s] / 0.001) * 0.001;
        stopLoss[i] = weights[i] > 0 ? price[s] * 0.98 : price[s] * 1.02;
        takeProfit[i] = weights[i] > 0 ? price[s] * 1.03 : price[s] * 0.97;
      }
    }
  }
  const ts = Float64Array.from({ length: T }, (_, t) => START + t * HOUR);
  const sessionEnd = new Uint8Array(T);
  for (let t = 23; t < T; t += 24) sessionEnd[t] = 1;
  sessionEnd[T - 1] = 1;
  return { market: { symbols: SYMBOLS, ts, open, high, low, close, sessionEnd }, mu, sigma, valid, regime, entry, score, pWin, payoff, weights, units,
    stopLoss, takeProfit };
}

/** Funding every 8 hours for the perpetuals D and E, with a spike above 1% now and then. */
function goldenFunding(ts: Float64Array): NonNullable<BacktestOptions['funding']> {
  const rng = new Rng(7);
  const times: number[] = [];
  for (let t = 0; t < ts.length; t += 8) times.push(ts[t] + 1);
  const series = (): { ts: Float64Array; rate: Float64Array } => ({
    ts: Float64Array.from(times),
    rate: Float64Array.from(times, () => (rng.uniform() < 0.01 ? 0.015 : 0.0004 * rng.normal())),
  });
  return { D: series(), E: series() };
}

export interface GoldenRun {
  name: string;
  signals: Signals;
  config: Record<string, unknown>;
  options: BacktestOptions;
}

const PAUSES = {
  maxDrawdown: { threshold: 0.04, action: { kind: 'pause', minutes: 600 } },
  dailyLoss: { threshold: 0.015, action: { kind: 'pauseRestOfDay' } },
  consecutiveLosses: { count: 4, action: { kind: 'pause', minutes: 120 } },
  fundingSpike: { absRate: 0.01, action: { kind: 'pause', minutes: 480 } },
};
const MIXED = { instruments: { A: 'stock', B: 'stock', C: 'crypto', D: 'perp', E: 'perp' } };
const COSTS = { stock: { fixedFee: 1, feeBps: 0.7, slippageBps: 1.5 }, crypto: { lot: 0.0001 }, perp: { feeBps: 4, lot: 0.01 } };

/** The runs, by name. */
export function goldenRuns(): { market: MarketArrays; runs: GoldenRun[] } {
  const g = goldenMarket();
  const { market } = g;
  const funding = goldenFunding(market.ts);
  const forecast: Signals = { mu: g.mu, sigma: g.sigma, horizonBars: 6 };
  const runs: GoldenRun[] = [
    {
      name: 'kelly one class, pauses, interest, decisions',
      signals: { ...forecast, score: g.score },
      config: { capital: 250_000, defaultClass: 'stock', killSwitches: { ...PAUSES, fundingSpike: null }, interest: { borrowRateAnnual: 0.08, cashRateAnnual: 0.02 } },
      options: { recordDecisions: true },
    },
    {
      name: 'kelly mixed classes, funding, fixed fees, lots',
      signals: forecast,
      config: { capital: 100_000, ...MIXED, classes: COSTS, killSwitches: PAUSES, interest: { borrowRateAnnual: 0.065, cashRateAnnual: 0.01 } },
      options: { funding, recordDecisions: true },
    },
    {
      name: 'fill at close, gross caps, no positions kept',
      signals: { ...forecast, valid: g.valid },
      config: { capital: 100_000, fill: 'close', ...MIXED, classes: { ...COSTS, stock: { ...COSTS.stock, grossAtClose: 0.5 } }, killSwitches: { ...PAUSES, maxDrawdown: { threshold: 0.06, action: { kind: 'pause', minutes: 300 }, peakReset: 'afterAnyPause' } } },
      options: { funding, recordPositions: false },
    },
    {
      name: 'entryExit rule with stops, validity mask, scores',
      signals: { ...forecast, entry: g.entry, valid: g.valid, score: g.score, firstBar: 30 },
      config: { capital: 50_000, defaultClass: 'perp', rule: { kind: 'entryExit', horizonBars: 12, stopLoss: 0.008 }, killSwitches: PAUSES },
      options: { funding, recordDecisions: true },
    },
    {
      name: 'regime sizing over volTarget',
      signals: { ...forecast, regime: g.regime, firstBar: 50 },
      config: { capital: 80_000, ...MIXED, sizing: { kind: 'regime', base: { kind: 'volTarget', annualVol: 0.3 }, multipliers: { chop: 0.5, shock: 0.2 } }, killSwitches: PAUSES },
      options: { funding },
    },
    {
      name: 'targetWeight by sign, minimum trade notional, per-symbol cap',
      signals: forecast,
      config: { capital: 120_000, defaultClass: 'crypto', sizing: { kind: 'targetWeight', weight: 0.3, direction: 'signal' }, limits: { perSymbolCap: 0.25, minTradeNotional: 500, minTradeFraction: 0 }, killSwitches: { maxDrawdown: null, dailyLoss: null, consecutiveLosses: null, fundingSpike: null } },
      options: {},
    },
    {
      name: 'probability sizing with payoffs',
      signals: { mu: new Float64Array(0), sigma: new Float64Array(0), horizonBars: 1, pWin: g.pWin, payoff: g.payoff },
      config: { capital: 100_000, ...MIXED, sizing: { kind: 'probability', fraction: 0.4 }, killSwitches: PAUSES },
      options: { funding },
    },
    {
      name: 'targets as weights with brackets',
      signals: targetSignals(market, { target: g.weights, stopLoss: g.stopLoss, takeProfit: g.takeProfit, score: g.score, firstBar: 5 }),
      config: { capital: 100_000, ...MIXED, classes: COSTS, killSwitches: PAUSES },
      options: { funding, recordDecisions: true },
    },
    {
      name: 'targets as units, fill at close',
      signals: targetSignals(market, { target: g.units, unit: 'units', takeProfit: g.takeProfit }),
      config: { capital: 100_000, fill: 'close', defaultClass: 'perp', killSwitches: PAUSES },
      options: { funding },
    },
    {
      // The bench's shape: one class, weights with NaN holds, no brackets, kill switches armed.
      name: 'targets as weights, one class, no brackets',
      signals: targetSignals(market, { target: g.weights }),
      config: { capital: 100_000, defaultClass: 'stock', classes: { stock: { feeBps: 0.5, slippageBps: 1 } }, limits: { perSymbolCap: 0.6 }, killSwitches: PAUSES },
      options: {},
    },
    {
      name: 'backtesting.py conventions',
      signals: targetSignals(market, { target: g.weights.map((w) => (w !== w ? NaN : Math.min(0.9, Math.abs(w)) * Math.sign(w))) }),
      config: { conventions: 'backtesting.py', capital: 10_000, defaultClass: 'stock', classes: { stock: { fixedFee: 0.5 } }, killSwitches: { maxDrawdown: null, dailyLoss: null, consecutiveLosses: null, fundingSpike: null } },
      options: {},
    },
    {
      name: 'default kill switches (stops)',
      signals: forecast,
      config: { capital: 100_000, defaultClass: 'stock', sizing: { kind: 'kelly', fraction: 1 } },
      options: {},
    },
  ];
  return { market, runs };
}

/** A number as an exact string: shortest round-trip decimal, and `-0`, `NaN`, `Infinity` spelt out. */
function exact(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

function canonical(v: unknown): unknown {
  if (typeof v === 'number') return exact(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, exact);
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]));
  return v;
}

/** SHA-256 (first 16 hex digits) of each field of a result, every number exact to the bit, and a few readable values. */
export function fingerprint(r: BacktestResult): Record<string, string | number> {
  const out: Record<string, string | number> = {
    finalEquity: exact(r.equity[r.equity.length - 1]),
    fills: r.fills,
    trades: r.trades.length,
    killEvents: r.killEvents.length,
  };
  for (const [k, v] of Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[`#${k}`] = createHash('sha256').update(JSON.stringify(canonical(v)) ?? 'undefined').digest('hex').slice(0, 16);
  }
  return out;
}
