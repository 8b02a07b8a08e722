/**
 * The realtime loop: bar sources (replay, exchange streams), a fixed bar buffer,
 * the fail-safe loop, and where its forecasts go (summary files, Redis).
 */
export { BarBuffer } from './buffer';
export { Histogram, LATENCY_BUCKETS_S } from './histogram';
export { LiveLoop, SKIP_REASONS } from './loop';
export type { ForecastAttempt, ForecastSink, LiveLoopOptions, LiveStats, SkipReason } from './loop';
export { ReplaySource, primeCount } from './replay';
export type { ReplayOptions } from './replay';
export { RedisPublishSink, SummaryFileSink, redisChannel } from './sinks';
export type { BarSink, BarSource, GapReport, LiveBar, LiveCandles, LiveClock, LiveOutlook } from './types';
export { AlpacaBarSource, BinanceKlineSource, backoffMs, binanceClosedKline } from './streams';
export type { AlpacaOptions, BinanceOptions, StreamOptions } from './streams';
