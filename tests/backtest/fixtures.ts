/** Small hand-made markets for the backtest tests. */
import type { MarketArrays } from '../../src/backtest/market';
import type { Signals } from '../../src/backtest/signals';

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2024, 0, 2, 0, 0);

export interface Bars1 {
  open: number[];
  close: number[];
  high?: number[];
  low?: number[];
}

/** A market of hourly bars from T0; `sessionEnd` defaults to none but the last bar. */
export function market(bySymbol: Record<string, Bars1>, opts: { sessionEnd?: number[]; barMs?: number; start?: number } = {}): MarketArrays {
  const symbols = Object.keys(bySymbol);
  const S = symbols.length;
  const T = bySymbol[symbols[0]].close.length;
  const m = {
    symbols,
    ts: Float64Array.from({ length: T }, (_, t) => (opts.start ?? T0) + t * (opts.barMs ?? HOUR)),
    open: new Float64Array(T * S),
    high: new Float64Array(T * S),
    low: new Float64Array(T * S),
    close: new Float64Array(T * S),
    sessionEnd: new Uint8Array(T),
  };
  symbols.forEach((sym, s) => {
    const b = bySymbol[sym];
    for (let t = 0; t < T; t++) {
      m.open[t * S + s] = b.open[t];
      m.close[t * S + s] = b.close[t];
      m.high[t * S + s] = b.high?.[t] ?? Math.max(b.open[t], b.close[t]);
      m.low[t * S + s] = b.low?.[t] ?? Math.min(b.open[t], b.close[t]);
    }
  });
  if (opts.sessionEnd) for (const t of opts.sessionEnd) m.sessionEnd[t] = 1;
  else m.sessionEnd[T - 1] = 1;
  return m;
}

/** Flat prices: open = close = p for every bar. */
export function flat(T: number, p = 100): Bars1 {
  return { open: new Array(T).fill(p), close: new Array(T).fill(p) };
}

/** The same mu and sigma at every bar and symbol. */
export function constSignals(m: MarketArrays, mu: number | number[], sigma = 0.1, horizonBars = 1): Signals {
  const S = m.symbols.length;
  const n = m.ts.length * S;
  const muArr = new Float64Array(n);
  for (let i = 0; i < n; i++) muArr[i] = Array.isArray(mu) ? mu[i % S] : mu;
  return { mu: muArr, sigma: new Float64Array(n).fill(sigma), horizonBars };
}

/** Config base for the tests: 10,000 capital, crypto, kill switches off. */
export const NO_KILL = { maxDrawdown: null, dailyLoss: null, consecutiveLosses: null, fundingSpike: null };
export function cfg(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { capital: 10_000, defaultClass: 'crypto', killSwitches: NO_KILL, ...extra };
}
