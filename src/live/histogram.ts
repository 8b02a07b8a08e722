/**
 * A fixed-bucket histogram (Prometheus `histogram` semantics: cumulative `le` buckets,
 * a sum and a count) whose memory never grows, for forecast and request latencies.
 */

/** Latency bucket bounds in seconds: 5 ms to 30 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Observations counted into fixed buckets. */
export class Histogram {
  readonly bounds: readonly number[];
  /** counts[i]: observations <= bounds[i] and > bounds[i - 1]; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /**
   * @param bounds - increasing upper bounds (the +Inf bucket is implicit). Default {@link LATENCY_BUCKETS_S}.
   * @throws RangeError when the bounds are not strictly increasing.
   * @example new Histogram([0.1, 1]).count // 0
   */
  constructor(bounds: readonly number[] = LATENCY_BUCKETS_S) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i] > bounds[i - 1])) throw new RangeError('histogram bounds must increase');
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Counts one value (seconds for latencies).
   * @example h.observe(0.042)
   */
  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /**
   * Cumulative counts per bound, as Prometheus `_bucket{le=...}` lines want them (last: +Inf).
   * @example new Histogram([1]).cumulative() // [0, 0]
   */
  cumulative(): number[] {
    let acc = 0;
    return Array.from(this.counts, (c) => (acc += c));
  }
}
