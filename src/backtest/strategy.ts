/**
 * Strategies see the market through a view that ends at the current bar: by
 * construction they cannot read bar t+1 while deciding at bar t. `runStrategy`
 * walks the bars, asks the strategy for each bar's signals, and returns them as
 * the engine's precomputed arrays.
 */
import { ConfigError } from '../core/errors';
import { parseDuration } from '../data/interval';
import { medianBarMs, type MarketArrays } from './market';
import type { Signals } from './signals';

/** Price fields a view exposes. */
export type PriceField = 'open' | 'high' | 'low' | 'close';

/** The market up to and including bar `t`, and nothing after it. */
export interface MarketView {
  /** The current bar: the last one visible. */
  readonly t: number;
  readonly symbols: readonly string[];
  /** Bar open times 0..t (length t + 1). */
  times(): Float64Array;
  /** One symbol's prices 0..t (length t + 1; NaN where it had no bar). Read-only: do not write into it. */
  series(field: PriceField, s: number): Float64Array;
  /** One price `lag` bars back from t (lag >= 0). */
  at(field: PriceField, s: number, lag?: number): number;
  /**
   * The same market on coarser bars (`'30m'`, `'4h'`, or ms; a multiple of the bar spacing),
   * bucketed from the UTC epoch: only the coarse bars that have closed by the close of bar t.
   */
  timeframe(every: string | number): TimeframeView;
}

/** Coarser bars as seen at the current bar: those closed by its close, and nothing after. */
export interface TimeframeView {
  readonly everyMs: number;
  /** Coarse bars visible (closed): the last one ended at or before the current bar's close. */
  readonly count: number;
  /** Open times of the visible coarse bars (length `count`). */
  times(): Float64Array;
  /** One symbol's coarse prices (length `count`; NaN where it had no bar in the bucket). Read-only. */
  series(field: PriceField, s: number): Float64Array;
  /** One coarse price `lag` closed bars back (lag 0: the last closed one). */
  at(field: PriceField, s: number, lag?: number): number;
}

/** The row a strategy fills for the current bar (one slot per symbol). */
export interface SignalRow {
  mu: Float64Array;
  sigma: Float64Array;
  /** Entry flags for the entryExit rule (1 long, -1 short, 0 none). */
  entry: Int8Array;
  /** A value to report with each trade (e.g. pUp). */
  score: Float64Array;
}

/** A strategy: fills mu / sigma (and entry / score) for bar `view.t`. */
export interface Strategy {
  /** Horizon of mu and sigma, bars. */
  readonly horizonBars: number;
  /** Bars before which it makes no forecast (the engine does not trade them). Default 0. */
  readonly warmupBars?: number;
  /** Called once per bar from `warmupBars` on; the row arrives zeroed (sigma NaN: must be set). */
  onBar(view: MarketView, row: SignalRow): void;
}

const FIELDS: readonly PriceField[] = ['open', 'high', 'low', 'close'];

/**
 * The market bucketed into coarser bars from the UTC epoch: open = first open, high = max,
 * low = min, close = last close of the bars in the bucket; `visible[t]` = buckets whose end
 * (start + every) is at or before the close of bar t (`ts[t] + bar spacing`).
 */
class Timeframe {
  readonly starts: Float64Array;
  readonly bySymbol: Record<PriceField, Float64Array[]>;
  readonly visible: Int32Array;

  constructor(market: MarketArrays, readonly everyMs: number) {
    const { ts, symbols } = market;
    const S = symbols.length;
    const T = ts.length;
    const barMs = T > 1 ? medianBarMs(ts) : everyMs;
    if (!(everyMs > barMs) || everyMs % barMs !== 0) {
      throw new ConfigError(`a timeframe must be a multiple of the bar spacing (${barMs} ms) above it, not ${everyMs} ms`, { key: 'timeframe', value: everyMs });
    }
    const bucket = new Int32Array(T);
    const starts: number[] = [];
    for (let t = 0; t < T; t++) {
      const start = Math.floor(ts[t] / everyMs) * everyMs;
      if (starts.length === 0 || starts[starts.length - 1] !== start) starts.push(start);
      bucket[t] = starts.length - 1;
    }
    const K = starts.length;
    this.starts = Float64Array.from(starts);
    this.bySymbol = Object.fromEntries(FIELDS.map((f) => [f, symbols.map(() => new Float64Array(K).fill(NaN))])) as Record<PriceField, Float64Array[]>;
    for (let s = 0; s < S; s++) {
      const [o, h, l, c] = FIELDS.map((f) => this.bySymbol[f][s]);
      for (let t = 0; t < T; t++) {
        const i = t * S + s;
        if (!(market.close[i] > 0)) continue;
        const k = bucket[t];
        if (o[k] !== o[k]) o[k] = market.open[i];
        if (!(h[k] >= market.high[i])) h[k] = market.high[i];
        if (!(l[k] <= market.low[i])) l[k] = market.low[i];
        c[k] = market.close[i];
      }
    }
    this.visible = new Int32Array(T);
    let k = 0;
    for (let t = 0; t < T; t++) {
      while (k < K && this.starts[k] + everyMs <= ts[t] + barMs) k++;
      this.visible[t] = k;
    }
  }
}

class BoundedTimeframe implements TimeframeView {
  count = 0;
  constructor(private readonly tf: Timeframe) {}
  /** Moves to base bar t: the coarse bars closed by its close. */
  sync(t: number): this {
    this.count = this.tf.visible[t];
    return this;
  }
  get everyMs(): number {
    return this.tf.everyMs;
  }
  times(): Float64Array {
    return this.tf.starts.subarray(0, this.count);
  }
  series(field: PriceField, s: number): Float64Array {
    return this.tf.bySymbol[field][s].subarray(0, this.count);
  }
  at(field: PriceField, s: number, lag = 0): number {
    if (!(lag >= 0) || lag >= this.count) throw new ConfigError(`${this.count} coarse bars have closed: lags 0..${this.count - 1} can be read, not ${lag}`, { key: 'lag', value: lag });
    return this.tf.bySymbol[field][s][this.count - 1 - lag];
  }
}

/** The market view handed to strategies and rules (exported inside the package, for `ruleSignals`). */
export class BoundedView implements MarketView {
  t = 0;
  private readonly bySymbol: Record<PriceField, Float64Array[]>;
  private readonly timeframes = new Map<number, BoundedTimeframe>();

  constructor(private readonly market: MarketArrays) {
    const S = market.symbols.length;
    const T = market.ts.length;
    // Symbol-major copies, so that a series up to t is a zero-copy prefix.
    this.bySymbol = Object.fromEntries(
      FIELDS.map((f) => [
        f,
        market.symbols.map((_, s) => {
          const a = new Float64Array(T);
          const src = market[f];
          for (let t = 0; t < T; t++) a[t] = src[t * S + s];
          return a;
        }),
      ]),
    ) as Record<PriceField, Float64Array[]>;
  }

  get symbols(): readonly string[] {
    return this.market.symbols;
  }

  times(): Float64Array {
    return this.market.ts.subarray(0, this.t + 1);
  }

  series(field: PriceField, s: number): Float64Array {
    return this.bySymbol[field][s].subarray(0, this.t + 1);
  }

  at(field: PriceField, s: number, lag = 0): number {
    if (!(lag >= 0) || lag > this.t) throw new ConfigError(`a strategy at bar ${this.t} can read lags 0..${this.t}, not ${lag}`, { key: 'lag', value: lag });
    return this.bySymbol[field][s][this.t - lag];
  }

  timeframe(every: string | number): TimeframeView {
    const ms = typeof every === 'number' ? every : parseDuration(every);
    let v = this.timeframes.get(ms);
    if (v === undefined) {
      v = new BoundedTimeframe(new Timeframe(this.market, ms));
      this.timeframes.set(ms, v);
    }
    return v.sync(this.t);
  }
}

/**
 * Runs a strategy over every bar and collects its signals.
 *
 * @returns Signals with `firstBar = warmupBars`; bars before it hold mu 0, sigma NaN (never read).
 * @throws whatever the strategy throws; DataError from the engine later for NaN it leaves in a used slot.
 * @example
 * const signals = runStrategy(market, { horizonBars: 1, warmupBars: 20, onBar(view, row) { ... } });
 * runBacktest(market, signals, config);
 */
export function runStrategy(market: MarketArrays, strategy: Strategy): Signals {
  const S = market.symbols.length;
  const T = market.ts.length;
  const first = strategy.warmupBars ?? 0;
  const out: Signals = {
    mu: new Float64Array(T * S),
    sigma: new Float64Array(T * S).fill(NaN),
    entry: new Int8Array(T * S),
    score: new Float64Array(T * S).fill(NaN),
    horizonBars: strategy.horizonBars,
    firstBar: Math.min(first, T),
  };
  const view = new BoundedView(market);
  // The strategy writes into scratch rows, never into the full arrays, so it cannot touch other bars.
  const row: SignalRow = { mu: new Float64Array(S), sigma: new Float64Array(S), entry: new Int8Array(S), score: new Float64Array(S) };
  for (let t = first; t < T; t++) {
    view.t = t;
    row.mu.fill(0);
    row.sigma.fill(NaN);
    row.entry.fill(0);
    row.score.fill(NaN);
    strategy.onBar(view, row);
    out.mu.set(row.mu, t * S);
    out.sigma.set(row.sigma, t * S);
    out.entry!.set(row.entry, t * S);
    out.score!.set(row.score, t * S);
  }
  return out;
}
