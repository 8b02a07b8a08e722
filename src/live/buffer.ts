/**
 * A fixed-capacity bar buffer on typed arrays: appends are O(1) amortised and the
 * memory is allocated once, so a loop that runs all day holds a flat footprint.
 */
import type { BarArrays } from '../data/bars';
import type { LiveBar } from './types';

const COLUMNS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;

/**
 * The last `capacity` bars of one symbol, oldest first. Storage is 2 x capacity per column: bars
 * are written at the end and, when the end is reached, the newest `capacity - 1` are moved to the
 * front, so the live window is always one contiguous range (no wrap-around to unroll).
 */
export class BarBuffer {
  readonly capacity: number;
  private readonly cols: Record<(typeof COLUMNS)[number], Float64Array>;
  private start = 0;
  private end = 0;

  /**
   * @param capacity - bars kept (the lookback plus the bars session features need), at least 2.
   * @throws RangeError for a capacity below 2 or not an integer.
   * @example new BarBuffer(2000).length // 0
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`buffer capacity must be an integer >= 2, got ${capacity}`);
    this.capacity = capacity;
    this.cols = Object.fromEntries(COLUMNS.map((c) => [c, new Float64Array(2 * capacity)])) as BarBuffer['cols'];
  }

  /** Bars held. */
  get length(): number {
    return this.end - this.start;
  }

  /** Open time of the newest bar, ms UTC; NaN when empty. */
  get lastTs(): number {
    return this.length === 0 ? NaN : this.cols.ts[this.end - 1];
  }

  /**
   * Appends one bar, dropping the oldest when full ("trim to the lookback").
   * @example buf.append({ ts: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 })
   */
  append(bar: LiveBar): void {
    if (this.end === this.cols.ts.length) {
      const keep = this.capacity - 1;
      for (const c of COLUMNS) this.cols[c].copyWithin(0, this.end - keep, this.end);
      this.start = 0;
      this.end = keep;
    }
    for (const c of COLUMNS) this.cols[c][this.end] = bar[c];
    this.end++;
    if (this.end - this.start > this.capacity) this.start++;
  }

  /**
   * Appends every bar of `arrays` (history), keeping the last `capacity`.
   * @example buf.appendArrays(historyArrays)
   */
  appendArrays(a: BarArrays): void {
    for (let i = Math.max(0, a.ts.length - this.capacity); i < a.ts.length; i++) {
      this.append({ ts: a.ts[i], open: a.open[i], high: a.high[i], low: a.low[i], close: a.close[i], volume: a.volume[i] });
    }
  }

  /**
   * A copy of the bars held, oldest first: a forecast works on the copy while new bars arrive.
   * @example buf.snapshot('BTC').close.length // buf.length
   */
  snapshot(symbol?: string): BarArrays {
    const cut = (c: (typeof COLUMNS)[number]) => this.cols[c].slice(this.start, this.end);
    return { ts: cut('ts'), open: cut('open'), high: cut('high'), low: cut('low'), close: cut('close'), volume: cut('volume'), ...(symbol ? { symbol } : {}) };
  }
}
