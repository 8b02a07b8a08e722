/**
 * The shapes the live loop, its sources and the service share: one closed bar, a
 * source of them, and the payload of one live forecast.
 */
import type { OutlookSummary } from '../forecast/paths/summary';

/** One closed bar as a source delivers it. Prices in the quote currency, volume in units. */
export interface LiveBar {
  /** Bar open time, ms UTC. */
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Bars a source knows it missed (on reconnect), or the loop found missing between two bars. */
export interface GapReport {
  /** Open time of the last bar before the gap, ms UTC. */
  afterMs: number;
  /** Open time of the first bar after it, ms UTC (NaN when not known yet). */
  beforeMs: number;
  /** Session bars expected in between and not received. */
  missingBars: number;
  /** Who noticed: the loop (two bars apart) or a source (after a reconnect). */
  detectedBy: 'loop' | 'source';
}

/**
 * The time a source lives in: a replay runs a simulated market clock `speed` times faster than
 * the wall clock; exchange streams run on the wall clock (speed 1).
 */
export interface LiveClock {
  /** Market time now, ms UTC. */
  now(): number;
  /** Market ms per wall ms. */
  speed: number;
}

/** Where a source delivers: each closed bar, reconnect gaps, and log lines. */
export interface BarSink {
  /** Resolves when the loop has handled the bar (forecast written or the bar skipped). */
  bar(bar: LiveBar): Promise<void>;
  /** A gap a source knows of (a reconnect); the loop also finds gaps by itself from bar times. */
  gap(report: GapReport): void;
  log(line: string): void;
}

/** A stream of closed bars: a replay of a file or an exchange feed. */
export interface BarSource {
  /** `replay`, `binance`, `alpaca`. */
  readonly name: string;
  readonly clock: LiveClock;
  /** Runs until the source ends (a replay's last bar) or {@link BarSource.stop} is called. */
  run(sink: BarSink): Promise<void>;
  /** Stops delivering; `run` then resolves. Idempotent. */
  stop(): Promise<void>;
}

/** Recent bars with their session VWAP, as plain arrays (JSON). */
export interface LiveCandles {
  /** Bar open times, ms UTC. */
  ts: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  /** Session VWAP at each bar; null before any volume. */
  vwap: (number | null)[];
}

/** One live forecast: the summary of `quantbook forecast`, some of its paths, and recent candles. */
export interface LiveOutlook {
  summary: OutlookSummary;
  /** Up to `pathsKept` sampled close paths (first paths by index), `paths[i][h]` at step h + 1. */
  paths: number[][];
  candles: LiveCandles;
}
